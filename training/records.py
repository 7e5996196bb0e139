"""The rows of a labeled file in any format, numbered by line: what `read_labeled_csv` validates.

CSV and TSV (delimiter detected or given), JSON Lines, JSON arrays and Parquet, compressed or
not, read by the rules of `training.textfiles`. A row is `(line, {column: value})`, or
`(line, problem)` for a row that cannot be read. Line numbers are the file's physical lines;
for a JSON array, the line where the element starts; for Parquet, the 1-based row number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from training.textfiles import (
    Encoding,
    UnreadableFile,
    choose_delimiter,
    choose_encoding,
    decode,
    file_format,
    open_decompressed,
)

Row = tuple[int, dict[str, object] | str]


@dataclass
class Table:
    """The columns of a file and its rows (read lazily for CSV)."""

    header: list[str]
    rows: Iterator[Row]
    encoding: Encoding | None = None  # None for Parquet (always UTF-8)
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, encoding: str | None = None, delimiter: str | None = None) -> Table:
    """The header and rows of a labeled file; UnreadableFile when it cannot be read at all."""
    file = str(path)
    fmt, compression = file_format(path)
    if fmt is None:
        fmt = "csv"  # labeled data has always been CSV: any other name is read as CSV
    with open_decompressed(open(path, "rb"), compression) as stream:
        raw = stream.read()
    if fmt == "parquet":
        records = pq.read_table(io.BytesIO(raw)).to_pylist()
        return _records_table(enumerate(records, start=1), None)
    chosen = choose_encoding(raw, file, encoding)
    text = decode(raw, file, chosen)
    if fmt == "jsonl":
        return _records_table(_json_lines(text), chosen)
    if fmt == "json" and text.lstrip().startswith("["):
        return _records_table(_json_array(text, file), chosen)
    if fmt == "json":
        return _records_table(_json_lines(text), chosen)
    separator, skipped = choose_delimiter(text[:65536], file, fmt, delimiter)
    return _csv_table(text, file, separator, skipped, chosen)


def _csv_table(text: str, file: str, delimiter: str, skipped: int, encoding: Encoding) -> Table:
    if skipped:
        text = text.split("\n", skipped)[-1]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile(
            file, 1 + skipped, None, "file is empty; expected a header row"
        ) from None
    except csv.Error as error:
        raise UnreadableFile(file, 1 + skipped, None, f"malformed CSV: {error}") from None

    def rows() -> Iterator[Row]:
        line = reader.line_num
        while True:
            start = line + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield start + skipped, f"malformed CSV: {error}"
                return
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                yield start + skipped, f"has {len(record)} fields, header has {len(header)}"
                continue
            yield start + skipped, dict(zip(header, record, strict=True))

    named = "tab" if delimiter == "\t" else repr(delimiter)
    notes = [] if delimiter == "," else [f"{file}: columns separated by {named}"]
    return Table(header, rows(), encoding, notes)


def _records_table(numbered, encoding: Encoding | None) -> Table:
    """A table of JSON-like records: the header is every key, in first-seen order."""
    rows = []
    header: dict[str, None] = {}
    for line, record in numbered:
        if isinstance(record, dict):
            header.update(dict.fromkeys(map(str, record)))
            rows.append((line, {str(k): v for k, v in record.items()}))
        elif isinstance(record, str):
            rows.append((line, record))  # already a problem
        else:
            rows.append((line, f"expected a JSON object, got {type(record).__name__}"))
    return Table(list(header), iter(rows), encoding)


def _json_lines(text: str) -> Iterator[tuple[int, object]]:
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            yield line, json.loads(content)
        except json.JSONDecodeError as error:
            yield line, f"invalid JSON ({error.msg}, column {error.colno})"


def _json_array(text: str, file: str) -> Iterator[tuple[int, object]]:
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        while position < len(text) and (text[position].isspace() or text[position] == ","):
            position += 1
        line = text.count("\n", 0, position) + 1
        if position >= len(text):
            raise UnreadableFile(file, line, None, "the JSON array is not closed")
        if text[position] == "]":
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            message = f"invalid JSON ({error.msg})"
            raise UnreadableFile(file, error.lineno, error.colno, message) from None
        yield line, value
