"""The analysis endpoints the web page needs beside POST /stance: files, actors, suggestions.

POST /files/quotes    an uploaded quotes file, read as `stance score` reads it, as quote rows
POST /files/articles  an uploaded .txt or .jsonl article file, as articles
POST /actors          per-actor summaries (and a timeline by month or year) of scored quotes
POST /suggest         the quotes most worth labeling, with the model's guess

Same token, limits and error shape as /stance; none of them stores anything.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from service.api.aggregation import aggregate_actors
from service.api.analysis_schema import (
    parse_actors_request,
    parse_suggest_request,
    upload_options,
)
from service.api.errors import ApiError
from service.api.routes import _json_body, _require_model, _require_targets, _require_token
from service.api.schema import FieldError, SchemaError
from service.api.suggestions import SuggestionsUnavailable, suggest_quotes
from service.api.uploads import (
    TooManyRows,
    UnreadableUpload,
    read_article_upload,
    read_quote_upload,
)

analysis = Blueprint("analysis", __name__)


def _state():
    return current_app.extensions["stance"]


@analysis.post("/files/quotes")
def quote_file() -> Response:
    """Read an uploaded quotes file into rows ready for POST /stance."""
    _require_token()
    upload = _upload()
    columns, fmt = _checked(upload_options, _form_fields())
    try:
        return jsonify(read_quote_upload(upload, _state().config, columns, fmt))
    except TooManyRows as error:
        raise ApiError(422, "too_many_quotes", str(error), {"limit": error.limit}) from error
    except UnreadableUpload as error:
        raise ApiError(422, "unreadable_file", str(error)) from error


@analysis.post("/files/articles")
def article_file() -> Response:
    """Read an uploaded .txt or .jsonl file into articles ready for POST /stance."""
    _require_token()
    upload = _upload()
    unknown = sorted(_form_fields())
    if unknown:
        raise _invalid(SchemaError([_unknown_field(name) for name in unknown]))
    try:
        return jsonify(read_article_upload(upload, _state().config))
    except UnreadableUpload as error:
        raise ApiError(422, "unreadable_file", str(error)) from error


def _form_fields() -> dict[str, str]:
    """The form's fields besides the file; a part without a name is listed under ""."""
    return {"" if name is None else str(name): value for name, value in request.form.items()}


@analysis.post("/actors")
def actors() -> Response:
    """Aggregate scored quotes per actor and target, extending an earlier answer."""
    _require_token()
    state = _state()
    parsed = _checked(parse_actors_request, _json_body(), state.config)
    return jsonify(aggregate_actors(parsed, state.aliases))


@analysis.post("/suggest")
def suggest() -> Response:
    """The candidates most worth labeling, with the model's guess for each."""
    _require_token()
    state = _state()
    parsed = _checked(parse_suggest_request, _json_body(), state.config)
    bundle = _require_model()
    targets = _require_targets(bundle, parsed.targets)
    try:
        return jsonify(suggest_quotes(parsed, bundle, targets, state.aliases))
    except SuggestionsUnavailable as error:
        raise ApiError(422, "suggestions_unavailable", str(error)) from error


def _upload():
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            415,
            "unsupported_media_type",
            "expected Content-Type: multipart/form-data with the file in a part named 'file', "
            f"got {request.mimetype or 'nothing'}",
        )
    upload = request.files.get("file")
    if upload is None:
        raise _invalid(SchemaError([FieldError("file", "is required (the file to read)")]))
    return upload


def _checked(parse, *args):
    try:
        return parse(*args)
    except SchemaError as error:
        raise _invalid(error) from error


def _invalid(error: SchemaError) -> ApiError:
    return ApiError(
        422, "invalid_request", str(error), {"errors": [e.to_dict() for e in error.errors]}
    )


def _unknown_field(name: str) -> FieldError:
    return FieldError(name, "unknown field; expected only file")
