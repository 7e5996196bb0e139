"""The JSON body of a POST request: read whole within the limit, decompressed, parsed strictly.

What the API does with every part of a request body (documented in docs/service.md):
- Size: `STANCE_MAX_BODY_BYTES` bounds the body as sent, with `Content-Length` or chunked
  (`Transfer-Encoding: chunked`), and again once decompressed: past it, 413. Never a cut.
- Framing: a chunked body with a bad chunk size or terminator, or a body that ends before its
  `Content-Length`, is 400 `malformed_body`.
- `Content-Encoding`: `gzip` (or `x-gzip`) bodies are decompressed; `identity` is the same as
  none; any other coding is 415. A body labelled gzip that is not gzip data is 400.
- JSON: RFC 8259 only. `NaN` and `Infinity` are not JSON (400); a name that appears twice in
  one object is 422 naming its path, since parsers disagree on which value wins.
- Query parameters: the POST endpoints take none; a query string is 400 naming them.
"""

from __future__ import annotations

import json
import zlib

from flask import Request

from service.api.errors import ApiError

_BLOCK = 1 << 16
_GZIP = ("gzip", "x-gzip")
SUPPORTED_CODINGS = ("gzip", "identity")


def read_json_body(request: Request, max_bytes: int) -> object:
    """The parsed JSON body of `request`, or an ApiError saying what is wrong with it."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"expected Content-Type: application/json, got {request.mimetype or 'nothing'}",
        )
    coding = _content_coding(request)
    raw = read_raw_body(request, max_bytes)
    return parse_json(_decompress(raw, max_bytes) if coding in _GZIP else raw)


def has_body(request: Request) -> bool:
    """True when the request announces a body (Content-Length above 0, or chunked)."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def refuse_query(request: Request) -> None:
    """400 when a POST carries query parameters: options belong in the JSON body."""
    if request.query_string:
        names = sorted(request.args) or [request.query_string.decode("latin-1")[:100]]
        raise ApiError(
            400,
            "query_not_allowed",
            f"{request.method} {request.path} takes no query parameters (got "
            f"{', '.join(names)}); put options such as 'targets' in the JSON body",
            {"parameters": names},
        )


def read_raw_body(request: Request, max_bytes: int) -> bytes:
    """The body as sent, whole: 413 past `max_bytes`, 400 when its framing is broken."""
    environ = request.environ
    announced = request.content_length
    if announced is not None and announced > max_bytes:
        raise _too_large(max_bytes)
    if announced is None and not environ.get("wsgi.input_terminated"):
        return b""  # neither Content-Length nor a server that ends chunked input: no body
    wanted = max_bytes + 1 if announced is None else announced
    data = _read_at_most(environ["wsgi.input"], wanted)
    if announced is None and len(data) > max_bytes:
        raise _too_large(max_bytes)
    if announced is not None and len(data) < announced:
        raise ApiError(
            400,
            "malformed_body",
            f"the body ended after {len(data)} of the {announced} bytes its Content-Length "
            "announced",
        )
    return data


def parse_json(data: bytes) -> object:
    """Strict JSON: 400 for what is not RFC 8259 JSON, 422 for names repeated in an object."""
    repeated: list[bool] = []

    def object_from(pairs: list[tuple[str, object]]) -> dict:
        value = dict(pairs)
        if len(value) < len(pairs):
            value = _RepeatedNames(value, pairs)
            repeated.append(True)
        return value

    try:
        value = json.loads(data, object_pairs_hook=object_from, parse_constant=_not_json)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from error
    if repeated:
        paths = list(_repeated_paths(value, ""))
        raise ApiError(
            422,
            "invalid_request",
            f"{paths[0]}: appears more than once in one JSON object; send each name once",
            {"errors": [{"path": p, "message": "appears more than once"} for p in paths[:20]]},
        )
    return value


class _RepeatedNames(dict):
    """A JSON object in which some name appeared more than once."""

    def __init__(self, value: dict, pairs: list[tuple[str, object]]):
        super().__init__(value)
        seen: set[str] = set()
        self.repeated = list(dict.fromkeys(k for k, _ in pairs if k in seen or seen.add(k)))


def _repeated_paths(value: object, path: str):
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        for name in getattr(value, "repeated", ()):
            yield f"{prefix}{name}"
        for name, item in value.items():
            yield from _repeated_paths(item, f"{prefix}{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _repeated_paths(item, f"{path}[{index}]")


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not a JSON value")


def _content_coding(request: Request) -> str:
    coding = request.headers.get("Content-Encoding", "identity").strip().lower() or "identity"
    if coding not in (*_GZIP, "identity"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Encoding {coding!r} is not supported; send the body as it is or gzip it",
            {"content_encoding": coding, "supported": list(SUPPORTED_CODINGS)},
        )
    return coding


def _decompress(raw: bytes, max_bytes: int) -> bytes:
    """A gzip body (one member or several), stopping at `max_bytes` decompressed bytes."""
    out = bytearray()
    rest = raw
    try:
        while rest:
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out += decompressor.decompress(rest, max_bytes + 1 - len(out))
            if len(out) > max_bytes:
                raise _too_large(max_bytes, decompressed=True)
            if not decompressor.eof:
                raise zlib.error("the compressed data ends early")
            rest = decompressor.unused_data
    except zlib.error as error:
        raise ApiError(
            400,
            "malformed_body",
            f"the body is labelled Content-Encoding: gzip but is not gzip data ({error})",
        ) from error
    return bytes(out)


def _read_at_most(stream, size: int) -> bytes:
    """Up to `size` bytes of the server's input stream; a broken framing is a 400."""
    data = bytearray()
    while len(data) < size:
        try:
            block = stream.read(min(_BLOCK, size - len(data)))
        except Exception as error:  # the server's parser: bad chunk size, missing terminator...
            raise ApiError(
                400,
                "malformed_body",
                f"the request body's framing is broken ({type(error).__name__}: {error})",
            ) from error
        if not block:
            break
        data += block
    return bytes(data)


def _too_large(max_bytes: int, decompressed: bool = False) -> ApiError:
    what = "decompressed body" if decompressed else "body"
    return ApiError(
        413,
        "body_too_large",
        f"request {what} too large; the limit is {max_bytes} bytes",
        {"max_body_bytes": max_bytes},
    )
