"""Request schemas of the analysis endpoints (/actors, /suggest, /files/*), and their parsing.

Like `schema.py`, the same dictionaries are enforced here and published in the OpenAPI document
(`openapi.py`). `validate` covers types, lengths and fields; the few number ranges and label
sets it does not know are checked by `_range_errors` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from service.actors import ACTOR_TYPES, ActorSummary
from service.api.config import ServiceConfig
from service.api.schema import (
    MAX_ERRORS,
    FieldError,
    QuoteInput,
    SchemaError,
    quote_schema,
    stance_request_schema,
    validate,
)
from service.batch.formats import FORMAT_NAMES
from training import SENTIMENT_LABELS, STANCE_LABELS

PERIODS = ("month", "year")
SUMMARY_KEYS = ("actors", "timeline")
# Who an actor is, when extraction said so (article mode): see service.actors.ACTOR_TYPES.
_ACTOR_TYPE = {"type": ["string", "null"], "enum": [*ACTOR_TYPES, None]}
DEFAULT_SUGGESTIONS = 10
UPLOAD_COLUMNS = ("text_column", "actor_column", "id_column", "date_column")
_NULLABLE_NAME = {"type": ["string", "null"], "maxLength": 300}
_NULLABLE_DAY = {
    "type": ["string", "null"],
    "maxLength": 40,
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
_PERIOD_PATTERNS = {"month": r"^[0-9]{4}-[0-9]{2}$", "year": r"^[0-9]{4}$"}
_COUNT = {"type": "integer", "minimum": 0}


def label_score_schema(labels: tuple[str, ...]) -> dict:
    """One label with the probability of each label, as POST /stance answers it."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["label", "probabilities"],
        "properties": {
            "label": {"type": "string", "enum": list(labels)},
            "probabilities": {
                "type": "object",
                "additionalProperties": False,
                "required": list(labels),
                "properties": {
                    label: {"type": "number", "minimum": 0, "maximum": 1} for label in labels
                },
            },
        },
    }


