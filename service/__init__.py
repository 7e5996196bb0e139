"""Everything that uses a model: actor normalisation and aggregation, the CLI.

names = ActorNames()                        # aliases from $STANCE_ACTOR_ALIASES
summary = ActorAggregator(names, by="month")
summary.add("President Trump", score, date="2025-02-13")
summary.summaries()                         # -> list[ActorSummary]
app = create_app()                          # the HTTP service (service/api), STANCE_* config
"""

from service.actors import ActorAggregator, ActorNames, ActorSummary, actor_key, strip_titles
from service.batch import score_files

__all__ = [
    "ActorAggregator",
    "ActorNames",
    "ActorSummary",
    "actor_key",
    "create_app",
    "score_files",
    "strip_titles",
]


def __getattr__(name: str):
    # Lazy: `stance` must not import Flask or prometheus_client before `stance serve` sets up
    # multi-process metrics (prometheus_client picks its storage when first imported).
    if name == "create_app":
        from service.api.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
