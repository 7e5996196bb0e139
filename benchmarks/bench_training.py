"""Training benchmark: time to train on 1,000 labeled rows, and the TweetEval stance F_avg.

    python benchmarks/bench_training.py [--skip-tweeteval]

Prints the wall time of `StanceModel().fit` on 1,000 rows of seeds/quotes.csv (embedding
included, model loaded beforehand; target < 60 s on 2 cores) and, when ../shared is present,
trains on TweetEval train.csv and reports the official pooled F_avg on test.csv next to the
published leaderboard.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training import StanceModel, evaluate, get_embedder, read_labeled_csv  # noqa: E402

LEADERBOARD = {
    "TimeLMs-2021 (RoBERTa-base)": 72.9,
    "BERTweet": 71.2,
    "RoBERTa-Base": 68.0,
    "SemEval-2016 winner (MITRE)": 67.8,
    "SVM (n-grams)": 67.3,
}


def time_training(rows: int) -> float:
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


def tweeteval(shared: Path) -> None:
    data = shared / "benchmarks" / "tweeteval-stance"
    if not data.is_dir():
        print(f"TweetEval: {data} not present, skipped")
        return
    train = read_labeled_csv([data / "train.csv"])
    test = read_labeled_csv([data / "test.csv"], require_min=False, deduplicate=False)
    model = StanceModel().fit(train)
    pooled = evaluate(model, test)["stance"]["all"]
    score = 100 * pooled["f_avg"]
    print(f"TweetEval stance test, official pooled F_avg: {score:.1f} (n={pooled['n']})")
    for system, published in LEADERBOARD.items():
        print(f"  vs {system:32s} {published:5.1f}  ->  {score - published:+.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tweeteval", action="store_true")
    parser.add_argument("--quick", action="store_true", help="Same as --skip-tweeteval.")
    args = parser.parse_args()
    seconds = time_training(1000)
    print(
        f"training on 1,000 rows: {seconds:.1f} s (target < 60 s) -> {seconds / 60:.2f} of budget"
    )
    if not (args.skip_tweeteval or args.quick):
        tweeteval(Path(os.environ.get("SHARED", ROOT.parent / "shared")))


if __name__ == "__main__":
    main()
