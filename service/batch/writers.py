"""Part files and the final output: Parquet parts written atomically, assembled in order.

Every part is Parquet whatever the output format, so parts keep types and the summary reads
only the columns it needs. Assembly is a pure function of the parts (no timestamps anywhere),
so a resumed run writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from service.batch.errors import BatchError

OUTPUT_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def output_format(path: Path, fmt: str | None = None) -> str:
    """The output format named by `fmt` or by the file's extension."""
    fmt = fmt or OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt not in set(OUTPUT_FORMATS.values()):
        raise BatchError(
            f"{path}: unknown output format {path.suffix or '(no suffix)'!r}; "
            f"name the output {', '.join(f'*{s}' for s in OUTPUT_FORMATS)}"
        )
    return fmt


def write_atomically(path: Path, write):
    """Run `write(tmp)` on a temporary sibling of `path`, flush it, rename it onto `path`.

    Readers see the old file or the new one, never part of one. Returns what `write` returned.
    """
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        result = write(tmp)
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result


ROLES_KEY = b"stance.roles"


def write_part(frame: pd.DataFrame, path: Path, roles: dict) -> None:
    """Write one chunk's rows as a Parquet part (with its column roles), atomically."""
    table = part_table(frame).replace_schema_metadata({ROLES_KEY: json.dumps(roles).encode()})
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def part_table(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table of `frame`; object columns of mixed types become text."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            kinds = {type(v) for v in frame[column] if not _is_null(v)}
            if len(kinds) > 1 and not kinds <= {int, float}:
                frame[column] = frame[column].map(lambda v: None if _is_null(v) else str(v))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata(None)


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def unified_schema(parts: list[Path], trailing: list[str]) -> pa.Schema:
    """One schema for all parts: columns in first-seen order, `trailing` last, conflicts → text."""
    types: dict[str, list[pa.DataType]] = {}
    for part in parts:
        for field in pq.read_schema(part):
            types.setdefault(field.name, []).append(field.type)
    names = [n for n in types if n not in trailing] + [n for n in trailing if n in types]
    return pa.schema([pa.field(name, _common_type(types[name])) for name in names])


def _common_type(seen: list[pa.DataType]) -> pa.DataType:
    kinds = list(dict.fromkeys(t for t in seen if t != pa.null()))
    if not kinds:
        return pa.string()
    if len(kinds) == 1:
        return kinds[0]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in kinds):
        return pa.float64()
    return pa.string()


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly the columns and types of `schema` (absent columns are null)."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(len(table), field.type))
    return pa.Table.from_arrays(columns, schema=schema)


PROVENANCE_KEY = b"stance.provenance"


def provenance_path(output: Path) -> Path:
    """Where a CSV or JSONL output's provenance goes (Parquet keeps it in its own metadata)."""
    return output.with_name(output.name + ".provenance.json")


def assemble(
    parts: list[Path], output: Path, fmt: str, trailing: list[str], provenance: dict
) -> int:
    """Concatenate `parts` in order into `output` (tmp + rename); returns the row count.

    `provenance` (model, encoder, targets) goes into a Parquet output's schema metadata, or
    beside a CSV or JSONL output in `provenance_path(output)`, written first.
    """
    schema = unified_schema(parts, trailing)
    if not parts:  # no input rows: an empty file that still has the score columns
        schema = pa.schema([pa.field(name, pa.string()) for name in trailing])
    recorded = json.dumps(provenance, indent=2, sort_keys=True) + "\n"
    if fmt == "parquet":
        schema = schema.with_metadata({PROVENANCE_KEY: recorded.encode()})
    else:
        write_atomically(provenance_path(output), lambda tmp: tmp.write_text(recorded))
    tables = (conform(pq.read_table(part), schema) for part in parts)
    return write_atomically(output, lambda tmp: _WRITERS[fmt](tables, tmp, schema))


def read_provenance(output: Path) -> dict:
    """The provenance recorded with a scored output (see `assemble`)."""
    if output_format(output) == "parquet":
        metadata = pq.read_schema(output).metadata or {}
        return json.loads(metadata.get(PROVENANCE_KEY, b"{}"))
    return json.loads(provenance_path(output).read_text())


def _write_parquet(tables: Iterable[pa.Table], path: Path, schema: pa.Schema) -> int:
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for table in tables:
            writer.write_table(table)
            rows += len(table)
    return rows


def _write_csv(tables: Iterable[pa.Table], path: Path, schema: pa.Schema) -> int:
    rows = 0
    with open(path, "wb") as stream:
        header = pacsv.WriteOptions(include_header=True, quoting_style="needed")
        pacsv.write_csv(pa.Table.from_batches([], schema=schema), stream, header)
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        for table in tables:
            pacsv.write_csv(table, stream, options)
            rows += len(table)
    return rows


def _write_jsonl(tables: Iterable[pa.Table], path: Path, schema: pa.Schema) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        for table in tables:
            for record in table.to_pylist():
                clean = {k: None if _is_null(v) else v for k, v in record.items()}
                stream.write(json.dumps(clean, ensure_ascii=False, default=str) + "\n")
            rows += len(table)
    return rows


_WRITERS = {"parquet": _write_parquet, "csv": _write_csv, "jsonl": _write_jsonl}


def part_roles(part: Path) -> dict:
    """The column roles recorded in a part (which column is the actor, the date, ...)."""
    metadata = pq.read_schema(part).metadata or {}
    return json.loads(metadata.get(ROLES_KEY, b"{}"))


def read_columns(part: Path, columns: list[str]) -> pd.DataFrame:
    """The named columns of one part (absent columns are None)."""
    present = set(pq.read_schema(part).names)
    frame = pq.read_table(part, columns=[c for c in columns if c in present]).to_pandas()
    for column in columns:
        if column not in present:
            frame[column] = None
    return frame
