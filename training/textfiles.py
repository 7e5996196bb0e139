"""How input files are read: one rule for `stance train`, `evaluate` and `score`.

Format and compression come from the suffix (`.csv .tsv .tab .jsonl .ndjson .json .parquet
.pq`, optionally `.gz .bz2 .xz .zst`), or are given.

Encoding of text files (CSV, TSV, JSON):
1. `--encoding NAME` when given;
2. UTF-8 (a BOM is dropped), or UTF-16 when the file starts with a UTF-16 BOM;
3. else detected (charset-normalizer) among the common legacy encodings only. When several
   give equally tidy text (the same mess ratio), the earlier one in `COMMON_ENCODINGS` wins:
   cp1252 (Western Europe, the Americas: what Excel writes there) before cp1250 (Central
   Europe), cp1251 (Cyrillic), and so on. The choice is always reported. Known limit: Turkish
   cp1254 differs from cp1252 in six letters only and is read as cp1252 unless given.
   A detected encoding must give plausible text: control characters, the spacing accents that
   a wrong Central European guess produces (ˇ ˘ ˙ ˛ ˝), unassigned code points and words that
   mix Latin with Cyrillic or Greek letters stop the run with the file, line and column, and a
   hint to pass `--encoding`.

Delimiter of CSV files: `--delimiter` when given; `.tsv`/`.tab` files use tabs; an Excel
`sep=;` first line names it; else the one of `,` `;` tab `|` that splits the header into
columns and the first rows into as many. When two candidates both do, the run stops and asks
for `--delimiter`.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard
from charset_normalizer import from_bytes

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
COMMON_ENCODINGS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "cp1255",
    "cp1256",
    "cp874",
    "koi8_r",
    "koi8_u",
    "mac_roman",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
)
DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 1 << 20
# Mess ratios this close count as equal (rounding); charset-normalizer's language coherence is
# not used: on a short text it prefers cp1250 for French or Spanish and mac_roman for Portuguese.
_CHAOS_MARGIN = 0.0005
# Controls (C0 but tab and line ends, DEL, C1), private use, and ˇ ˘ ˙ ˛ ˝ (cp1250's letters in
# the places of cp1252's ¡ ¢ ÿ ² ½).
_UNLIKELY = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\u02c7\u02d8\u02d9\u02db\u02dd]"
)
_NON_ASCII_WORD = re.compile(r"\w*[^\x00-\x7f]\w*")
_SEP_LINE = re.compile(r"sep=(.)\r?\n")


class UnreadableFile(ValueError):
    """A file that cannot be read as text: where (file, 1-based line and column) and why."""

    def __init__(self, file: str, line: int, column: int | None, message: str):
        self.file, self.line, self.column, self.message = file, line, column, message
        where = f"{file}:{line}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Encoding:
    """The encoding a file is read with, and whether it was detected rather than UTF or given."""

    name: str
    detected: bool = False

    @property
    def codec(self) -> str:
        """The Python codec: UTF-8 drops a BOM."""
        return "utf-8-sig" if self.name == "utf-8" else self.name

    def describe(self) -> str:
        how = "detected; pass --encoding to choose another" if self.detected else "as given"
        return f"read as {self.name} ({how})"


def file_format(path: Path, fmt: str | None = None) -> tuple[str | None, str | None]:
    """The format (None: unknown) and compression of `path`, from its suffixes unless given."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if fmt is None:
        fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    return (fmt if fmt in FORMAT_NAMES else None), compression


def open_decompressed(stream: BinaryIO, compression: str | None) -> BinaryIO:
    """The decompressed bytes of `stream` (closing the result closes `stream`)."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream)
    if compression == "bz2":
        return bz2.BZ2File(stream)
    if compression == "xz":
        return lzma.LZMAFile(stream)
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(stream, closefd=True)
        return io.BufferedReader(reader, _SAMPLE_BYTES)
    return stream


def read_sample(stream: BinaryIO) -> bytes:
    """The first MiB of a (decompressed) stream: what encoding and delimiter are told from."""
    return stream.read(_SAMPLE_BYTES)


def choose_encoding(sample: bytes, file: str, given: str | None = None) -> Encoding:
    """The encoding of a file from its first bytes (or all of them), by the module's rule."""
    if given:
        try:
            return Encoding(codecs.lookup(given).name)
        except LookupError:
            raise UnreadableFile(file, 1, None, f"unknown encoding {given!r}") from None
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < _SAMPLE_BYTES)
        return Encoding("utf-8")
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(sample, cp_isolation=list(COMMON_ENCODINGS)))
    if not matches:
        line, column = _position(sample, _first_non_utf8(sample))
        raise UnreadableFile(
            file, line, column, "not UTF-8, nor a common legacy encoding; pass --encoding"
        )
    best = min(match.chaos for match in matches)
    close = [  # the encodings whose text is as little messy as the best's (charset-normalizer)
        name
        for match in matches
        if match.chaos <= best + _CHAOS_MARGIN
        for name in match.could_be_from_charset
        if name in COMMON_ENCODINGS
    ]
    plausible = [n for n in close if _first_implausible(sample.decode(n, errors="replace")) is None]
    return Encoding(next(e for e in COMMON_ENCODINGS if e in (plausible or close)), detected=True)


