"""The OpenAPI 3.1 document, built from the same schema definitions the validator enforces."""

from __future__ import annotations

from importlib import metadata

from service.api.config import ServiceConfig
from service.api.schema import quote_schema, stance_request_schema
from training import UNSUPPORTED_LANGUAGE

_REF = "#/components/schemas/"
_NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _schemas(config: ServiceConfig) -> dict:
    label_score = {
        "type": "object",
        "required": ["label", "probabilities"],
        "properties": {
            "label": {"type": "string"},
            "probabilities": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    }
    return {
        "Quote": quote_schema(config),
        "StanceRequest": stance_request_schema(config, quote_ref=_ref("Quote")),
        "LabelScore": label_score,
        "ScoredQuote": {
            "type": "object",
            "required": ["id", "actor", "text", "date", "language", "stance", "sentiment", "error"],
            "properties": {
                "id": {"type": ["string", "integer"]},
                "actor": _NULLABLE_STRING | {"description": "Canonical actor name."},
                "text": {"type": "string"},
                "date": _NULLABLE_STRING,
                "language": _NULLABLE_STRING
                | {
                    "description": "ISO 639-1 code of the quote's language; null when the quote "
                    "is too short (under 4 words) or the detector unsure."
                },
                "stance": {
                    "anyOf": [
                        {"type": "object", "additionalProperties": _ref("LabelScore")},
                        {"type": "null"},
                    ],
                    "description": "Per target; null when the quote was not scored (see error).",
                },
                "sentiment": {"anyOf": [_ref("LabelScore"), {"type": "null"}]},
                "error": {
                    "anyOf": [_ref("QuoteError"), {"type": "null"}],
                    "description": "Why this quote has no scores; null when it has them.",
                },
                "speaker": {"type": ["string", "null"], "description": "Article mode only."},
                "speaker_type": {
                    "type": ["string", "null"],
                    "enum": ["person", "organisation", "description", None],
                    "description": "Article mode only: who the speaker is.",
                },
                "start": {"type": ["integer", "null"], "description": "Article mode only."},
                "end": {"type": ["integer", "null"], "description": "Article mode only."},
                "cue": {"type": ["string", "null"], "description": "Article mode only."},
                "direct": {"type": ["boolean", "null"], "description": "Article mode only."},
            },
        },
        "QuoteError": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": [UNSUPPORTED_LANGUAGE]},
                "message": {"type": "string"},
            },
        },
        "ActorSummary": {
            "type": "object",
            "required": ["actor", "target", "quotes", "counts", "stance", "net_stance"],
            "properties": {
                "actor": {"type": "string"},
                "actor_type": {
                    "type": ["string", "null"],
                    "enum": ["person", "organisation", "description", None],
                    "description": "From extraction (article mode); null for actors sent in.",
                },
                "target": {"type": "string"},
                "period": _NULLABLE_STRING,
                "quotes": {"type": "integer"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "stance": {"type": "string", "enum": ["favor", "against", "none"]},
                "net_stance": {
                    "type": "number",
                    "minimum": -1,
                    "maximum": 1,
                    "description": "mean(P(favor) - P(against)) over the actor's quotes.",
                },
                "mean_confidence": {"type": "number"},
                "sentiment": {
                    "type": ["object", "null"],
                    "description": "Sentiment counts per label and net (mean P(positive) - "
                    "P(negative)); null when no quote had a sentiment score.",
                },
                "first_date": _NULLABLE_STRING,
                "last_date": _NULLABLE_STRING,
            },
        },
        "StanceResponse": {
            "type": "object",
            "required": ["model", "mode", "targets", "quotes", "actors"],
            "properties": {
                "model": {"type": "object", "properties": {"version": {"type": "string"}}},
                "mode": {"type": "string", "enum": ["text", "quotes", "article"]},
                "targets": {"type": "array", "items": {"type": "string"}},
                "quotes": {"type": "array", "items": _ref("ScoredQuote")},
                "actors": {"type": "array", "items": _ref("ActorSummary")},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "code", "message", "details"],
                    "properties": {
                        "status": {"type": "integer"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {},
                    },
                }
            },
        },
    }


