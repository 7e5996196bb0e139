"""Batch scoring speed, accuracy kept and memory, measured in one run on the same texts.

    python benchmarks/bench_batch.py            # all ~5,200 distinct texts; 1,000,000-row run
    python benchmarks/bench_batch.py --quick    # 400 texts; 100,000-row memory run; no TweetEval

1. Throughput: quotes/s of `score_files` (what `stance score` runs, with the encoder it picks
   here) versus the faster of two plain baselines — `SentenceTransformer.encode` + the model's
   heads batch after batch in input order, and one `encode` call over all texts (which sorts
   them by length) + one pass of the heads — on the same distinct texts (tweets from
   ../shared/benchmarks/tweeteval-stance, quotes from ../shared/archives). Both use the same
   loaded model; model loading is not timed. Also timed: a RoBERTa-base sequence classifier
   (random weights, the size of the TweetEval leaderboard's models) on the first 1,000 texts.
2. Accuracy: a model trained on TweetEval train, scored on test by each encoder; the official
   pooled F_avg of the fast encoder may fall at most 0.5 below full precision (torch float32).
3. Memory: `stance score` on a generated file of 1,000,000 rows (mostly repeated texts) runs as a
   child process; its peak RSS comes from resource.getrusage(RUSAGE_CHILDREN). It runs first,
   while this process is small: Linux counts the parent's memory in a child's peak up to exec.

Exit code 1 when the ratio is below 3.0, F_avg falls by more than 0.5, or the peak memory is
above 1.5 GiB.
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
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared")
MEMORY_LIMIT_GIB = 1.5
MIN_RATIO = 3.0
MAX_F_DROP = 0.5
BATCH = 64
ROBERTA_TEXTS = 1000


def distinct_texts(limit: int) -> list[str]:
    """Distinct tweets and quotes from ../shared, interleaved so lengths are mixed."""
    tweets: list[str] = []
    for path in sorted((SHARED / "benchmarks" / "tweeteval-stance").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as stream:
            tweets.extend(row["text"] for row in csv.DictReader(stream))
    quotes: list[str] = []
    for path in sorted((SHARED / "archives").glob("*.json.bz2")):
        with bz2.open(path, "rt", encoding="utf-8") as stream:
            quotes.extend(json.loads(line)["quotation"] for line in stream if line.strip())
    if not tweets and not quotes:
        sys.exit(f"no texts under {SHARED}; set SHARED to the shared data directory")
    mixed = [t for pair in zip(tweets, quotes, strict=False) for t in pair]
    mixed += tweets[len(quotes) :] + quotes[len(tweets) :]
    return list(dict.fromkeys(t for t in mixed if t.strip()))[:limit]


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


def throughput(count: int) -> float:
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
    plain = min(loop, call)  # the faster plain baseline
    roberta_texts = texts[:ROBERTA_TEXTS]
    roberta = roberta_loop(bundle, roberta_texts)
    ratio = plain / ours
    rate = len(texts) / ours
    roberta_rate = len(roberta_texts) / roberta
    print(f"texts: {len(texts):,} distinct (tweeteval-stance + quotebank samples), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"plain encode + heads, batches of {BATCH} in input order, torch {threads} threads: "
          f"{len(texts) / loop:7.1f} quotes/s ({loop:.1f} s)")  # fmt: skip
    print(f"plain encode + heads, one encode call (sorts by length), torch {threads} threads: "
          f"{len(texts) / call:7.1f} quotes/s ({call:.1f} s)")  # fmt: skip
    print(f"stance score (local engine, default encoder {bundle.model.embedder.encoder}): "
          f"{rate:7.1f} quotes/s ({ours:.1f} s)")  # fmt: skip
    print(f"RoBERTa-base classifier, batches of {BATCH}, {len(roberta_texts):,} texts: "
          f"{roberta_rate:7.1f} quotes/s ({roberta:.1f} s)")  # fmt: skip
    print(f"ratio stance score / faster plain baseline: {ratio:.2f} (must be >= {MIN_RATIO}, "
          f"goal 5); / batches in input order: {loop / ours:.2f}; "
          f"/ RoBERTa-base: {rate / roberta_rate:.1f}")  # fmt: skip
    return ratio


def accuracy_drop() -> float:
    """Pooled TweetEval test F_avg of each encoder; returns full precision minus the default."""
    from training import StanceModel, evaluate, get_embedder, read_labeled_csv

    data = SHARED / "benchmarks" / "tweeteval-stance"
    embedder = get_embedder()
    model = StanceModel(embedder=embedder).fit(read_labeled_csv([data / "train.csv"]))
    test = read_labeled_csv([data / "test.csv"])
    scores = {}
    for encoder in ("torch", embedder.requested_encoder):
        model.embedder = embedder.with_encoder(encoder)
        f_avg = 100 * evaluate(model, test)["stance"]["all"]["f_avg"]
        scores[encoder] = f_avg
        change = f"{f_avg - scores['torch']:+.2f}"
        print(f"TweetEval test pooled F_avg (trained on train) with {model.embedder.encoder}: "
              f"{f_avg:.2f} ({change} versus float32; may fall at most {MAX_F_DROP})")  # fmt: skip
    return scores["torch"] - scores[embedder.requested_encoder]


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
    ratio = throughput(args.texts or (400 if args.quick else 100_000))
    drop = 0.0 if args.quick else accuracy_drop()
    ok = ratio >= MIN_RATIO and drop <= MAX_F_DROP and peak < MEMORY_LIMIT_GIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
