"""The request schema of POST /stance as JSON Schema data, and a validator naming field paths.

The same dictionaries feed the OpenAPI document (`openapi.py`) and the validation here, so the
documented limits are the enforced ones. Three modes, exactly one per request:
`text` (one quote, with optional `actor`, `id`, `date`), `quotes` (many) and `article`
(text in, quotes extracted; answered with 422 while quote extraction is not installed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.api.config import ServiceConfig
from service.dates import ISO_DATE_PATTERN, InvalidDate, check_iso_date
from training.texts import blank_text_problem, has_visible_text

MODES = ("text", "quotes", "article")
SINGLE_QUOTE_FIELDS = ("actor", "id", "date")
MAX_ERRORS = 20
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer every JSON client (JavaScript) keeps exact
_NAME_MAX = 300
# Schema extension: a rule beyond JSON Schema that the validator applies to a string (the
# document keeps the closest `pattern` and says the rest in the description).
CHECK = "x-check"


@dataclass(frozen=True)
class FieldError:
    """One schema violation: where (`quotes[3].text`) and what."""

    path: str
    message: str

    def to_dict(self) -> dict:
        return {"path": self.path or "(body)", "message": self.message}


class SchemaError(ValueError):
    """The request body does not match the schema; `errors` name every offending field."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first.path or 'body'}: {first.message}{more}")


@dataclass(frozen=True)
class QuoteInput:
    """One quote to score, as the client sent it."""

    text: str
    actor: str | None = None
    id: str | int | None = None
    date: str | None = None


@dataclass(frozen=True)
class StanceRequest:
    """A validated POST /stance body."""

    mode: str
    quotes: list[QuoteInput]
    targets: list[str] | None
    article: dict | None = None


def text_schema(max_chars: int, description: str) -> dict:
    """A text field: it needs a visible character (`training.texts`, beyond what `pattern` says)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_chars,
        "pattern": r"\S",
        CHECK: "visible-text",
        "description": f"{description} It must have a visible character: whitespace, control "
        "and zero-width characters (ZWSP, BOM, NUL...) alone count as empty.",
    }


def quote_fields(config: ServiceConfig) -> dict:
    """Properties of one quote (also the single-quote fields of the request)."""
    return {
        "text": text_schema(config.max_text_chars, "What was said."),
        "actor": {
            "type": ["string", "null"],
            "maxLength": _NAME_MAX,
            "description": "Who said it; normalised to a canonical name in the response.",
        },
        "id": {
            "type": ["string", "integer", "null"],
            "maxLength": _NAME_MAX,
            "minimum": -MAX_SAFE_INTEGER,
            "maximum": MAX_SAFE_INTEGER,
            "description": "Your identifier, echoed back (default: the quote's 0-based index). "
            "An integer id is echoed as an integer (1.0 as 1) and must be exact in JavaScript.",
        },
        "date": {
            "type": ["string", "null"],
            "pattern": ISO_DATE_PATTERN,
            CHECK: "calendar-date",
            "maxLength": 40,
            "description": "When it was said: a real calendar date in ISO 8601 extended form, "
            "YYYY-MM-DD, optionally with a time and UTC offset (2025-02-13T09:30:00Z, "
            "2025-02-13 09:30+01:00).",
        },
    }


def quote_schema(config: ServiceConfig) -> dict:
    """JSON Schema of one element of `quotes`."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": quote_fields(config),
    }


def stance_request_schema(config: ServiceConfig, quote_ref: dict | None = None) -> dict:
    """JSON Schema of the POST /stance body; `quote_ref` replaces the inline quote schema."""
    fields = quote_fields(config)
    others = {mode: [m for m in MODES if m != mode] for mode in MODES}
    others["quotes"] += SINGLE_QUOTE_FIELDS
    others["article"] += SINGLE_QUOTE_FIELDS
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **fields,
            "quotes": {
                "type": "array",
                "minItems": 1,
                "maxItems": config.max_quotes,
                "items": quote_ref or quote_schema(config),
                "description": "Many quotes; each is scored and aggregated by actor.",
            },
            "article": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text"],
                "properties": {
                    "text": text_schema(config.max_article_chars, "The article's text."),
                    "id": fields["id"],
                    "date": fields["date"],
                },
                "description": "An article: quotes and speakers are extracted, then scored.",
            },
            "targets": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "uniqueItems": True,
                "items": {"type": "string", "minLength": 1, "maxLength": 100},
                "description": "Subset of the model's targets (default: all; see GET /model).",
            },
        },
        "oneOf": [
            {
                "required": [mode],
                "not": {"anyOf": [{"required": [other]} for other in others[mode]]},
            }
            for mode in MODES
        ],
    }


