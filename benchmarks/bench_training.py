"""Training cost per labeled row, before and after, measured side by side in one run.

    python benchmarks/bench_training.py [--sizes 1000 4000 8000] [--no-before]

Real labeled text, from ../shared and seeds/: the TweetEval stance splits (tweets, five
targets), the seed quotes, and the real news quotes labeled in seeds/news_quote_labels.csv
(texts joined from ../shared/real-quotes). For each size, rows drawn at random (fixed seed)
are trained with `stance train FILE --cv 5` (the default options) as a fresh process: wall
clock, the peak RSS of the largest process (training, or one of its workers) and the
cross-validated pooled F_avg from the bundle's manifest. Then 5% new rows are added and the
same command runs again (the rerun after a labeling round). "after" is this checkout with an
empty embedding cache; "before" is the revision before issue 18, run from a temporary git
worktree (`benchmarks/revisions.py`). A last run reports the peak RSS for 10,000 rows (the rows
above, padded with PolNeAR quotations under random labels of one extra target: for memory only).

Targets (issue 18): 8,000 rows in <= 120 s on the first run and <= 60 s on the rerun (goal 60 s
and 20 s); cost grows at most linearly with rows. Exit code 1 when "after" misses one.

Measured here (quiet 2-core machine, 2026-11-30, stop 22): 8,000 rows first run 57.2 s (before
118.0 s), rerun after +5% 50.7 s (before 124.7 s), 2.1x and 2.5x faster; 10,001 rows peak RSS
887 MiB. This machine's speed drifts by a third between hours (an hour later, from a clean
clone: after 80.1 s / 66.9 s, before 147.2 s / 144.5 s), so compare the ratios. Where the
time goes and the full table: docs/training.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import ROOT, checkout

SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared")
BEFORE = "c097f5c"  # the last revision before issue 18's training changes
FIRST_LIMIT, RERUN_LIMIT = 120.0, 60.0


def labeled_rows() -> list[dict]:
    """Every real labeled row available: (text, target, stance, sentiment)."""
    rows = []
    tweeteval = SHARED / "benchmarks" / "tweeteval-stance"
    for split in ("train", "val", "test"):
        with open(tweeteval / f"{split}.csv", encoding="utf-8", newline="") as stream:
            rows += [r | {"sentiment": ""} for r in csv.DictReader(stream)]
    with open(ROOT / "seeds" / "quotes.csv", encoding="utf-8", newline="") as stream:
        rows += list(csv.DictReader(stream))
    labels, pool = ROOT / "seeds" / "news_quote_labels.csv", SHARED / "real-quotes" / "pool.jsonl"
    if labels.exists() and pool.exists():
        texts = {(r := json.loads(line))["id"]: r["text"] for line in pool.open(encoding="utf-8")}
        with open(labels, encoding="utf-8", newline="") as stream:
            rows += [r | {"text": texts[r["id"]]} for r in csv.DictReader(stream)]
    keep = ("text", "target", "stance", "sentiment")
    return [{k: r.get(k) or "" for k in keep} for r in rows]


def quotes_of(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by text, so that a sample keeps every row of the quotes it takes."""
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["text"], []).append(row)
    return grouped


def sample(grouped: dict[str, list[dict]], size: int, rng: random.Random) -> list[dict]:
    """About `size` rows of whole quotes, at random, but first 8 quotes of every target and
    label (the calibrated heads and 5-fold cross-validation need some of each)."""
    texts = list(grouped)
    rng.shuffle(texts)
    first: dict[tuple, list[str]] = {}
    for text in texts:
        for row in grouped[text]:
            first.setdefault((row["target"], row["stance"]), []).append(text)
    taken = dict.fromkeys(t for picks in first.values() for t in picks[:8])
    taken |= dict.fromkeys(texts)
    chosen: list[dict] = []
    for text in taken:
        if len(chosen) >= size:
            break
        chosen += grouped[text]
    return chosen


