"""Prometheus metrics of one app; across gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set.

In multiprocess mode (set up by `stance serve`) every worker writes its samples to files in
that directory and /metrics, answered by any worker, aggregates all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def multiprocess_dir() -> str | None:
    """The directory shared by gunicorn workers, when metrics are aggregated across them."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServiceMetrics:
    """Requests by route and status, latency, quotes scored, encode batch sizes, model version."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "stance_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "stance_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.quotes = Counter("stance_quotes_scored", "Quotes scored.", registry=r)
        self.batch_size = Histogram(
            "stance_encode_batch_size",
            "Distinct texts per micro-batch encode call.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.reloads = Counter(
            "stance_model_loads", "Model loads and reloads by outcome.", ["outcome"], registry=r
        )
        self.model = Gauge(
            "stance_model_info",
            "1 for the model version a worker serves.",
            ["version"],
            multiprocess_mode="liveall",
            registry=r,
        )

    def model_changed(self, old, new, error: str | None) -> None:
        """Listener for ModelHolder: count the load and flag the served version."""
        self.reloads.labels("failed" if error else "ok").inc()
        if new is not None:
            if old is not None and old.version != new.version:
                self.model.labels(old.version).set(0)
            self.model.labels(new.version).set(1)

    def exposition(self) -> bytes:
        """The text format of every metric (of every worker in multiprocess mode)."""
        if multiprocess_dir():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
