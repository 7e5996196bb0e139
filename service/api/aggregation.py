"""POST /actors: where each actor stands, from scored quotes plus an earlier answer to extend.

The page scores a large file in batches (POST /stance, each within the request limits) and
sends each batch's scores here with the previous answer, so the per-actor summary and the
timeline grow batch by batch while every request stays small; the service keeps nothing.
"""

from __future__ import annotations

from service.actors import ActorAggregator, ActorNames
from service.api.analysis_schema import ActorsRequest
from training import LabelScore, QuoteScore


def aggregate_actors(request: ActorsRequest, aliases: dict[str, str]) -> dict:
    """The response body of POST /actors: `actors` overall and, with `by`, the `timeline`."""
    names = ActorNames(aliases)
    overall = ActorAggregator(names)
    timeline = ActorAggregator(names, by=request.by) if request.by else None
    for summary in request.actors:
        overall.add_summary(summary)
    for summary in request.timeline:
        assert timeline is not None  # the schema refuses a timeline without `by`
        timeline.add_summary(summary)
    for quote in request.quotes:
        score = quote_score(quote)
        kind = quote.get("actor_type")
        overall.add(quote.get("actor"), score, quote.get("date"), actor_type=kind)
        if timeline is not None:
            timeline.add(quote.get("actor"), score, quote.get("date"), actor_type=kind)
    return {
        "by": request.by,
        "actors": [summary.to_dict() for summary in overall.summaries()],
        "timeline": [summary.to_dict() for summary in timeline.summaries()] if timeline else [],
    }


def quote_score(quote: dict) -> QuoteScore:
    """The QuoteScore of a quote as POST /stance answered it (`stance`, `sentiment`)."""
    sentiment = quote.get("sentiment")
    return QuoteScore(
        stances={
            target: LabelScore(score["label"], dict(score["probabilities"]))
            for target, score in quote["stance"].items()
        },
        sentiment=LabelScore(sentiment["label"], dict(sentiment["probabilities"]))
        if sentiment
        else None,
    )
