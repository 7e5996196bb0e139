"""Input formats and compression: which reader a file needs and how to open it as a stream."""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import json
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from service.batch.errors import BatchError

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMAT_NAMES = ("csv", "tsv", "jsonl", "json", "parquet")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file: its path, format (csv/tsv/jsonl/json/parquet) and compression."""

    path: Path
    format: str
    compression: str | None

    def __str__(self) -> str:
        return str(self.path)


def describe(path: Path, fmt: str | None = None) -> InputFile:
    """The format and compression of `path`, from its suffixes unless `fmt` is given."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if fmt is None:
        fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt not in FORMAT_NAMES:
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
    buffered = io.BufferedReader(raw, _BLOCK)
    if source.compression == "gzip":
        return gzip.GzipFile(fileobj=buffered), raw
    if source.compression == "bz2":
        return bz2.BZ2File(buffered), raw
    if source.compression == "xz":
        return lzma.LZMAFile(buffered), raw
    if source.compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(buffered, closefd=True)
        return io.BufferedReader(reader, _BLOCK), raw
    return buffered, raw


def open_text(source: InputFile) -> tuple[io.TextIOWrapper, CountingReader]:
    """The decompressed text stream (UTF-8, BOM dropped) and its raw byte counter."""
    binary, raw = open_binary(source)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""), raw


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