def parse_stance_request(body: object, config: ServiceConfig) -> StanceRequest:
    """The validated request, or SchemaError naming every offending field."""
    errors = validate(body, stance_request_schema(config))
    if isinstance(body, dict):
        errors = _mode_errors(body) + errors
    if errors:
        raise SchemaError(errors[:MAX_ERRORS])
    assert isinstance(body, dict)
    mode = next(m for m in MODES if m in body)
    if mode == "text":
        quotes = [_quote(body)]
    elif mode == "quotes":
        quotes = [_quote(item) for item in body["quotes"]]
    else:
        quotes = []
    return StanceRequest(mode, quotes, body.get("targets"), body.get("article"))


def _quote(fields: dict) -> QuoteInput:
    quote_id = fields.get("id")
    if isinstance(quote_id, float):  # JSON Schema integers include 1.0
        quote_id = int(quote_id)
    return QuoteInput(fields["text"], fields.get("actor"), quote_id, fields.get("date"))


def _mode_errors(body: dict) -> list[FieldError]:
    present = [m for m in MODES if m in body]
    if not present:
        return [FieldError("", "one of 'text' (one quote), 'quotes' or 'article' is required")]
    if len(present) > 1:
        return [FieldError("", f"give only one of {', '.join(present)}")]
    if present[0] != "text":
        return [
            FieldError(name, f"only allowed with 'text'; with '{present[0]}' put it in each quote")
            for name in SINGLE_QUOTE_FIELDS
            if name in body
        ]
    return []


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def validate(value: object, schema: dict, path: str = "") -> list[FieldError]:
    """Violations of the JSON Schema subset used here (`oneOf` is left to the caller)."""
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in allowed):
            return [FieldError(path, f"expected {' or '.join(allowed)}, got {_json_type(value)}")]
    if isinstance(value, str):
        return _string_errors(value, schema, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_errors(value, schema, path)
    if isinstance(value, list):
        return _array_errors(value, schema, path)
    if isinstance(value, dict):
        return _object_errors(value, schema, path)
    return []


def _string_errors(value: str, schema: dict, path: str) -> list[FieldError]:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return [FieldError(path, "is not valid Unicode (lone surrogate)")]
    if len(value) < schema.get("minLength", 0):
        return [FieldError(path, "must not be empty")]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [
            FieldError(path, f"has {len(value)} characters; the limit is {schema['maxLength']}")
        ]
    check = schema.get(CHECK)
    if check == "visible-text" and not has_visible_text(value):
        invisible = f" ({blank_text_problem(value)})" if value.strip() else ""
        return [FieldError(path, f"expected non-blank text{invisible}")]
    if check == "calendar-date":
        try:
            check_iso_date(value)
        except InvalidDate as error:
            return [FieldError(path, str(error))]
    elif "pattern" in schema and not re.search(schema["pattern"], value):
        return [FieldError(path, f"expected {schema['pattern']}")]
    return []


def _number_errors(value: float, schema: dict, path: str) -> list[FieldError]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        return [FieldError(path, f"{value!r:.30} is out of range [{low}, {high}]")]
    return []


def _array_errors(value: list, schema: dict, path: str) -> list[FieldError]:
    if len(value) < schema.get("minItems", 0):
        return [FieldError(path, f"needs at least {schema['minItems']} item(s)")]
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return [FieldError(path, f"has {len(value)} items; the limit is {schema['maxItems']}")]
    errors = []
    if "items" in schema:
        for index, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{index}]")
            if len(errors) >= MAX_ERRORS:
                return errors
    if schema.get("uniqueItems") and not errors:
        seen = set()
        for index, item in enumerate(value):
            key = repr(item)
            if key in seen:
                errors.append(FieldError(f"{path}[{index}]", "is a duplicate"))
            seen.add(key)
    return errors


def _object_errors(value: dict, schema: dict, path: str) -> list[FieldError]:
    properties = schema.get("properties", {})
    prefix = f"{path}." if path else ""
    errors = [
        FieldError(f"{prefix}{name}", "is required")
        for name in schema.get("required", [])
        if name not in value
    ]
    for name, item in value.items():
        if name in properties:
            errors += validate(item, properties[name], f"{prefix}{name}")
        elif schema.get("additionalProperties") is False:
            known = ", ".join(properties)
            errors.append(FieldError(f"{prefix}{name}", f"unknown field; expected one of {known}"))
    return errors


def _json_type(value: object) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__
