"""When an HTTP/1.1 request has arrived whole: the bytes a worker buffers before a thread runs it.

`IncomingRequest` is fed the bytes of a connection as they arrive and says when the request
(head and body) is complete. It only looks for the end of the request: judging the request is
left to gunicorn's parser and to the application. So it also says "ready" as soon as the
bytes can no longer become a good request (a bad Content-Length or chunk size, a transfer
coding other than chunked, a head or body past the limits): the thread that takes it then finds
the error in what is buffered and answers at once, without reading the socket again.

Scanning is incremental (each byte is looked at once), so a client trickling a large body
costs the event loop no more than a fast one.
"""

from __future__ import annotations

import re

_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_CHUNK_LINE_MAX = 8190
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class IncomingRequest:
    """The buffered bytes of one request and where their scan has got to."""

    def __init__(self, max_body: int, max_head: int, data: bytes = b""):
        self.max_body = max_body
        self.max_head = max_head
        self.buffer = bytearray()
        self.ready = False  # complete, or as far as buffering should go
        self.whole = False  # the whole request is in `buffer`
        self.send_continue = False  # the client waits for "100 Continue" before its body
        self._head_end: int | None = None
        self._body_end: int | None = None  # Content-Length requests
        self._chunk_at: int | None = None  # chunked requests: start of the next size line
        self._chunked_total = 0
        self._searched = 0
        if data:
            self.feed(data)

    def feed(self, data: bytes) -> bool:
        """Add bytes as they arrived; True once the request is ready for a thread."""
        self.buffer += data
        if self.ready:
            return True
        if self._head_end is None:
            self._find_head()
        if self._head_end is not None and not self.ready:
            self._find_body_end()
        return self.ready

    def _stop(self, whole: bool = False) -> None:
        self.ready, self.whole = True, whole

    def _find_head(self) -> None:
        end = self.buffer.find(b"\r\n\r\n", max(0, self._searched - 3))
        self._searched = len(self.buffer)
        if end < 0:
            if len(self.buffer) > self.max_head:
                self._stop()  # gunicorn answers 431 or 414
            return
        self._head_end = end + 4
        self._read_head(bytes(self.buffer[:end]))

    def _read_head(self, head: bytes) -> None:
        request_line, *lines = head.split(b"\r\n")
        fields: dict[bytes, list[bytes]] = {}
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon:
                return self._stop()  # a malformed field: gunicorn answers 400
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        codings = [
            c.strip().lower() for v in fields.get(b"transfer-encoding", []) for c in v.split(b",")
        ]
        lengths = set(fields.get(b"content-length", []))
        if codings:
            if codings != [b"chunked"] or lengths:
                return self._stop()  # gunicorn answers 400 or 501
            self._chunk_at = self._head_end
        elif lengths:
            (length,) = lengths if len(lengths) == 1 else (b"",)
            if not length.isdigit() or int(length) > self.max_body:
                return self._stop()  # 400 from gunicorn, or 413 from the application
            self._body_end = self._head_end + int(length)
        else:
            return self._stop(whole=True)  # no body
        expect = [v.lower() for v in fields.get(b"expect", [])]
        if expect and request_line.endswith(b"HTTP/1.1"):
            if expect != [b"100-continue"]:
                return self._stop()  # gunicorn answers 417
            self._drop_expect(head)

    def _drop_expect(self, head: bytes) -> None:
        """Answer "100 Continue" here; the thread must not send it a second time."""
        kept = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"expect:")]
        new_head = b"\r\n".join(kept) + b"\r\n\r\n"
        shift = self._head_end - len(new_head)
        self.buffer[: self._head_end] = new_head
        self._head_end -= shift
        if self._body_end is not None:
            self._body_end -= shift
        if self._chunk_at is not None:
            self._chunk_at -= shift
        self.send_continue = True

    def _find_body_end(self) -> None:
        if self._body_end is not None:
            if len(self.buffer) >= self._body_end:
                self._stop(whole=True)
            return
        while not self.ready and self._next_chunk():
            pass

    def _next_chunk(self) -> bool:
        """Step over one chunk of a chunked body; False when more bytes are needed."""
        at = self._chunk_at
        line_end = self.buffer.find(b"\r\n", at, at + _CHUNK_LINE_MAX + 2)
        if line_end < 0:
            if len(self.buffer) - at > _CHUNK_LINE_MAX:
                self._stop()  # gunicorn answers 431 (chunk size line too long)
            return False
        size_text = bytes(self.buffer[at:line_end]).split(b";")[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            self._stop()  # gunicorn answers 400 (invalid chunk size)
            return False
        size, data_at = int(size_text, 16), line_end + 2
        if size == 0:
            return self._find_trailers(data_at)
        if self._chunked_total + size > self.max_body:
            # Too large: buffer the body up to one byte past the limit, which the application
            # reads to answer 413 without waiting on the socket.
            if len(self.buffer) > data_at + self.max_body - self._chunked_total:
                self._stop()
            return False
        if len(self.buffer) < data_at + size + 2:
            return False
        if self.buffer[data_at + size : data_at + size + 2] != b"\r\n":
            self._stop()  # gunicorn answers 400 (missing chunk terminator)
            return False
        self._chunked_total += size
        self._chunk_at = data_at + size + 2
        return True

    def _find_trailers(self, at: int) -> bool:
        """The last chunk is followed by trailer fields (rarely) and an empty line."""
        if self.buffer[at : at + 2] == b"\r\n" or self.buffer.find(b"\r\n\r\n", at) >= 0:
            self._stop(whole=True)
        elif len(self.buffer) - at > self.max_head:
            self._stop()  # gunicorn answers 431
        return False
