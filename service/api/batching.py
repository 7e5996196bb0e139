"""Dynamic micro-batching: concurrent requests in one worker share one encode call.

Requests put their texts on a queue and wait. One daemon thread takes the first waiting job,
collects more until `max_size` texts or until `max_wait_ms` after the batch opened, then runs a
single `model.embed` (the expensive transformer pass, over de-duplicated texts) and the heads for
all of them. A batch opens when its first job arrives or, if that job queued while the thread
was busy, when the thread gets to it: under load, the clients answered by the last batch have
the window to send their next request, and concurrent clients end up in one batch instead of
alternating between two half-size ones (16 clients: 4 -> 6.5 quotes per batch, about 5% more
requests/s).

Requests announced with `admitted()` (the HTTP layer does this) let the batcher skip the wait
when every admitted request is already in the batch and the previous batch was a lone request:
at concurrency 1 a request never waits.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from training import Bundle, QuoteScore

log = logging.getLogger(__name__)
_STOP = object()


class BatcherStopped(RuntimeError):
    """The batcher is shutting down and will not score this request."""


@dataclass(eq=False)
class _Job:
    bundle: Bundle
    texts: list[str]
    arrived: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    scores: list[QuoteScore] | None = None
    error: BaseException | None = None


class MicroBatcher:
    """Coalesces `score` calls from many threads into few `embed` + heads passes."""

    def __init__(
        self,
        max_size: int = 64,
        max_wait_ms: float = 2.0,
        on_batch: Callable[[int], None] | None = None,
    ):
        self.max_size = max_size
        self.max_wait = max_wait_ms / 1000
        self.on_batch = on_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._admitted = 0
        self._admitted_lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stance-batcher", daemon=True)
        self._thread.start()

    def score(self, bundle: Bundle, texts: list[str], timeout: float | None = None) -> list:
        """Scores of `texts` (all of the bundle's targets), computed with other waiting texts."""
        if not texts:
            return []
        if self._stopped.is_set():
            raise BatcherStopped("the service is shutting down")
        job = _Job(bundle, list(texts))
        self._queue.put(job)
        if not job.done.wait(timeout):
            raise TimeoutError(f"scoring did not finish within {timeout} s")
        if job.error is not None:
            raise job.error
        assert job.scores is not None
        return job.scores

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Announce a request that is about to call `score` (so batches wait only for real ones)."""
        with self._admitted_lock:
            self._admitted += 1
        try:
            yield
        finally:
            with self._admitted_lock:
                self._admitted -= 1

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in progress, fail the jobs still queued, end the thread."""
        self._stopped.set()
        self._queue.put(_STOP)
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        carried: _Job | None = None
        alone = True  # whether the previous batch held a single request
        while True:
            first = carried if carried is not None else self._queue.get()
            carried = None
            if first is _STOP:
                break
            jobs, size = [first], len(first.texts)
            closes = max(first.arrived, time.monotonic()) + self.max_wait
            while size < self.max_size and not (alone and 0 < self._admitted <= len(jobs)):
                remaining = closes - time.monotonic()
                try:
                    if remaining > 0:
                        job = self._queue.get(timeout=remaining)
                    else:
                        job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP or size + len(job.texts) > self.max_size:
                    carried = job
                    break
                jobs.append(job)
                size += len(job.texts)
            alone = len(jobs) == 1
            self._flush(jobs)
        self._fail_waiting(carried)

    def _flush(self, jobs: list[_Job]) -> None:
        by_bundle: dict[int, list[_Job]] = {}
        for job in jobs:
            by_bundle.setdefault(id(job.bundle), []).append(job)
        for group in by_bundle.values():
            try:
                self._score_group(group)
            except Exception as error:  # handed to each waiting request, which re-raises it
                for job in group:
                    job.error = error
            for job in group:
                job.done.set()

    def _score_group(self, jobs: list[_Job]) -> None:
        model = jobs[0].bundle.model
        unique = list(dict.fromkeys(text for job in jobs for text in job.texts))
        if self.on_batch is not None:
            self.on_batch(len(unique))
        scores = dict(zip(unique, model.score(unique, batch=model.embed(unique)), strict=True))
        for job in jobs:
            job.scores = [scores[text] for text in job.texts]

    def _fail_waiting(self, carried: _Job | None) -> None:
        pending = [carried] if isinstance(carried, _Job) else []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Job):
                pending.append(item)
        for job in pending:
            job.error = BatcherStopped("the service is shutting down")
            job.done.set()
