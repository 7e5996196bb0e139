"""The HTTP endpoints: translate requests into domain calls and results into JSON."""

from __future__ import annotations

import hmac
from importlib import resources

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.batching import BatcherStopped
from service.api.body import has_body, read_json_body, refuse_query
from service.api.errors import ApiError
from service.api.model_holder import ModelNotReady
from service.api.openapi import openapi_document
from service.api.schema import SchemaError, parse_stance_request
from service.api.scoring import ArticleModeUnavailable, score_request
from training import Bundle, UnknownTargetError

api = Blueprint("api", __name__)


def _state():
    return current_app.extensions["stance"]


@api.before_request
def _no_query_on_post() -> None:
    if request.method == "POST":
        refuse_query(request)


@api.get("/health")
def health():
    """Liveness: the process answers."""
    return jsonify({"status": "ok"})


@api.get("/ready")
def ready():
    """Readiness: a model is loaded and the batcher runs."""
    state = _state()
    bundle = _require_model()
    if not state.batcher.running:
        raise ApiError(503, "shutting_down", "the service is shutting down")
    return jsonify({"status": "ready", "model": {"version": bundle.version}})


@api.get("/model")
def model():
    """Summary of the served bundle's manifest."""
    _require_token()
    return jsonify(model_summary(_require_model()))


@api.post("/stance")
def stance():
    """Score one quote, many quotes or (when installed) an article's quotes."""
    _require_token()
    state = _state()
    with state.batcher.admitted():
        return _stance(state)


def _stance(state) -> Response:
    body = _json_body()
    try:
        parsed = parse_stance_request(body, state.config)
    except SchemaError as error:
        raise ApiError(
            422, "invalid_request", str(error), {"errors": [e.to_dict() for e in error.errors]}
        ) from error
    bundle = _require_model()
    targets = _require_targets(bundle, parsed.targets)
    try:
        result = score_request(
            parsed,
            bundle,
            targets,
            state.batcher,
            state.aliases,
            extract=state.extract_quotes,
            timeout=state.config.request_timeout_s,
        )
    except ArticleModeUnavailable as error:
        raise ApiError(422, "article_mode_unavailable", str(error)) from error
    except BatcherStopped as error:
        raise ApiError(503, "shutting_down", str(error)) from error
    except TimeoutError as error:
        raise ApiError(503, "overloaded", f"{error}; retry later") from error
    state.metrics.quotes.inc(len(result["quotes"]))
    return jsonify(result)


@api.post("/admin/reload")
def reload_model():
    """Load and verify a bundle, then swap it in; on failure keep serving the old one."""
    state = _state()
    if not state.config.api_token:
        raise ApiError(403, "admin_disabled", "set STANCE_API_TOKEN to enable /admin endpoints")
    _require_token()
    body = _json_body() if has_body(request) else {}
    name = body.get("model") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) - {"model"} or not isinstance(name, str | None):
        raise ApiError(
            422,
            "invalid_request",
            'expected an optional JSON object {"model": "<bundle name>"}',
            {"errors": [{"path": "model", "message": "expected a bundle name (string)"}]},
        )
    previous = state.holder.bundle
    try:
        bundle = state.holder.reload(name)
    except Exception as error:
        serving = previous.version if previous else None
        raise ApiError(
            409,
            "reload_failed",
            f"the new model was not loaded ({error}); still serving {serving}",
            {"serving": serving, "requested": name or state.holder.name},
        ) from error
    return jsonify(
        {
            "model": {"version": bundle.version},
            "previous": {"version": previous.version} if previous else None,
        }
    )


@api.get("/metrics")
def metrics():
    """Prometheus text exposition."""
    state = _state()
    return Response(state.metrics.exposition(), content_type=state.metrics.content_type)


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, generated from the request schema and current limits."""
    return jsonify(openapi_document(_state().config))


@api.get("/docs")
def docs():
    """A self-contained docs page with a form that calls POST /stance (no CDN)."""
    page = resources.files("service.api").joinpath("static/docs.html").read_text("utf-8")
    return Response(page, content_type="text/html; charset=utf-8")


def model_summary(bundle: Bundle) -> dict:
    """What clients need to know about the served bundle (no file system paths)."""
    manifest = bundle.manifest
    metrics = manifest.get("metrics") or {}
    return {
        "version": bundle.version,
        "created_at": manifest.get("created_at"),
        "targets": manifest.get("targets", []),
        "sentiment_labels": manifest.get("sentiment_labels", []),
        "embedding": manifest.get("embedding"),
        "encoder": bundle.model.embedder.encoder.to_dict(),
        # The share of scored quotes the stance probabilities assume take a position (None: the
        # training data's), `stance train --position-share`.
        "position_share": (manifest.get("recipe") or {}).get("position_share"),
        "data": manifest.get("data"),
        "metrics": {
            "stance": metrics.get("stance"),
            "sentiment": metrics.get("sentiment"),
        },
        "model_sha256": manifest.get("model_sha256"),
    }


def _require_model() -> Bundle:
    try:
        return _state().holder.require()
    except ModelNotReady as error:
        raise ApiError(503, "model_not_ready", str(error), headers={"Retry-After": "5"}) from error


def _require_targets(bundle: Bundle, requested: list[str] | None) -> list[str]:
    try:
        return bundle.model.check_targets(requested)
    except UnknownTargetError as error:
        raise ApiError(
            422, "unknown_target", str(error), {"unknown": error.unknown, "known": error.known}
        ) from error


def _require_token() -> None:
    token = _state().config.api_token
    if not token:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise ApiError(
            401,
            "unauthorized",
            "missing or invalid bearer token; send 'Authorization: Bearer <STANCE_API_TOKEN>'",
            headers={"WWW-Authenticate": 'Bearer realm="stance"'},
        )


def _json_body() -> object:
    return read_json_body(request, _state().config.max_body_bytes)
