"""From a validated request to the response: score quotes, name actors, aggregate per actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from service.actors import ActorAggregator, ActorNames
from service.api.batching import MicroBatcher
from service.api.schema import QuoteInput, StanceRequest
from training import Bundle, LanguageCheck, QuoteScore, check_languages
from training.texts import has_visible_text


class ArticleModeUnavailable(RuntimeError):
    """Article mode was requested but quote extraction is not installed."""


@dataclass(frozen=True)
class ScoredQuote:
    """One quote with its language, scores and canonical actor (+ extraction fields).

    A quote in a language the model does not read has no score: its `stance` and `sentiment`
    are null and `error` says why (`training.check_language`).
    """

    id: str | int
    text: str
    actor: str | None
    date: str | None
    score: QuoteScore | None
    extracted: dict | None = None
    language: LanguageCheck | None = None  # None: not checked (the caller knows it is readable)

    def to_dict(self) -> dict:
        out: dict = {"id": self.id, "actor": self.actor, "text": self.text, "date": self.date}
        if self.extracted is not None:
            out.update(self.extracted)
        out["language"] = self.language.language if self.language else None
        if self.score is None:
            error = self.language.to_error() if self.language else None
            return out | {"stance": None, "sentiment": None, "error": error}
        return out | self.score.to_dict() | {"error": None}


def article_quotes(article: dict, extract: Callable | None) -> tuple[list[QuoteInput], list]:
    """The quotes extracted from `article` (speaker as actor) and the raw quotations."""
    if extract is None:
        raise ArticleModeUnavailable(
            "article mode not available: quote extraction (service.extraction) is not installed "
            "in this service; send 'quotes' with the speakers instead"
        )
    try:
        extracted = extract(article["text"])
    except ImportError as error:
        raise ArticleModeUnavailable(f"article mode not available: {error}") from error
    quotations = [q for q in extracted if has_visible_text(str(q.quote))]
    date = article.get("date")
    quotes = [QuoteInput(q.quote, q.speaker, i, date) for i, q in enumerate(quotations)]
    return quotes, quotations


def score_request(
    request: StanceRequest,
    bundle: Bundle,
    targets: list[str],
    batcher: MicroBatcher,
    aliases: dict[str, str],
    *,
    extract: Callable | None = None,
    timeout: float | None = None,
) -> dict:
    """The response body of POST /stance: model, per-quote scores and per-actor summaries."""
    quotations: list = []
    quotes = request.quotes
    if request.mode == "article":
        quotes, quotations = article_quotes(request.article or {}, extract)
    checks = check_languages([q.text for q in quotes])
    readable = [q.text for q, check in zip(quotes, checks, strict=True) if check.supported]
    scores = iter(batcher.score(bundle, readable, timeout=timeout))
    aggregator = ActorAggregator(ActorNames(aliases))
    scored = []
    for index, (quote, check) in enumerate(zip(quotes, checks, strict=True)):
        score = None
        kind = quotations[index].speaker_type if quotations else None
        if check.supported:
            full = next(scores)
            score = QuoteScore({t: full.stances[t] for t in targets}, full.sentiment)
            actor = aggregator.add(quote.actor, score, quote.date, actor_type=kind)
        else:  # named like the others, but not counted in the actor summaries
            actor = aggregator.names.canonical(quote.actor, kind)
        extracted = _extraction_fields(quotations[index]) if quotations else None
        quote_id = quote.id if quote.id is not None else index
        scored.append(ScoredQuote(quote_id, quote.text, actor, quote.date, score, extracted, check))
    # The actors list merges short forms ("Trump" -> "Donald Trump"); quotes show the same name.
    merged = aggregator.names.merge_short_forms(sorted({q.actor for q in scored if q.actor}))
    body = {
        "model": {"version": bundle.version},
        "mode": request.mode,
        "targets": targets,
        "quotes": [
            (q.to_dict() | {"actor": merged[q.actor]}) if q.actor else q.to_dict() for q in scored
        ],
        "actors": [summary.to_dict() for summary in aggregator.summaries()],
    }
    return body


def _extraction_fields(quotation) -> dict:
    """Where the quotation stands in the article and who it is attributed to."""
    return {k: v for k, v in quotation.to_dict().items() if k not in ("doc", "quote")}
