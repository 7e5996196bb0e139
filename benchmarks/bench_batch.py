"""Batch scoring speed, accuracy kept and memory, measured in one run on the same texts.

    python benchmarks/bench_batch.py            # 12,000 distinct texts; 1,000,000-row run
    python benchmarks/bench_batch.py --quick    # 1,000 texts; 100,000-row memory run; no TweetEval

1. Throughput, whole processes: `stance score` of a CSV of distinct real texts (tweets from
   ../shared/benchmarks/tweeteval-stance, quotes from ../shared/archives and
   ../shared/real-quotes, quotations from PolNeAR's articles), timed from process start to exit,
   against the plain peer timed the same way: a script that reads the CSV with pandas, runs
   `SentenceTransformer.encode` and the bundle's scikit-learn heads, and writes a CSV
   (benchmarks/peers/plain_encode_lr.py). Start-up counts: it is what users wait for.
   In-process numbers follow for reference: `score_files` against `encode` + heads batch after
   batch and in one call, and a RoBERTa-base classifier (random weights, the size of the
   TweetEval leaderboard's models) on the first 1,000 texts.
2. Accuracy: TweetEval test F_avg of a model trained on TweetEval train with `stance train` and
   scored with `stance evaluate`, by this checkout and by the revision before the scoring path
   dropped PyTorch (its own code, in a temporary worktree), and by the float32 reference.
3. Memory: `stance score` on a generated file of 1,000,000 rows (mostly repeated texts) runs as a
   child process; its peak RSS comes from resource.getrusage(RUSAGE_CHILDREN). It runs first,
   while this process is small: Linux counts the parent's memory in a child's peak up to exec.

Exit code 1 when the process ratio is below 3.0, F_avg moves by more than 0.1 against the
revision before, or the peak memory is above 1.5 GiB.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from revisions import BEFORE_RUNTIME_ENCODER, ROOT, checkout

SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared")
MEMORY_LIMIT_GIB = 1.5
MIN_RATIO = 3.0
MAX_F_CHANGE = 0.1
BATCH = 64
ROBERTA_TEXTS = 1000


def distinct_texts(limit: int) -> list[str]:
    """Distinct real tweets, quotes and news quotations from ../shared, interleaved so that
    lengths are mixed."""
    from service.extraction.corpus import read_polnear

    tweets: list[str] = []
    for path in sorted((SHARED / "benchmarks" / "tweeteval-stance").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as stream:
            tweets.extend(row["text"] for row in csv.DictReader(stream))
    quotes: list[str] = []
    for path in sorted((SHARED / "archives").glob("*.json.bz2")):
        with bz2.open(path, "rt", encoding="utf-8") as stream:
            quotes.extend(json.loads(line)["quotation"] for line in stream if line.strip())
    pool = SHARED / "real-quotes" / "pool.jsonl"
    if pool.exists():
        quotes.extend(json.loads(line)["text"] for line in pool.open(encoding="utf-8"))
    news: list[str] = []
    polnear = SHARED / "attribution" / "polnear" / "data"
    for split in ("train", "dev"):
        if (polnear / split).is_dir():
            for article in read_polnear(polnear / split):
                news.extend(a.content.text for a in article.quote_like())
    if not tweets and not quotes:
        sys.exit(f"no texts under {SHARED}; set SHARED to the shared data directory")
    shortest = min(len(tweets), len(quotes), len(news))
    mixed = [t for group in zip(tweets, quotes, news, strict=False) for t in group]
    for source in (tweets, quotes, news):
        mixed += source[shortest:]
    return list(dict.fromkeys(t.strip() for t in mixed if t.strip()))[:limit]


def plain_loop(bundle, texts: list[str]) -> float:
    """Seconds for SentenceTransformer.encode + head prediction, batch by batch."""
    from training import QuoteBatch

    transformer = bundle.model.embedder.sentence_transformer
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        vectors = transformer.encode(batch, batch_size=BATCH, normalize_embeddings=True)
        bundle.model.score(batch, batch=QuoteBatch(batch, vectors))
    return time.perf_counter() - started


def plain_call(bundle, texts: list[str]) -> float:
    """Seconds for one SentenceTransformer.encode call over all texts (it sorts them by length,
    so batches carry little padding) + one pass of the heads."""
    from training import QuoteBatch

    transformer = bundle.model.embedder.sentence_transformer
    started = time.perf_counter()
    vectors = transformer.encode(texts, batch_size=BATCH, normalize_embeddings=True)
    bundle.model.score(texts, batch=QuoteBatch(texts, vectors))
    return time.perf_counter() - started


def batch_scorer(bundle, texts: list[str], directory: Path) -> float:
    """Seconds for score_files on a CSV of `texts` (reading, scoring, parts, assembly)."""
    from service.batch import score_files

    source = directory / "texts.csv"
    with open(source, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(texts))
    started = time.perf_counter()
    result = score_files(
        [str(source)], directory / "scored.parquet", bundle=bundle, force=True, progress=False
    )
    elapsed = time.perf_counter() - started
    assert result.rows == len(texts) and result.errors == 0
    return elapsed


def roberta_loop(bundle, texts: list[str]) -> float:
    """Seconds for a RoBERTa-base sequence classifier (random weights) over `texts`.

    No RoBERTa tokenizer ships offline; the MiniLM tokenizer's ids (all inside RoBERTa's
    vocabulary) give sequences of about the same length.
    """
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    model = RobertaForSequenceClassification(RobertaConfig(num_labels=3)).eval()
    tokenizer = bundle.model.embedder.sentence_transformer.tokenizer
    with torch.inference_mode():
        model(**tokenizer(texts[:8], padding=True, return_tensors="pt"))  # warm up
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            batch = tokenizer(
                texts[start : start + BATCH],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
                return_token_type_ids=False,
            )
            model(**batch).logits.softmax(-1)
        return time.perf_counter() - started


def write_texts(path: Path, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(texts))


def timed_process(command: list[str], cwd: Path) -> float:
    """Wall-clock seconds of a command from start to exit (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def processes(texts: list[str]) -> float:
    """`stance score` and the plain peer on the same CSV, each timed as a whole process."""
    with tempfile.TemporaryDirectory() as tmp:
        source, tmp = Path(tmp) / "texts.csv", Path(tmp)
        write_texts(source, texts)
        python = sys.executable
        ours = timed_process(
            [python, "-m", "service.cli", "score", str(source), "-o", str(tmp / "ours.csv"),
             "--no-progress"], ROOT,
        )  # fmt: skip
        peer_script = ROOT / "benchmarks" / "peers" / "plain_encode_lr.py"
        peer = timed_process([python, str(peer_script), str(source), str(tmp / "peer.csv")], ROOT)
        import pandas as pd

        rows = [len(pd.read_csv(tmp / name)) for name in ("ours.csv", "peer.csv")]
    assert rows == [len(texts), len(texts)], rows
    ratio = peer / ours
    print(f"whole processes on {len(texts):,} distinct texts: stance score {ours:.1f} s "
          f"({len(texts) / ours:.0f} quotes/s), plain encode + LR script {peer:.1f} s "
          f"({len(texts) / peer:.0f} quotes/s): ratio {ratio:.2f} "
          f"(must be >= {MIN_RATIO}, goal 5)")  # fmt: skip
    return ratio


def in_process(count: int) -> None:
    """The same comparison inside one process (model loading not timed), and RoBERTa-base."""
    import torch

    from training import load_bundle

    texts = distinct_texts(count)
    bundle = load_bundle()
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        warm = texts[:32]
        plain_loop(bundle, warm)
        batch_scorer(bundle, warm, Path(tmp))
        loop = plain_loop(bundle, texts)
        call = plain_call(bundle, texts)
        ours = batch_scorer(bundle, texts, Path(tmp))
    roberta_texts = texts[:ROBERTA_TEXTS]
    roberta = roberta_loop(bundle, roberta_texts)
    rate = len(texts) / ours
    roberta_rate = len(roberta_texts) / roberta
    print(f"in one process, {len(texts):,} texts, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}:")  # fmt: skip
    print(f"  plain encode + heads, batches of {BATCH} in input order, torch {threads} threads: "
          f"{len(texts) / loop:7.1f} quotes/s ({loop:.1f} s)")  # fmt: skip
    print(f"  plain encode + heads, one encode call (sorts by length), torch {threads} threads: "
          f"{len(texts) / call:7.1f} quotes/s ({call:.1f} s)")  # fmt: skip
    print(
        f"  score_files (local engine, {bundle.model.embedder.encoder}): "
        f"{rate:7.1f} quotes/s ({ours:.1f} s); {min(loop, call) / ours:.2f}x the faster plain"
    )
    print(f"  RoBERTa-base classifier, batches of {BATCH}, {len(roberta_texts):,} texts: "
          f"{roberta_rate:7.1f} quotes/s ({roberta:.1f} s)")  # fmt: skip


def tweeteval(tree: Path, work: Path, encoder: str | None = None) -> float:
    """TweetEval test F_avg (pooled, x100) of `stance train` + `stance evaluate` run in `tree`."""
    data = SHARED / "benchmarks" / "tweeteval-stance"
    env = os.environ | {"PYTHONPATH": str(tree), "STANCE_MODELS_DIR": str(work)}
    if encoder:
        env["STANCE_ENCODER"] = encoder
    stance = [sys.executable, "-m", "service.cli"]
    if not (work / "tweeteval").exists():
        train = [*stance, "train", str(data / "train.csv"), "--cv", "0", "--name", "tweeteval"]
        subprocess.run([*train, "--out", str(work)], cwd=tree, env=env, check=True,
                       capture_output=True)  # fmt: skip
    evaluate = [*stance, "evaluate", "--model", "tweeteval", str(data / "test.csv"), "--json"]
    done = subprocess.run(evaluate, cwd=tree, env=env, check=True, capture_output=True, text=True)
    return 100 * json.loads(done.stdout)["stance"]["all"]["f_avg"]


def accuracy_change() -> float:
    """TweetEval F_avg before and after (each revision's own code); returns the change."""
    with tempfile.TemporaryDirectory() as tmp, checkout(BEFORE_RUNTIME_ENCODER) as old:
        after = tweeteval(ROOT, Path(tmp) / "after")
        reference = tweeteval(ROOT, Path(tmp) / "after", encoder="torch")
        print(f"TweetEval test pooled F_avg (stance train on train, stance evaluate on test): "
              f"{after:.2f} (float32 reference: {reference:.2f})")  # fmt: skip
        if old is None:
            return 0.0
        before = tweeteval(old, Path(tmp) / "before")
        print(f"  before ({BEFORE_RUNTIME_ENCODER}): {before:.2f}; change {after - before:+.2f} "
              f"(at most {MAX_F_CHANGE})")  # fmt: skip
        return after - before


def generate(path: Path, rows: int, texts: list[str]) -> None:
    """A gzip CSV of `rows` quotes cycling through `texts`, with actors and dates."""
    actors = ["President Obama", "Angela Merkel", "Donald Trump", "None", "Vladimir Putin"]
    with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=1) as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "actor", "date"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)], actors[i % 5], f"2015-{1 + i % 12:02d}-01"])


