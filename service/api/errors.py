"""Every error the API answers, as one JSON shape: {"error": {status, code, message, details}}."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Machine-readable codes of the HTTP errors werkzeug and gunicorn raise themselves, by status.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    422: "invalid_request",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "model_not_ready",
}


def http_error_code(status: int) -> str:
    """The stable code of an HTTP error that did not come from our own routes."""
    return _HTTP_CODES.get(status, "http_error")


def error_body(status: int, code: str, message: str, details: object = None) -> dict:
    """The one JSON shape of every error: {"error": {status, code, message, details}}."""
    return {"error": {"status": status, "code": code, "message": message, "details": details}}


class ApiError(Exception):
    """An error the client should see: HTTP status, stable code, message and details."""

    def __init__(
        self, status: int, code: str, message: str, details: object = None, headers=None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details
        self.headers = dict(headers or {})


def error_response(
    status: int, code: str, message: str, details: object = None, headers=None
) -> Response:
    """The JSON response of one error."""
    response = jsonify(error_body(status, code, message, details))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Route every exception through one JSON shape; never leak a stack trace."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        message = _MESSAGES.get(status, error.description or error.name)
        details = None
        if status == 413:
            details = {"max_body_bytes": app.config.get("MAX_CONTENT_LENGTH")}
        if status == 405:
            details = {"allowed": sorted(getattr(error, "valid_methods", None) or [])}
        return error_response(status, http_error_code(status), message, details, headers)

    @app.errorhandler(Exception)
    def internal_error(error: Exception) -> Response:
        log.exception("internal failure while handling a request")
        return error_response(
            500,
            "internal_error",
            "internal failure; the error was logged on the server",
        )


_MESSAGES = {
    404: "no such endpoint; GET /openapi.json lists them",
    405: "method not allowed on this endpoint",
    413: "request body too large",
}