def openapi_document(config: ServiceConfig) -> dict:
    """The service's OpenAPI document with the configured limits."""
    secured = [{"bearer": []}] if config.api_token else []
    not_ready = _error("No model loaded yet (loading, or the load failed).")
    unauthorized = _error("Missing or invalid bearer token (when STANCE_API_TOKEN is set).")
    simple = {"type": "object"}
    bad_body = _error(
        "The body is not JSON (NaN and Infinity are not JSON), its chunked framing or gzip "
        "data is broken, it is shorter than its Content-Length, or the URL has a query string "
        "(POST endpoints take none)."
    )
    too_large = _error(
        f"The body exceeds {config.max_body_bytes} bytes as sent (Content-Length or chunked) "
        "or once decompressed."
    )
    bad_media_type = _error(
        "The Content-Type is not application/json, or the Content-Encoding is not gzip."
    )
    paths = {
        "/health": {"get": {"summary": "Liveness", "responses": {"200": _json(simple, "Up.")}}},
        "/ready": {
            "get": {
                "summary": "Readiness: a model is loaded",
                "responses": {"200": _json(simple, "Ready."), "503": not_ready},
            }
        },
        "/model": {
            "get": {
                "summary": "The served model's manifest summary",
                "security": secured,
                "responses": {
                    "200": _json(
                        simple,
                        "Version, targets, metrics, embedding model, the encoder running it, and "
                        "the position share its stance probabilities assume.",
                    ),
                    "401": unauthorized,
                    "503": not_ready,
                },
            }
        },
        "/stance": {
            "post": {
                "summary": "Score quotes and aggregate stance per actor and target",
                "security": secured,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("StanceRequest")}},
                },
                "responses": {
                    "200": _json(_ref("StanceResponse"), "Scores and per-actor summaries."),
                    "400": bad_body,
                    "401": unauthorized,
                    "413": too_large,
                    "415": bad_media_type,
                    "422": _error(
                        "Schema violation or a name repeated in a JSON object (details.errors "
                        "name field paths), unknown target, or article mode not available."
                    ),
                    "503": not_ready,
                },
            }
        },
        "/admin/reload": {
            "post": {
                "summary": "Load, verify and atomically swap in a bundle",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {"model": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(simple, "The new model is served."),
                    "400": bad_body,
                    "401": unauthorized,
                    "403": _error("Admin endpoints are off (STANCE_API_TOKEN unset)."),
                    "409": _error("The bundle failed verification; the old model still serves."),
                    "413": too_large,
                    "415": bad_media_type,
                    "422": _error('The body is not {"model": <name>}.'),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {"description": "Text exposition.", "content": {"text/plain": {}}}
                },
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": _json(simple, "OpenAPI.")}}
        },
        "/docs": {
            "get": {
                "summary": "Docs page with a try-it form (works offline)",
                "responses": {"200": {"description": "HTML.", "content": {"text/html": {}}}},
            }
        },
    }
    from service.api.analysis_openapi import analysis_paths, analysis_schemas

    paths |= analysis_paths(config, secured, {"401": unauthorized, "503": not_ready})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quote stance & sentiment service",
            "version": _version(),
            "description": "Stance toward policy targets and sentiment of news quotes, per actor.",
            "x-limits": limits(config),
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(config) | analysis_schemas(config),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def limits(config: ServiceConfig) -> dict:
    """The request limits, for clients that split their input to fit (the web page does)."""
    names = ("max_body_bytes", "max_quotes", "max_text_chars", "max_article_chars")
    return {name: getattr(config, name) for name in (*names, "max_file_quotes")}


def _version() -> str:
    try:
        return metadata.version("quote-stance")
    except metadata.PackageNotFoundError:
        return "0"