def memory(rows: int, distinct: int) -> float:
    """Peak RSS (GiB) of `stance score` on a generated file of `rows` rows, in a child."""
    texts = distinct_texts(distinct)
    stance = Path(sys.executable).with_name("stance")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "generated.csv.gz"
        generate(source, rows, texts)
        command = [str(stance), "score", str(source), "-o", str(Path(tmp) / "out.parquet"),
                   "--actors", str(Path(tmp) / "actors.csv"), "--no-progress"]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True)
        elapsed = time.perf_counter() - started
        import pyarrow.parquet as pq

        written = pq.read_metadata(Path(tmp) / "out.parquet").num_rows
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB -> GiB
    print(f"memory: {rows:,} rows ({len(texts):,} distinct texts) → {written:,} rows in "
          f"{elapsed:.0f} s ({rows / elapsed:,.0f} rows/s); peak RSS {peak:.2f} GiB "
          f"(target < {MEMORY_LIMIT_GIB} GiB)")  # fmt: skip
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Short run.")
    parser.add_argument("--texts", type=int, help="Distinct texts for the throughput run.")
    parser.add_argument("--rows", type=int, help="Rows of the generated memory-run file.")
    args = parser.parse_args()
    # Memory first: a child's peak RSS includes the parent's when it forks, so the parent must
    # still be small (no model loaded) when it starts `stance score`.
    peak = memory(args.rows or (100_000 if args.quick else 1_000_000), 1000)
    ratio = processes(distinct_texts(args.texts or (1_000 if args.quick else 12_000)))
    in_process(min(args.texts or 5_000, 5_000) if not args.quick else 400)
    change = 0.0 if args.quick else accuracy_change()
    ok = ratio >= MIN_RATIO and abs(change) <= MAX_F_CHANGE and peak < MEMORY_LIMIT_GIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
