"""Batch scoring of quote archives: many files in, one scored file (and actor summary) out.

result = score_files(["quotes-2015.json.bz2"], "scored.parquet", actors="actors.csv")
planned = plan_inputs(["archives/"], ColumnOptions(text="body"))   # formats and column roles
frame = score_texts(model, ["We must spend 3% of GDP.", ""], ["nato_spending"])  # + `error`

Modules: formats (files, compression), readers (column roles, chunks), scorer (one chunk),
engines (local, Dask), writers (parts, assembly), journal (resume), summary (per actor), cli.
"""

from service.batch.errors import BatchError
from service.batch.job import JobResult, plan_inputs, score_files
from service.batch.readers import ColumnOptions, ColumnRoles
from service.batch.scorer import ScoreCache, score_texts
from service.batch.summary import summarise

__all__ = [
    "BatchError",
    "ColumnOptions",
    "ColumnRoles",
    "JobResult",
    "ScoreCache",
    "plan_inputs",
    "score_files",
    "score_texts",
    "summarise",
]
