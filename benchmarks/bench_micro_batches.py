"""Micro-batch benchmark: what scoring costs per quote in the small batches a service worker
forms, against one batch of all the quotes, in this process laid out like one service worker
(its cores and encoder threads; on 2 cores: one core, one thread).

    python benchmarks/bench_micro_batches.py [--seconds S]

Prints quotes/s of `model.score` on random micro-batches of 1 to 16 seed quotes and on all of
them at once, with the milliseconds per quote of the embedding (`model.embed`: tokeniser and
transformer) and of the heads apart, and each rate, and the embedding's alone, as a ratio of
the all-at-once one. At the micro-batch size 16 clients
produce (bench_service.py prints it, about 6), the rate times the number of workers is what the
service could reach if HTTP and batching cost nothing (docs/service.md compares the two).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_service import quote_texts  # noqa: E402  (the same texts as the service benchmark)

SIZES = (1, 2, 4, 6, 8, 16)


class Cost(NamedTuple):
    """Milliseconds per quote of `model.embed` (tokeniser and transformer) and of the heads."""

    embedding: float
    heads: float

    @property
    def rate(self) -> float:
        """Quotes/s of `model.score`."""
        return 1000 / (self.embedding + self.heads)


def scoring_cost(model, batches: Iterator[list[str]], seconds: float) -> Cost:
    """What `model.score` costs per quote on `batches`, embedding and heads timed apart, over
    about `seconds` (at least one batch)."""
    embedding = heads = 0.0
    scored = 0
    for texts in batches:
        started = time.perf_counter()
        batch = model.embed(texts)
        embedded = time.perf_counter()
        model.score(texts, batch=batch)
        embedding += embedded - started
        heads += time.perf_counter() - embedded
        scored += len(texts)
        if embedding + heads >= seconds:
            break
    return Cost(1000 * embedding / scored, 1000 * heads / scored)


def micro_batch_cost(model, texts: list[str], size: int, seconds: float) -> Cost:
    """The cost on random micro-batches of `size` texts."""
    draw = random.Random(size)
    model.score(draw.sample(texts, size))  # warm up
    return scoring_cost(model, iter(lambda: draw.sample(texts, size), None), seconds)


def whole_cost(model, texts: list[str], repeats: int = 3) -> Cost:
    """The lowest cost of all `texts` at once."""
    model.score(texts[:64])  # warm up
    return min((scoring_cost(model, [texts], 0) for _ in range(repeats)), key=sum)


def describe(cost: Cost) -> str:
    return f"{sum(cost):.2f} ms per quote: embedding {cost.embedding:.2f}, heads {cost.heads:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="per micro-batch size")
    args = parser.parse_args()

    # Laid out like the first worker of `stance serve` with its default worker count, by the
    # service's own rules; pinned before the encoder starts any thread, so that every thread
    # stays on the worker's cores; no tokenizer thread pool, as in a worker.
    from service.api.server import encoder_threads_per_worker, worker_core_sets

    workers = os.cpu_count() or 1
    cores = (worker_core_sets(workers, sorted(os.sched_getaffinity(0))) or [None])[0]
    if cores:
        os.sched_setaffinity(0, cores)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from training.encoders import set_encoder_threads

    threads = encoder_threads_per_worker(workers)
    set_encoder_threads(threads)
    from training import load_bundle

    model = load_bundle().model
    texts = quote_texts()
    whole = whole_cost(model, texts)
    print(
        f"{len(texts)} distinct quotes; one of {workers} workers: cores {sorted(cores or [])}, "
        f"{threads} encoder thread(s); {model.embedder.encoder}"
    )
    print(f"all at once:       {whole.rate:6.1f} quotes/s ({describe(whole)})")
    for size in SIZES:
        cost = micro_batch_cost(model, texts, size, args.seconds)
        print(
            f"micro-batches of {size:2d}: {cost.rate:6.1f} quotes/s ({describe(cost)}) "
            f"= {cost.rate / whole.rate:.2f} x all at once; "
            f"embedding alone {whole.embedding / cost.embedding:.2f} x"
        )


if __name__ == "__main__":
    main()
