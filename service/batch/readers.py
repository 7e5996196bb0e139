"""Streaming input: the column roles of each file (Quotebank recognised) and row chunks."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from service.batch.errors import BatchError
from service.batch.formats import (
    InputFile,
    is_json_array,
    iter_json_array,
    open_binary,
    open_text,
)
from service.dates import date_problem
from training.textfiles import Encoding, locate_decode_error

TEXT_COLUMNS = ("text", "quotation", "quote", "tweet", "content")
ACTOR_COLUMNS = ("actor", "speaker", "author")
ACTOR_TYPE_COLUMNS = ("actor_type", "speaker_type")
ID_COLUMNS = ("id", "quoteid", "quote_id")
DATE_COLUMNS = ("date", "published", "published_at", "timestamp", "datetime")
QUOTEBANK_COLUMNS = frozenset({"quotation", "speaker", "quoteID"})


@dataclass(frozen=True)
class ColumnOptions:
    """Column names asked for on the command line (None: detect)."""

    text: str | None = None
    actor: str | None = None
    id: str | None = None
    date: str | None = None
    weight: str | None = None


@dataclass(frozen=True)
class ColumnRoles:
    """Which column of one file holds the text, actor, id, date and weight."""

    text: str
    actor: str | None = None
    id: str | None = None
    date: str | None = None
    weight: str | None = None
    quotebank: bool = False
    actor_type: str | None = None  # person | organisation | description, from extraction

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Chunk:
    """Consecutive rows of one file; the frame's index is the global row number (0-based)."""

    number: int
    source: InputFile
    roles: ColumnRoles
    frame: pd.DataFrame
    problems: list[str | None]
    consumed: int

    @property
    def texts(self) -> list:
        return self.frame[self.roles.text].tolist()


def peek_columns(source: InputFile) -> list[str]:
    """The column names of a file: the CSV header, the first JSON record, the Parquet schema."""
    if source.format == "parquet":
        return list(pq.read_schema(_parquet_handle(source)).names)
    if source.format in ("csv", "tsv"):
        for frame, _, _ in _csv_frames(source, 1):
            return list(frame.columns)
        return []
    for frame, problems, _ in _json_frames(source, 1):
        if problems[0] is None:
            return list(frame.columns)
    return []


def resolve_roles(source: InputFile, columns: list[str], options: ColumnOptions) -> ColumnRoles:
    """The roles of `columns`: named options must exist; the rest are detected by name."""
    if not columns:
        raise BatchError(f"{source}: no columns to read: the file is empty or has no header")
    listing = ", ".join(columns)

    def pick(role: str, requested: str | None, candidates: tuple[str, ...]) -> str | None:
        if requested:
            if requested not in columns:
                raise BatchError(
                    f"{source}: no column {requested!r} (--{role}-column); its columns are: "
                    f"{listing}"
                )
            return requested
        lowered: dict[str, str] = {}
        for column in columns:
            lowered.setdefault(str(column).lower(), column)
        return next((lowered[c] for c in candidates if c in lowered), None)

    text = pick("text", options.text, TEXT_COLUMNS)
    if text is None:
        raise BatchError(
            f"{source}: no text column (looked for {', '.join(TEXT_COLUMNS)}); its columns are: "
            f"{listing}; pass --text-column NAME"
        )
    return ColumnRoles(
        text=text,
        actor=pick("actor", options.actor, ACTOR_COLUMNS),
        id=pick("id", options.id, ID_COLUMNS),
        date=pick("date", options.date, DATE_COLUMNS),
        weight=pick("weight", options.weight, ()),
        quotebank=set(columns) >= QUOTEBANK_COLUMNS,
        actor_type=pick("actor-type", None, ACTOR_TYPE_COLUMNS),
    )


