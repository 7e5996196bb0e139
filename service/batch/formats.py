"""Input formats and compression: which reader a file needs and how to open it as a stream."""

from __future__ import annotations

import glob
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from service.batch.errors import BatchError
from training.textfiles import (
    COMPRESSIONS,
    FORMAT_NAMES,
    FORMATS,
    Encoding,
    UnreadableFile,
    check_plausible,
    choose_delimiter,
    choose_encoding,
    file_format,
    open_decompressed,
    read_sample,
)

_BLOCK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file: its path, format (csv/tsv/jsonl/json/parquet) and compression, and
    (once `with_text_format` has looked) its text encoding, CSV delimiter and lines before the
    header (an Excel `sep=` line)."""

    path: Path
    format: str
    compression: str | None
    encoding: Encoding | None = None
    delimiter: str | None = None
    skip_lines: int = 0

    def __str__(self) -> str:
        return str(self.path)


def describe(path: Path, fmt: str | None = None) -> InputFile:
    """The format and compression of `path`, from its suffixes unless `fmt` is given."""
    fmt, compression = file_format(path, fmt)
    if fmt is None:
        known = ", ".join(sorted(FORMATS)) + " (optionally + " + ", ".join(COMPRESSIONS) + ")"
        raise BatchError(
            f"{path}: unknown input format {''.join(path.suffixes) or '(no suffix)'!r}; "
            f"expected {known}, or pass --format {'|'.join(FORMAT_NAMES)}"
        )
    return InputFile(path, fmt, compression)


def find_inputs(patterns: list[str], fmt: str | None = None) -> list[InputFile]:
    """Files named by paths, globs and directories (searched recursively), in a stable order."""
    found: dict[Path, InputFile] = {}
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                inner = candidate.relative_to(path).parts
                hidden = any(part.startswith(".") for part in inner)
                wanted = candidate.is_file() and not hidden and not _in_parts(candidate)
                if wanted and _known(candidate, fmt):
                    found.setdefault(candidate, describe(candidate, fmt))
        elif path.is_file():
            found.setdefault(path, describe(path, fmt))
        elif glob.has_magic(pattern):
            matches = sorted(Path(m) for m in glob.glob(pattern, recursive=True))
            files = [m for m in matches if m.is_file() and not _in_parts(m)]
            if not files:
                raise BatchError(f"{pattern}: no file matches this pattern")
            for match in files:
                found.setdefault(match, describe(match, fmt))
        else:
            raise BatchError(f"{pattern}: no such file or directory")
    if not found:
        raise BatchError(f"no input files with a known format in {', '.join(patterns)}")
    return list(found.values())


def _in_parts(path: Path) -> bool:
    """True inside a batch job's `<output>.parts/` directory: those files are not input."""
    return any(parent.name.endswith(".parts") for parent in path.parents)


def _known(path: Path, fmt: str | None) -> bool:
    try:
        describe(path, fmt)
    except BatchError:
        return False
    return True


class CountingReader(io.RawIOBase):
    """A raw file that remembers how many (compressed) bytes were read: the progress measure."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.stream.readinto(buffer)
        self.consumed += count or 0
        return count

    def close(self) -> None:
        self.stream.close()
        super().close()


def open_binary(source: InputFile) -> tuple[BinaryIO, CountingReader]:
    """The decompressed byte stream of `source` and the counter of raw bytes consumed."""
    raw = CountingReader(open(source.path, "rb"))  # noqa: SIM115 - closed by the caller
    return open_decompressed(io.BufferedReader(raw, _BLOCK), source.compression), raw


def open_text(source: InputFile) -> tuple[io.TextIOWrapper, CountingReader]:
    """The decompressed text stream (its encoding; UTF-8 by default, BOM dropped)."""
    binary, raw = open_binary(source)
    codec = source.encoding.codec if source.encoding else "utf-8-sig"
    return io.TextIOWrapper(binary, encoding=codec, newline=""), raw


def with_text_format(
    source: InputFile, encoding: str | None = None, delimiter: str | None = None
) -> InputFile:
    """`source` with the encoding and delimiter `training.textfiles` tells from its first MiB."""
    if source.format == "parquet":
        return source
    binary, _ = open_binary(source)
    try:
        with binary:
            sample = read_sample(binary)
        chosen = choose_encoding(sample, str(source), encoding)
        head = sample[: 1 << 16].decode(chosen.codec, errors="ignore")
        if chosen.detected:
            check_plausible(sample.decode(chosen.codec, errors="replace"), str(source), chosen)
        found, skip = None, 0
        if source.format in ("csv", "tsv"):
            found, skip = choose_delimiter(head, str(source), source.format, delimiter)
    except UnreadableFile as error:
        raise BatchError(str(error)) from None
    except (OSError, EOFError) as error:
        raise BatchError(f"{source}: cannot read: {error}") from None
    return replace(source, encoding=chosen, delimiter=found, skip_lines=skip)


def is_json_array(source: InputFile) -> bool:
    """True when a .json file holds one array; otherwise it is JSON Lines (like Quotebank)."""
    stream, _ = open_text(source)
    with stream:
        while True:
            char = stream.read(1)
            if not char or not char.isspace():
                return char == "["


def iter_json_array(stream: io.TextIOBase, source: InputFile) -> Iterator[object]:
    """The elements of a top-level JSON array, decoded incrementally (memory: one block)."""
    decoder = json.JSONDecoder()
    buffer, position, index, ended = "", 0, 0, False

    def more() -> bool:
        nonlocal buffer, position, ended
        block = stream.read(_BLOCK)
        buffer, position, ended = buffer[position:] + block, 0, not block
        return bool(block)

    opened = False
    while True:
        while position < len(buffer) and (buffer[position].isspace() or buffer[position] == ","):
            position += 1
        if position >= len(buffer):
            if not more():
                raise BatchError(f"{source}: element {index + 1}: the JSON array is not closed")
            continue
        if not opened:
            if buffer[position] != "[":
                raise BatchError(f"{source}: expected a JSON array")
            opened, position = True, position + 1
            continue
        if buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as error:
            if not ended:
                more()
                continue
            raise BatchError(f"{source}: element {index + 1}: invalid JSON ({error.msg})") from None
        if end >= len(buffer) and not ended:
            more()  # a value at the very end of the buffer may be cut short: decode it whole
            continue
        yield value
        index, position = index + 1, end
