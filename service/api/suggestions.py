"""POST /suggest: the quotes most worth labeling, chosen as `stance suggest` chooses them.

The selection is `training.active_learning.suggest` (uncertainty plus diversity); this module
only turns its answer into the API's shape. An installation without that module answers 422
`suggestions_unavailable`, as one without quote extraction does for article mode.
"""

from __future__ import annotations

from service.actors import ActorNames
from service.api.analysis_schema import SuggestRequest
from service.api.scoring import ScoredQuote
from training import Bundle, QuoteScore


class SuggestionsUnavailable(RuntimeError):
    """This installation has no active-learning selection (training.active_learning)."""


def suggest_quotes(
    request: SuggestRequest, bundle: Bundle, targets: list[str], aliases: dict[str, str]
) -> dict:
    """The response body of POST /suggest: the chosen quotes, most worth labeling first."""
    try:
        from training.active_learning import suggest
    except ImportError as error:
        raise SuggestionsUnavailable(
            "labeling suggestions are not available in this installation: they need "
            "training.active_learning, the selection of `stance suggest`"
        ) from error
    texts = [quote.text for quote in request.quotes]
    chosen = suggest(bundle.model, texts, min(request.n, len(texts)), targets=targets)
    names = ActorNames(aliases)
    canonical = {q.actor: names.canonical(q.actor) for q in request.quotes if q.actor}
    merged = names.merge_short_forms(sorted({name for name in canonical.values() if name}))
    suggestions = []
    for suggestion in chosen:
        quote = request.quotes[suggestion.index]
        score = QuoteScore(
            {t: suggestion.score.stances[t] for t in targets}, suggestion.score.sentiment
        )
        actor = canonical.get(quote.actor)
        scored = ScoredQuote(
            quote.id if quote.id is not None else suggestion.index,
            quote.text,
            merged[actor] if actor else None,
            quote.date,
            score,
        )
        suggestions.append(
            {
                "index": suggestion.index,
                "uncertainty": round(float(suggestion.uncertainty), 4),
                "quote": scored.to_dict(),
            }
        )
    return {
        "model": {"version": bundle.version},
        "targets": targets,
        "selection": "active_learning",
        "suggestions": suggestions,
    }