def read_chunks(sources: list[tuple[InputFile, ColumnRoles]], size: int) -> Iterator[Chunk]:
    """Chunks of at most `size` rows, file after file; numbering and rows are deterministic."""
    number, row = 0, 0
    for source, roles in sources:
        frames = (
            _parquet_frames(source, size)
            if source.format == "parquet"
            else _csv_frames(source, size)
            if source.format in ("csv", "tsv")
            else _json_frames(source, size)
        )
        for frame, problems, consumed in frames:
            frame.index = pd.RangeIndex(row, row + len(frame))
            if roles.text not in frame.columns:
                frame[roles.text] = None
            if roles.date in frame.columns:  # a row whose date is not a date is not scored
                dates = zip(problems, frame[roles.date].tolist(), strict=True)
                problems = [problem or date_problem(d, roles.date) for problem, d in dates]
            yield Chunk(number, source, roles, frame, problems, consumed)
            number, row = number + 1, row + len(frame)


def _csv_frames(source: InputFile, size: int):
    stream, raw = open_text(source)
    with stream:
        try:
            reader = pd.read_csv(
                stream,
                sep=source.delimiter or ("\t" if source.format == "tsv" else ","),
                skiprows=source.skip_lines,
                dtype=str,
                na_filter=False,
                chunksize=size,
            )
            for frame in reader:
                yield frame, [None] * len(frame), raw.consumed
        except pd.errors.EmptyDataError:
            return
        except UnicodeDecodeError:
            raise _decode_error(source) from None
        except (pd.errors.ParserError, EOFError, OSError) as error:
            raise BatchError(f"{source}: cannot read as {source.format.upper()}: {error}") from None


def _json_frames(source: InputFile, size: int):
    array = is_json_array(source) if source.format == "json" else False
    stream, raw = open_text(source)
    with stream:
        try:
            records = _array_records(stream, source) if array else _line_records(stream)
            while batch := list(islice(records, size)):
                rows = [record for record, _ in batch]
                frame = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame()
                for column in frame.columns:
                    frame[column] = frame[column].map(_plain)
                yield frame, [problem for _, problem in batch], raw.consumed
        except UnicodeDecodeError:
            raise _decode_error(source) from None
        except (EOFError, OSError) as error:
            raise BatchError(f"{source}: cannot read: {error}") from None


def _decode_error(source: InputFile) -> BatchError:
    """Where the text of `source` stops decoding, as file and line (not a byte offset)."""
    encoding = source.encoding or Encoding("utf-8")
    binary, _ = open_binary(source)
    with binary:
        return BatchError(str(locate_decode_error(binary, str(source), encoding)))


def _line_records(stream: io.TextIOBase):
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield {}, f"line {line_number}: invalid JSON ({error.msg})"
            continue
        yield _record(value, f"line {line_number}")


def _array_records(stream: io.TextIOBase, source: InputFile):
    for index, value in enumerate(iter_json_array(stream, source), start=1):
        yield _record(value, f"element {index}")


def _record(value: object, where: str) -> tuple[dict, str | None]:
    if isinstance(value, dict):
        return value, None
    return {}, f"{where}: expected a JSON object, got {type(value).__name__}"


def _plain(value: object) -> object:
    """Nested values (lists, objects) become compact JSON text so every format can hold them."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _parquet_handle(source: InputFile):
    if source.compression is None:
        return source.path
    stream, _ = open_text(source)
    return io.BytesIO(stream.buffer.read())  # Parquet needs random access: decompress whole


def _parquet_frames(source: InputFile, size: int):
    try:
        parquet = pq.ParquetFile(_parquet_handle(source))
    except (OSError, ValueError) as error:
        raise BatchError(f"{source}: cannot read as Parquet: {error}") from None
    total, done, file_size = parquet.metadata.num_rows, 0, source.path.stat().st_size
    for batch in parquet.iter_batches(batch_size=size):
        frame = batch.to_pandas()
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(_plain)
        done += len(frame)
        yield frame, [None] * len(frame), file_size * done // max(total, 1)