def scored_quote_schema() -> dict:
    """A quote's scores as POST /stance answers them, with only what aggregation needs."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["stance"],
        "properties": {
            "actor": _NULLABLE_NAME,
            "actor_type": _ACTOR_TYPE,
            "date": _NULLABLE_DAY,
            "stance": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": label_score_schema(STANCE_LABELS),
                "description": "Per target, as in the /stance answer.",
            },
            "sentiment": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "required": ["label", "probabilities"],
                "properties": label_score_schema(SENTIMENT_LABELS)["properties"],
            },
        },
    }


def actor_summary_schema() -> dict:
    """One row of `actors` or `timeline` from an earlier /actors answer, sent back to extend it."""
    counts = {
        "type": "object",
        "additionalProperties": False,
        "required": list(STANCE_LABELS),
        "properties": dict.fromkeys(STANCE_LABELS, _COUNT),
    }
    sentiment_counts = counts | {
        "required": list(SENTIMENT_LABELS),
        "properties": dict.fromkeys(SENTIMENT_LABELS, _COUNT),
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["actor", "target", "quotes", "counts", "net_stance", "mean_confidence"],
        "properties": {
            "actor": {"type": "string", "minLength": 1, "maxLength": 300},
            "actor_type": _ACTOR_TYPE,
            "target": {"type": "string", "minLength": 1, "maxLength": 100},
            "period": {"type": ["string", "null"], "maxLength": 7},
            "quotes": {"type": "integer", "minimum": 1},
            "counts": counts,
            "stance": {"type": "string", "enum": list(STANCE_LABELS)},
            "net_stance": {"type": "number", "minimum": -1, "maximum": 1},
            "mean_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "sentiment": {  # null: no quote had a sentiment score (a model without its head)
                "type": ["object", "null"],
                "additionalProperties": False,
                "required": ["counts", "net"],
                "properties": {
                    "counts": sentiment_counts,
                    "net": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
                },
            },
            "first_date": _NULLABLE_DAY,
            "last_date": _NULLABLE_DAY,
        },
    }


def actors_request_schema(config: ServiceConfig) -> dict:
    """JSON Schema of the POST /actors body."""
    summaries = {"type": "array", "items": actor_summary_schema()}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["quotes"],
        "properties": {
            "quotes": {
                "type": "array",
                "maxItems": config.max_quotes,
                "items": scored_quote_schema(),
                "description": "Scored quotes (from POST /stance) to add to the aggregation.",
            },
            "by": {
                "type": ["string", "null"],
                "enum": [*PERIODS, None],
                "description": "Also aggregate per period: 'month' or 'year'.",
            },
            "actors": summaries
            | {"description": "The `actors` of an earlier answer, to extend (period null)."},
            "timeline": summaries
            | {"description": "The `timeline` of an earlier answer, to extend (same `by`)."},
        },
    }


def suggest_request_schema(config: ServiceConfig) -> dict:
    """JSON Schema of the POST /suggest body: candidate quotes and how many to suggest."""
    stance = stance_request_schema(config)["properties"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["quotes"],
        "properties": {
            "quotes": stance["quotes"]
            | {"items": quote_schema(config), "description": "The candidates, unlabeled."},
            "n": {
                "type": "integer",
                "minimum": 1,
                "maximum": config.max_quotes,
                "description": f"How many quotes to suggest (default {DEFAULT_SUGGESTIONS}).",
            },
            "targets": stance["targets"],
        },
    }


def upload_schema(kind: str) -> dict:
    """The multipart/form-data body of POST /files/quotes ('quotes') or /files/articles."""
    file = {"type": "string", "format": "binary"}
    if kind == "articles":
        file["description"] = "A .txt file (one article) or .jsonl (id, text, date, url)."
        return {"type": "object", "required": ["file"], "properties": {"file": file}}
    file["description"] = "CSV, TSV, JSON Lines, JSON array or Parquet, optionally compressed."
    column = {"type": "string", "maxLength": 300}
    return {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": file,
            "format": {"type": "string", "enum": list(FORMAT_NAMES)},
            **{name: column for name in UPLOAD_COLUMNS},
        },
    }


@dataclass(frozen=True)
class ActorsRequest:
    """A validated POST /actors body."""

    quotes: list[dict]
    by: str | None
    actors: list[ActorSummary]
    timeline: list[ActorSummary]


@dataclass(frozen=True)
class SuggestRequest:
    """A validated POST /suggest body."""

    quotes: list[QuoteInput]
    n: int
    targets: list[str] | None


def parse_actors_request(body: object, config: ServiceConfig) -> ActorsRequest:
    """The validated request, or SchemaError naming every offending field."""
    schema = actors_request_schema(config)
    errors = validate(body, schema)
    if not errors and isinstance(body, dict):
        errors = _range_errors(body, schema)
    if errors:
        raise SchemaError(errors[:MAX_ERRORS])
    assert isinstance(body, dict)
    by = body.get("by")
    carried = {key: [_summary(item) for item in body.get(key, [])] for key in SUMMARY_KEYS}
    return ActorsRequest(body["quotes"], by, carried["actors"], carried["timeline"])


def parse_suggest_request(body: object, config: ServiceConfig) -> SuggestRequest:
    """The validated request, or SchemaError naming every offending field."""
    errors = validate(body, suggest_request_schema(config))
    if not errors and isinstance(body, dict) and "n" in body:
        n = body["n"]
        if not 1 <= n <= config.max_quotes:
            errors = [FieldError("n", f"must be between 1 and {config.max_quotes}, got {n}")]
    if errors:
        raise SchemaError(errors[:MAX_ERRORS])
    assert isinstance(body, dict)
    quotes = [
        QuoteInput(q["text"], q.get("actor"), q.get("id"), q.get("date")) for q in body["quotes"]
    ]
    return SuggestRequest(quotes, body.get("n", DEFAULT_SUGGESTIONS), body.get("targets"))


def upload_options(form: dict) -> tuple[dict, str | None]:
    """Column names and format from the upload form, or SchemaError naming unknown fields."""
    known = ("format", *UPLOAD_COLUMNS)
    errors = [
        FieldError(name, f"unknown field; expected file, {', '.join(known)}")
        for name in form
        if name not in known
    ]
    fmt = form.get("format") or None
    if fmt is not None and fmt not in FORMAT_NAMES:
        errors.append(FieldError("format", f"expected one of {', '.join(FORMAT_NAMES)}"))
    if errors:
        raise SchemaError(errors[:MAX_ERRORS])
    columns = {name.removesuffix("_column"): form.get(name) or None for name in UPLOAD_COLUMNS}
    return columns, fmt


def _range_errors(body: dict, schema: dict) -> list[FieldError]:
    """The checks `validate` leaves out: label sets, number ranges, `by` and period shapes."""
    errors: list[FieldError] = []
    by = body.get("by")
    if by not in (*PERIODS, None):
        errors.append(FieldError("by", f"expected one of {', '.join(PERIODS)} or null"))
    for index, quote in enumerate(body["quotes"]):
        path = f"quotes[{index}]"
        stance = quote["stance"]
        if not stance:
            errors.append(FieldError(f"{path}.stance", "needs at least one target"))
        for target, score in stance.items():
            errors += validate(score, label_score_schema(STANCE_LABELS), f"{path}.stance.{target}")
            errors += _score_errors(score, STANCE_LABELS, f"{path}.stance.{target}")
        if quote.get("sentiment") is not None:
            errors += _score_errors(quote["sentiment"], SENTIMENT_LABELS, f"{path}.sentiment")
    if by is None and body.get("timeline"):
        return [*errors, FieldError("timeline", "needs 'by', the period it was made with")]
    for key in SUMMARY_KEYS:
        for index, item in enumerate(body.get(key, [])):
            errors += _summary_errors(item, by if key == "timeline" else None, f"{key}[{index}]")
    return errors


def _score_errors(score: object, labels: tuple[str, ...], path: str) -> list[FieldError]:
    if not isinstance(score, dict) or not isinstance(score.get("probabilities"), dict):
        return []  # reported by `validate`
    errors = []
    if score.get("label") not in labels:
        errors.append(FieldError(f"{path}.label", f"expected one of {', '.join(labels)}"))
    for label, p in score["probabilities"].items():
        if isinstance(p, int | float) and not 0 <= p <= 1:
            errors.append(FieldError(f"{path}.probabilities.{label}", "must be within [0, 1]"))
    return errors


def _summary_errors(item: dict, by: str | None, path: str) -> list[FieldError]:
    errors = []
    period = item.get("period")
    if by is None and period is not None:
        errors.append(FieldError(f"{path}.period", "must be null in `actors`"))
    if by is not None and period is not None and not re.match(_PERIOD_PATTERNS[by], period):
        errors.append(FieldError(f"{path}.period", f"expected a {by} like the timeline's"))
    if item["quotes"] < 1:
        errors.append(FieldError(f"{path}.quotes", "must be at least 1"))
    sentiment = item.get("sentiment") or {}
    counts = [*item["counts"].values(), *sentiment.get("counts", {}).values()]
    if any(count < 0 for count in counts):
        errors.append(FieldError(f"{path}.counts", "must not be negative"))
    ranges = {"net_stance": (-1, 1), "mean_confidence": (0, 1)}
    for name, (low, high) in ranges.items():
        if not low <= item[name] <= high:
            errors.append(FieldError(f"{path}.{name}", f"must be within [{low}, {high}]"))
    net = sentiment.get("net")
    if net is not None and not -1 <= net <= 1:
        errors.append(FieldError(f"{path}.sentiment.net", "must be within [-1, 1]"))
    if item.get("stance") not in (*STANCE_LABELS, None):
        errors.append(FieldError(f"{path}.stance", f"expected one of {', '.join(STANCE_LABELS)}"))
    return errors


def _summary(item: dict) -> ActorSummary:
    names = {spec.name for spec in fields(ActorSummary)}
    values = {key: value for key, value in item.items() if key in names}
    values.setdefault("period", None)
    values.setdefault("actor_type", None)
    values.setdefault("first_date", None)
    values.setdefault("last_date", None)
    values.setdefault("sentiment", None)
    return ActorSummary(**values)