def write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, ["text", "target", "stance", "sentiment"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def train(tree: Path, data: Path, work: Path, cache: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CV pooled F_avg of `stance train` in `tree`."""
    env = os.environ | {"PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    # An empty embedding cache for each tree's first run; the converted encoder stays where it is.
    env |= {"STANCE_EMBEDDING_CACHE": "on", "STANCE_EMBEDDING_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "service.cli", "train", str(data), "--cv", "5"]
    command += ["--out", str(work), "--name", "bench", "--force", "--min-per-class", "5"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{tree}: stance train failed:\n{process.stderr.read().decode()[-3000:]}")
    process.stderr.close()
    manifest = json.loads((work / "bench" / "manifest.json").read_text())
    f_avg = 100 * manifest["metrics"]["stance"]["all"]["f_avg"]
    return seconds, usage.ru_maxrss / 1024, f_avg


def measure(tree: Path, sizes: list[int], grouped, scratch: Path) -> dict:
    results = {}
    scratch.mkdir(parents=True, exist_ok=True)
    cache = scratch / "cache"
    for size in sizes:
        rng = random.Random(size)
        rows = sample(grouped, size, rng)
        first = train(tree, write(scratch / f"{size}.csv", rows), scratch / "models", cache)
        extra = [r for r in sample(grouped, size + size // 20, rng) if r not in rows]
        grown = rows + extra[: size // 20]
        again = train(tree, write(scratch / f"{size}b.csv", grown), scratch / "models", cache)
        results[size] = (len(rows), first, len(grown), again)
        print(f"  {tree.name}: {len(rows):,} rows {first[0]:.1f} s; "
              f"+5% {len(grown):,} rows {again[0]:.1f} s", flush=True)  # fmt: skip
    return results


def memory_run(grouped, scratch: Path) -> tuple[int, float, float]:
    """Peak RSS of training 10,000 rows: labeled rows drawn as for the sizes above, padded with
    PolNeAR texts under random labels when fewer are labeled."""
    from service.extraction.corpus import read_polnear

    scratch.mkdir(parents=True, exist_ok=True)
    rng = random.Random(10_000)
    rows = sample(grouped, 10_000, rng)
    for article in read_polnear(SHARED / "attribution" / "polnear" / "data" / "train"):
        for attribution in article.quote_like():
            if len(rows) >= 10_000:
                break
            label = rng.choice(("favor", "against", "none"))
            rows.append({"text": attribution.content.text, "target": "padding", "stance": label,
                         "sentiment": ""})  # fmt: skip
    seconds, rss, _ = train(ROOT, write(scratch / "10000.csv", rows), scratch / "models",
                            scratch / "cache-memory")  # fmt: skip
    return len(rows), seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--no-before", action="store_true", help="skip the earlier revision")
    args = parser.parse_args()
    grouped = quotes_of(labeled_rows())
    total = sum(len(g) for g in grouped.values())
    print(f"{total:,} labeled rows ({len(grouped):,} quotes); {os.cpu_count()} CPUs")
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        results["after"] = measure(ROOT, args.sizes, grouped, scratch / "after")
        if not args.no_before:
            with checkout(BEFORE) as old:
                if old is not None:
                    results["before"] = measure(old, args.sizes, grouped, scratch / "before")
        memory = memory_run(grouped, scratch / "memory")
    report(results, memory)


def report(results: dict, memory: tuple[int, float, float]) -> None:
    print("stance train --cv 5: wall clock, peak RSS of the largest process, CV pooled F_avg")
    print(f"{'':8s}{'rows':>7s}{'first run':>22s}{'rows':>8s}{'rerun (+5%)':>14s}"
          f"{'CV F_avg':>10s}")  # fmt: skip
    for label, runs in results.items():
        for rows, (s1, m1, f1), grown, (s2, _, _) in runs.values():
            print(f"{label:8s}{rows:7,d}{s1:9.1f} s {m1:7.0f} MiB{grown:8,d}{s2:12.1f} s"
                  f"{f1:10.2f}")  # fmt: skip
    after = results["after"]
    per_row = {size: run[1][0] / run[0] for size, run in after.items()}
    print("after, seconds per 1,000 rows: " + ", ".join(
        f"{size:,}: {1000 * s:.2f}" for size, s in per_row.items()))  # fmt: skip
    if "before" in results:
        for size in after:
            b, a = results["before"][size], after[size]
            print(f"{size:,} rows: first run {b[1][0] / a[1][0]:.1f}x faster, rerun "
                  f"{b[3][0] / a[3][0]:.1f}x faster; CV F_avg {b[1][2]:.2f} -> "
                  f"{a[1][2]:.2f}")  # fmt: skip
    rows, seconds, rss = memory
    print(f"memory: {rows:,} rows trained in {seconds:.0f} s, peak RSS {rss:.0f} MiB")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    largest = max(after)
    failed = []
    if after[largest][1][0] > FIRST_LIMIT:
        failed.append(f"first run of {largest:,} rows {after[largest][1][0]:.0f} s")
    if after[largest][3][0] > RERUN_LIMIT:
        failed.append(f"rerun of {largest:,} rows {after[largest][3][0]:.0f} s")
    smallest = min(after)
    if per_row[largest] > 1.5 * per_row[smallest]:
        failed.append("cost grows faster than linearly")
    if failed:
        sys.exit("missed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
