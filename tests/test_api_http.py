"""HTTP as real clients speak it, against a real gunicorn (`stance serve`) on loopback.

Chunked bodies past the limit, broken framing, gunicorn's own protocol errors, and slow
clients that trickle their requests: raw sockets, bounded in time, loopback only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_BODY = 20_000
READ_TIMEOUT = 4
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`stance serve` with one worker of 4 threads, a small body limit and a short read timeout."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = os.environ | {
        "STANCE_MAX_BODY_BYTES": str(MAX_BODY),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("STANCE_API_TOKEN", None)
    command = [sys.executable, "-m", "service.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--threads", "4", "--read-timeout", str(READ_TIMEOUT)]
    with open(log_path, "w+") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
        try:
            deadline = time.monotonic() + 120
            while not _ready(port):
                assert process.poll() is None and time.monotonic() < deadline, "no /ready"
                time.sleep(0.25)
            yield port, log_path
        finally:
            process.terminate()
            process.wait(30)
            log.seek(0)
            sys.stderr.write(log.read()[-3000:])


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def exchange(port: int, data: bytes, *, close_write: bool = True) -> bytes:
    """Send raw bytes, then read the answer until the server closes (at most 10 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    while block := sock.recv(65536):
        received += block
    return received


def parse(answer: bytes) -> tuple[int, dict[str, str], object]:
    """The final response's status, headers and JSON body (interim 1xx answers skipped)."""
    while answer.startswith(b"HTTP/1.1 1"):
        answer = answer.split(b"\r\n\r\n", 1)[1]
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    assert headers["content-type"] == "application/json", answer[:300]
    return int(status_line.split()[1]), headers, json.loads(body)


def error_of(answer: bytes, status: int, code: str) -> dict:
    got, _, body = parse(answer)
    assert got == status, body
    assert set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status and body["error"]["code"] == code, body
    return body["error"]


def post(body: bytes, *headers: bytes) -> bytes:
    head = b"POST /stance HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def chunked(data: bytes, size: int = 1000) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


QUOTE = json.dumps({"text": "Allies must spend more on defence, and soon."}).encode()


def test_chunked_body_within_the_limit_is_scored(server):
    port, _ = server
    status, headers, body = parse(
        exchange(port, post(chunked(QUOTE, 7), b"Transfer-Encoding: chunked"))
    )
    assert status == 200 and body["quotes"][0]["text"].startswith("Allies must spend")
    assert headers["connection"] == "keep-alive"


def test_chunked_body_past_the_limit_is_413(server):
    port, _ = server
    big = json.dumps({"text": "defence " * (MAX_BODY // 8)}).encode()
    assert MAX_BODY < len(big) < 2 * MAX_BODY
    answer = exchange(port, post(chunked(big), b"Transfer-Encoding: chunked"))
    error = error_of(answer, 413, "body_too_large")
    assert error["details"] == {"max_body_bytes": MAX_BODY}
    assert parse(answer)[1]["connection"] == "close"
    sized = exchange(port, post(big, b"Content-Length: %d" % len(big)))
    error_of(sized, 413, "body_too_large")


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # not a hexadecimal size
        b"-5\r\n{}\r\n0\r\n\r\n",  # a negative size
        b"2\r\n{}XX0\r\n\r\n",  # a chunk not ended by CRLF
        b'64\r\n{"text": "short"}',  # the body ends inside a chunk of 100 bytes
    ],
    ids=["bad-size", "negative-size", "missing-terminator", "truncated"],
)
def test_malformed_chunked_framing_is_a_json_400_without_a_traceback(server, body):
    port, log = server
    error = error_of(
        exchange(port, post(body, b"Transfer-Encoding: chunked")), 400, "malformed_body"
    )
    assert "framing is broken" in error["message"]
    assert "Traceback" not in log.read_text()


def test_body_shorter_than_its_content_length_is_400(server):
    port, _ = server
    answer = exchange(port, post(b'{"text": "a"}', b"Content-Length: 100"))
    error = error_of(answer, 400, "malformed_body")
    assert "13 of the 100 bytes" in error["message"]


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (post(b"{}", b"Content-Length: abc"), 400, "bad_request"),
        (post(b"{}", b"Content-Length: 2", b"Content-Length: 3"), 400, "bad_request"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n", 431, "headers_too_large"),
        (post(b"{}", b"Content-Length: 2", b"Expect: a-miracle"), 417, "expectation_failed"),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    ],
    ids=["bad-length", "two-lengths", "oversize-header", "unknown-expect", "long-uri"],
)  # fmt: skip
def test_protocol_errors_answered_by_gunicorn_itself_are_json(server, request_bytes, status, code):
    port, _ = server
    error = error_of(exchange(port, request_bytes), status, code)
    assert error["message"]


def test_expect_100_continue_gets_one_interim_answer_then_the_score(server):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post(b"", b"Content-Length: %d" % len(QUOTE), b"Expect: 100-continue"))
        assert sock.recv(1000) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(QUOTE)
        sock.shutdown(socket.SHUT_WR)
        answer = _read_all(sock)
    assert b"100 Continue" not in answer
    assert parse(answer)[0] == 200


def test_a_client_that_never_finishes_its_request_gets_408(server):
    port, _ = server
    started = time.monotonic()
    answer = exchange(port, post(b'{"text": "', b"Content-Length: 40"), close_write=False)
    waited = time.monotonic() - started
    error = error_of(answer, 408, "request_timeout")
    assert f"within {READ_TIMEOUT} s" in error["message"]
    assert READ_TIMEOUT - 0.5 < waited < READ_TIMEOUT + 3


def _trickle(port: int, data: bytes, stop: float) -> None:
    """Send one byte every 0.1 s until `stop`, then hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in data:
            if time.monotonic() > stop:
                return
            sock.send(bytes([byte]))
            time.sleep(0.1)


def test_health_and_stance_answer_within_a_second_while_20_slow_clients_are_connected(server):
    port, _ = server
    stop = time.monotonic() + READ_TIMEOUT - 0.5  # before the read timeout frees them
    slow_head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100 + b"\r\n\r\n"
    slow_body = post(b'{"text": "' + b"a" * 100 + b'"}', b"Content-Length: 112")
    clients = [
        threading.Thread(target=_trickle, args=(port, slow_head if i % 2 else slow_body, stop))
        for i in range(20)
    ]
    for client in clients:
        client.start()
    time.sleep(0.5)  # every slow client is connected and sending
    timings = []
    while time.monotonic() < stop - 0.3:
        for path, data in (("/health", None), ("/stance", QUOTE)):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", data, {"Content-Type": "application/json"}
            )
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=1) as response:
                assert response.status == 200
            timings.append(time.monotonic() - started)
    for client in clients:
        client.join(10)
    assert len(timings) >= 4 and max(timings) < 1.0, timings