def decode(raw: bytes, file: str, encoding: Encoding) -> str:
    """The text of `raw`; UnreadableFile naming line and column when it does not decode or,
    for a detected encoding, gives implausible characters."""
    try:
        text = raw.decode(encoding.codec)
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, error.start) + 1
        raise _undecodable(
            raw[line_start:], error.start - line_start, file, line, encoding
        ) from None
    if encoding.detected:
        check_plausible(text, file, encoding)
    return text


def check_plausible(text: str, file: str, encoding: Encoding) -> None:
    """Stop on characters a wrong encoding guess produces (see the module docstring)."""
    index = _first_implausible(text)
    if index is not None:
        _implausible(text, index, file, encoding)


def _first_implausible(text: str) -> int | None:
    """Where `text` has a control or private-use character, a spacing accent of a wrong
    Central European guess, or a word mixing Latin with Cyrillic or Greek letters."""
    found = _UNLIKELY.search(text)
    if found:
        return found.start()
    for word in _NON_ASCII_WORD.finditer(text):
        if len({_script(c) for c in word.group() if c.isalpha()} - {None}) > 1:
            return word.start()
    return None


def locate_decode_error(stream: BinaryIO, file: str, encoding: Encoding) -> UnreadableFile:
    """Where a stream stops decoding (read again from the start, line by line)."""
    decoder = codecs.getincrementaldecoder(encoding.codec)()
    number = 0
    for number, line in enumerate(stream, start=1):
        try:
            decoder.decode(line)
        except UnicodeDecodeError as error:
            return _undecodable(line, error.start, file, number, encoding, sampled=True)
    return UnreadableFile(file, max(number, 1), None, f"not valid {encoding.name}")


def choose_delimiter(head: str, file: str, fmt: str, given: str | None = None) -> tuple[str, int]:
    """The delimiter of a CSV file and how many lines precede its header (a `sep=` line)."""
    if given:
        named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
        delimiter = named.get(given.lower(), given)
        if len(delimiter) != 1:
            raise UnreadableFile(file, 1, None, f"--delimiter must be one character: {given!r}")
        return delimiter, 0
    if fmt == "tsv":
        return "\t", 0
    hint = _SEP_LINE.match(head)
    if hint:
        return hint.group(1), 1
    fitting = [d for d in DELIMITERS if _splits_evenly(head, d)]
    if len(fitting) > 1:
        shown = " and ".join(repr(d) for d in fitting)
        raise UnreadableFile(
            file, 1, None, f"cannot tell the delimiter: {shown} both split the header and the "
            "first rows alike; pass --delimiter",
        )  # fmt: skip
    return (fitting[0] if fitting else ","), 0


def _splits_evenly(head: str, delimiter: str) -> bool:
    """True when `delimiter` gives the header 2+ columns and the first rows as many."""
    lines = head.splitlines(keepends=True)[:51]
    complete = lines[:-1] if len(lines) > 50 else lines
    try:
        rows = [r for r in csv.reader(io.StringIO("".join(complete)), delimiter=delimiter) if r]
    except csv.Error:
        return False
    if not rows or len(rows[0]) < 2:
        return False
    whole = rows[1:-1] if len(rows) > 2 else rows[1:]  # the last row may be cut by the sample
    return all(len(row) == len(rows[0]) for row in whole)


def _implausible(text: str, index: int, file: str, encoding: Encoding) -> None:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    char = text[index]
    name = unicodedata.name(char, unicodedata.category(char))
    others = ", ".join(e for e in COMMON_ENCODINGS[:3] if e != encoding.name)
    raise UnreadableFile(
        file, line, column, f"read as {encoding.name} (detected), the text has the unlikely "
        f"character {char!r} (U+{ord(char):04X} {name}): the file is probably in another "
        f"encoding; pass --encoding (for example {others})",
    )  # fmt: skip


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    for script in ("LATIN", "CYRILLIC", "GREEK"):
        if name.startswith(script):
            return script
    return None


def _undecodable(
    line: bytes, offset: int, file: str, number: int, encoding: Encoding, sampled: bool = False
) -> UnreadableFile:
    byte = line[offset : offset + 1].hex().upper()
    column = len(line[:offset].decode(encoding.codec, errors="replace")) + 1
    why = "the start of the file looked like it; " if sampled else ""
    return UnreadableFile(
        file, number, column, f"byte 0x{byte} is not valid {encoding.name} ({why}pass --encoding)"
    )


def _first_non_utf8(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return 0


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1
