"""Everything that uses a model: actors, the HTTP API, batch scoring, quote extraction, the CLI.

names = ActorNames()                           # aliases from $STANCE_ACTOR_ALIASES
summary = ActorAggregator(names, by="month")
summary.add("President Trump", score, date="2025-02-13")
summary.summaries()                            # -> list[ActorSummary]
app = create_app()                             # HTTP service (service/api), STANCE_* config
score_files(["quotes-2015.json.bz2"], "scored.parquet", actors="actors.csv")  # service/batch
extract_quotes(article_text)                   # -> list[Quotation] (service/extraction)
"""

from service.actors import ActorAggregator, ActorNames, ActorSummary, actor_key, strip_titles

__all__ = [
    "ActorAggregator",
    "ActorNames",
    "ActorSummary",
    "actor_key",
    "create_app",
    "extract_quotes",
    "score_files",
    "strip_titles",
]

# Imported on first use: Flask, Dask and spaCy cost seconds, and `stance serve` must set up
# multi-process metrics before prometheus_client is first imported.
_LAZY = {
    "create_app": "service.api.app",
    "score_files": "service.batch.job",
    "extract_quotes": "service.extraction.extractor",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'service' has no attribute {name!r}")
