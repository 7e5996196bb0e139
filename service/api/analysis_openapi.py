"""The analysis endpoints' part of the OpenAPI document (paths and schemas), with the limits."""

from __future__ import annotations

from service.api.analysis_schema import (
    actor_summary_schema,
    actors_request_schema,
    suggest_request_schema,
    upload_schema,
)
from service.api.config import ServiceConfig
from service.api.openapi import _error, _json, _ref

_NULLABLE_STRING = {"type": ["string", "null"]}


def analysis_schemas(config: ServiceConfig) -> dict:
    """Component schemas of the analysis endpoints."""
    quote_row = {
        "type": "object",
        "required": ["row", "id", "text", "actor", "date", "error"],
        "properties": {
            "row": {"type": "integer", "description": "1-based data row of the file."},
            "id": {"type": ["string", "integer"]},
            "text": {"description": "As read; a string unless `error` says otherwise."},
            "actor": _NULLABLE_STRING,
            "date": _NULLABLE_STRING | {"description": "YYYY-MM-DD, or null."},
            "error": _NULLABLE_STRING
            | {"description": "Why POST /stance would refuse this row (null: usable)."},
        },
    }
    article = {
        "type": "object",
        "required": ["id", "text", "date", "url", "error"],
        "properties": {
            "id": {"type": "string"},
            "text": {"type": "string"},
            "date": _NULLABLE_STRING,
            "url": _NULLABLE_STRING,
            "error": _NULLABLE_STRING,
        },
    }
    return {
        "ActorsRequest": actors_request_schema(config),
        "CarriedActorSummary": actor_summary_schema(),
        "SuggestRequest": suggest_request_schema(config),
        "QuoteFile": {
            "type": "object",
            "required": ["file", "rows", "usable", "warnings", "quotes"],
            "properties": {
                "file": {"type": "object"},
                "rows": {"type": "integer"},
                "usable": {"type": "integer"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "quotes": {"type": "array", "items": quote_row},
            },
        },
        "ArticleFile": {
            "type": "object",
            "required": ["file", "articles"],
            "properties": {
                "file": {"type": "object"},
                "articles": {"type": "array", "items": article},
            },
        },
        "ActorsResponse": {
            "type": "object",
            "required": ["by", "actors", "timeline"],
            "properties": {
                "by": _NULLABLE_STRING,
                "actors": {"type": "array", "items": _ref("ActorSummary")},
                "timeline": {"type": "array", "items": _ref("ActorSummary")},
            },
        },
        "SuggestResponse": {
            "type": "object",
            "required": ["model", "targets", "selection", "suggestions"],
            "properties": {
                "model": {"type": "object"},
                "targets": {"type": "array", "items": {"type": "string"}},
                "selection": {"type": "string"},
                "suggestions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "uncertainty", "quote"],
                        "properties": {
                            "index": {"type": "integer"},
                            "uncertainty": {"type": "number", "minimum": 0, "maximum": 1},
                            "quote": _ref("ScoredQuote"),
                        },
                    },
                },
            },
        },
    }


def analysis_paths(config: ServiceConfig, secured: list, common: dict) -> dict:
    """Paths of the analysis endpoints; `common` holds the 401 and 503 responses."""

    def post(summary: str, media: str, schema: dict, answer: tuple, errors: dict) -> dict:
        return {
            "post": {
                "summary": summary,
                "security": secured,
                "requestBody": {"required": True, "content": {media: {"schema": schema}}},
                "responses": {
                    "200": _json(_ref(answer[0]), answer[1]),
                    "401": common["401"],
                    "413": _error(f"The body exceeds {config.max_body_bytes} bytes."),
                    "415": _error(f"The body is not {media}."),
                    **errors,
                },
            }
        }

    def upload(kind: str, summary: str, answer: str, unreadable: str) -> dict:
        schema = upload_schema(kind)
        reply = (answer, "What the file holds.")
        return post(summary, "multipart/form-data", schema, reply, {"422": _error(unreadable)})

    def json_post(summary: str, schema: str, answer: tuple, errors: dict) -> dict:
        errors = {"400": _error("The body is not valid JSON."), **errors}
        return post(summary, "application/json", _ref(schema), answer, errors)

    return {
        "/files/quotes": upload(
            "quotes",
            "Read an uploaded quotes file as `stance score` reads it (no scoring)",
            "QuoteFile",
            f"Unreadable file (unreadable_file), more than {config.max_file_quotes} quotes "
            "(too_many_quotes), or an unknown form field (invalid_request).",
        ),
        "/files/articles": upload(
            "articles",
            "Read an uploaded .txt or .jsonl article file (no extraction)",
            "ArticleFile",
            "Unreadable file (unreadable_file) or an unknown form field (invalid_request).",
        ),
        "/actors": json_post(
            "Per-actor summaries of scored quotes, extending an earlier answer",
            "ActorsRequest",
            ("ActorsResponse", "Per actor and target; per period too with `by`."),
            {"422": _error("Schema violation (details.errors name field paths).")},
        ),
        "/suggest": json_post(
            "The quotes most worth labeling (the selection of `stance suggest`)",
            "SuggestRequest",
            ("SuggestResponse", "Most worth labeling first, with the model's guess."),
            {
                "422": _error(
                    "Schema violation, unknown target, or no active-learning selection in this "
                    "installation (suggestions_unavailable), as for article mode."
                ),
                "503": common["503"],
            },
        ),
    }
