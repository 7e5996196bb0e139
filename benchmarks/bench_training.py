"""Training benchmark: wall time to train the default recipe on 1,000 labeled rows.

    python benchmarks/bench_training.py

Times `StanceModel().fit` on the first 1,000 rows of seeds/quotes.csv (embedding included, the
embedding model loaded beforehand); target < 60 s on 2 cores. Quality is measured by
bench_accuracy.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training import StanceModel, get_embedder, read_labeled_csv  # noqa: E402

TARGET_SECONDS = 60


def time_training(rows: int) -> float:
    """Seconds to fit on the first `rows` rows of the seed quotes."""
    seeds = pd.read_csv(ROOT / "seeds" / "quotes.csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        seeds.head(rows).to_csv(path, index=False)
        quotes = read_labeled_csv([path])
        embedder = get_embedder()
        embedder.encode(["warm-up"])
        started = time.perf_counter()
        StanceModel(embedder=embedder).fit(quotes)
        return time.perf_counter() - started


def main() -> None:
    seconds = time_training(1000)
    print(
        f"training on 1,000 rows: {seconds:.1f} s (target < {TARGET_SECONDS} s) "
        f"-> {seconds / TARGET_SECONDS:.2f} of the budget; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
