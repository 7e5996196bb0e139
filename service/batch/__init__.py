"""Batch scoring of quote archives: many files in, one scored file (and actor summary) out.

result = score_files(["quotes-2015.json.bz2"], "scored.parquet", actors="actors.csv")
planned = plan_inputs(["archives/"], ColumnOptions(text="body"))   # formats and column roles
frame = score_texts(model, ["We must spend 3% of GDP.", ""], ["nato_spending"])  # + `error`

Modules: formats (files, compression), readers (column roles, chunks), scorer (one chunk),
engines (local, Dask), writers (parts, assembly), journal (resume), summary (per actor), cli.
"""

from importlib import import_module

# Imported on first use (PEP 562): the service imports `service.batch.formats` for its upload
# schema without paying for pandas and pyarrow in every worker until a file is uploaded.
_HOMES = {
    "BatchError": "errors",
    "JobResult": "job",
    "plan_inputs": "job",
    "score_files": "job",
    "ColumnOptions": "readers",
    "ColumnRoles": "readers",
    "ScoreCache": "scorer",
    "score_texts": "scorer",
    "summarise": "summary",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"service.batch.{_HOMES[name]}"), name)
