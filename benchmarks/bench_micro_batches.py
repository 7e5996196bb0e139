"""Micro-batch benchmark: what scoring costs per quote in the small batches a service worker
forms, against one batch of all the quotes, on one core with one encoder thread (how each
service worker runs on 2 cores).

    python benchmarks/bench_micro_batches.py [--seconds S]

Prints quotes/s of `model.score` on random micro-batches of 1 to 16 seed quotes and on all of
them at once, each as a ratio of the all-at-once rate. At the micro-batch size 16 clients
produce (bench_service.py prints it, about 6), the rate times the number of workers is what the
service could reach if HTTP and batching cost nothing (docs/service.md compares the two).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_service import quote_texts  # noqa: E402  (the same texts as the service benchmark)

SIZES = (1, 2, 4, 6, 8, 16)


def micro_batch_rate(model, texts: list[str], size: int, seconds: float) -> float:
    """Quotes/s of `model.score` on random micro-batches of `size` texts for `seconds`."""
    draw = random.Random(size)
    model.score(draw.sample(texts, size))  # warm up
    scored, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        scored += len(model.score(draw.sample(texts, size)))
    return scored / (time.perf_counter() - started)


def whole_rate(model, texts: list[str], repeats: int = 3) -> float:
    """Best quotes/s of `model.score` on all `texts` at once."""
    model.score(texts[:64])  # warm up
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        model.score(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="per micro-batch size")
    args = parser.parse_args()

    # Pinned before the encoder starts any thread, so that every thread stays on this core;
    # no tokenizer thread pool, as in a service worker.
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(1)
    from training import load_bundle

    model = load_bundle().model
    texts = quote_texts()
    whole = whole_rate(model, texts)
    print(f"{len(texts)} distinct quotes; core {core}, 1 encoder thread; {model.embedder.encoder}")
    print(f"all at once: {whole:.1f} quotes/s ({1000 / whole:.2f} ms per quote)")
    for size in SIZES:
        rate = micro_batch_rate(model, texts, size, args.seconds)
        print(
            f"micro-batches of {size:2d}: {rate:6.1f} quotes/s ({1000 / rate:.2f} ms per quote) "
            f"= {rate / whole:.2f} x all at once"
        )


if __name__ == "__main__":
    main()
