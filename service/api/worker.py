"""The gunicorn worker of `stance serve`: gthread, except that slow clients never hold a thread.

gunicorn's gthread worker gives a connection to a request thread as soon as its first bytes
arrive; the thread then reads the rest of the head and the body from the socket. A client that
trickles them (a slow mobile link, or slowloris on purpose) holds that thread for as long as it
likes, and 20 such clients held every thread of the service while /health timed out.

`BufferingWorker` reads each request whole in the worker's event loop first (non-blocking, in
memory, like a buffering reverse proxy), then hands it to a thread that finds it all buffered:
a thread only ever waits for the model, never for a client. The whole request (head and body)
must arrive within `read_timeout_s` of its first byte (of the connection, for the first
request), else the client gets 408 and the connection is closed. A request that cannot become
valid (bad framing, too large) is handed over as soon as that is known, to be answered at once.
Memory: at most `worker_connections` requests of at most the head limits plus the body limit.

It also answers the protocol errors gunicorn detects itself (bad Content-Length, oversize
headers, unknown Expect, bad chunk sizes...) in the API's JSON error shape instead of HTML.

TLS is not terminated here: with `certfile` set, the worker behaves exactly like gthread.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import time
from dataclasses import dataclass
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from service.api.errors import error_body, http_error_code
from service.api.incoming import CONTINUE, IncomingRequest

_RECV = 1 << 16


@dataclass(frozen=True)
class ReadLimits:
    """How much and how slowly a client may send one request."""

    body_bytes: int = 1_000_000
    timeout_s: float = 30.0


class BufferingWorker(ThreadWorker):
    """gthread with whole requests buffered by the event loop before a thread takes them."""

    def init_process(self) -> None:
        limits = getattr(self.app, "read_limits", None) or ReadLimits()
        self.read_limits = limits
        self.max_head = _max_head(self.cfg)
        self.reading: dict[object, float] = {}  # connection -> deadline
        # gunicorn writes the errors it finds itself through this one function (as HTML).
        util.write_error = write_json_error
        super().init_process()

    def enqueue_req(self, conn) -> None:
        """Buffer the connection's next request; a thread takes it once it is whole."""
        if self.cfg.is_ssl:
            super().enqueue_req(conn)
            return
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.incoming = IncomingRequest(self.read_limits.body_bytes, self.max_head, leftover)
        if conn.sock.gettimeout() != 0.0:  # only after a pipelined request: no syscall otherwise
            conn.sock.setblocking(False)
        self._receive(conn, waiting=False)  # usually all there already: no trip to the poller

    def _receive(self, conn, waiting: bool, _fileobj=None) -> None:
        """Take what the socket holds; hand the request over once it is ready, else wait."""
        incoming = conn.incoming
        while not incoming.ready:
            try:
                data = conn.sock.recv(_RECV)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data = b""
            if not data:  # the client closed its side: what it sent is all there is
                if waiting:
                    self._stop_waiting(conn)
                if incoming.buffer:
                    self._hand_over(conn)
                else:
                    self._close(conn)
                return
            incoming.feed(data)
            if incoming.send_continue:
                incoming.send_continue = False
                _send_quietly(conn.sock, CONTINUE)
        if incoming.ready:
            if waiting:
                self._stop_waiting(conn)
            self._hand_over(conn)
        elif not waiting:
            self.reading[conn] = time.monotonic() + self.read_limits.timeout_s
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self._receive, conn, True)
            )

    def _hand_over(self, conn) -> None:
        """Give the buffered request to a thread, as if gunicorn had read it from the socket."""
        data = bytes(conn.incoming.buffer)
        conn.incoming.buffer.clear()
        conn.init()  # the thread makes the socket blocking again
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        super().enqueue_req(conn)

    def handle_request(self, req, conn):
        """Run the app; a request not read whole closes its connection (said in the answer)."""
        incoming = getattr(conn, "incoming", None)
        if incoming is not None and not incoming.whole:
            req.must_close = True  # what is left of it on the socket is never drained
        return super().handle_request(req, conn)

    def _keepalive_after(self, conn, keepalive):
        incoming, conn.incoming = getattr(conn, "incoming", None), None
        if incoming is not None and not incoming.whole:
            return False
        return super()._keepalive_after(conn, keepalive)

    def _stop_waiting(self, conn) -> None:
        del self.reading[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _close(self, conn) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also answer 408 to clients past their read deadline (503 while stopping); a
        connection that never sent a byte is closed without an answer, like an idle one."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.reading.items()):
            if self.alive and deadline > now:
                continue
            self._stop_waiting(conn)
            if conn.incoming.buffer:
                self._give_up(conn)
            self._close(conn)

    def _give_up(self, conn) -> None:
        if self.alive:
            timeout = self.read_limits.timeout_s
            message = f"the request did not arrive whole within {timeout:g} s"
            write_json_error(conn.sock, 408, "Request Timeout", message)
        else:
            message = "the server is restarting; send the request again"
            write_json_error(conn.sock, 503, "Service Unavailable", message)


def write_json_error(sock, status: int, reason: str, message: str) -> None:
    """An error response in the API's JSON shape, then the connection closes."""
    code = "shutting_down" if status == 503 else http_error_code(status)
    body = json.dumps(error_body(status, code, message or reason)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    _send_quietly(sock, head.encode("latin-1") + body)


def _send_quietly(sock, data: bytes) -> None:
    """Best effort: a client that is gone or not reading gets nothing, and nothing blocks."""
    with contextlib.suppress(OSError):
        util.write_nonblock(sock, data)


def _max_head(cfg) -> int:
    """The largest request head gunicorn's own limits allow (0 means unlimited: 1 MiB)."""
    if not cfg.limit_request_line or not cfg.limit_request_field_size:
        return 1 << 20
    fields = cfg.limit_request_fields or 32768
    return cfg.limit_request_line + 2 + fields * (cfg.limit_request_field_size + 2) + 2
