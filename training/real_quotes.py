"""Real news quotes we labeled: the labels are committed keyed by id, the texts stay in ../shared.

`seeds/news_quote_labels.csv` holds one row per quote and target: `id, source, target, stance,
sentiment, round, split` (`round`: random, round1..3 of `stance suggest`; `split`: train or
test, the 300-quote real-news test split). The quotations are other people's words: they are
read from the pool (`../shared/real-quotes/pool.jsonl`, `id` and `text` per line) when training
or evaluating, never copied into the repository. Speakers are never used.

    python -m training.real_quotes OUT.csv [--split train|test|all] [--pool PATH]

writes the joined labeled CSV (`text,target,stance,sentiment,source,id`) for `stance train`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "seeds" / "news_quote_labels.csv"
POOL = ROOT.parent / "shared" / "real-quotes" / "pool.jsonl"
COLUMNS = ["text", "target", "stance", "sentiment", "source", "id"]


class PoolMissing(FileNotFoundError):
    """The pool of real quotations (../shared) is not on this machine."""


def labeled_frame(split: str = "train", pool: Path = POOL, labels: Path = LABELS) -> pd.DataFrame:
    """The labeled rows of `split` (train, test or all) with their texts joined from `pool`."""
    if not pool.is_file():
        raise PoolMissing(f"{pool} is not present: the real news labels cannot be joined")
    texts = {}
    with pool.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts[record["id"]] = record["text"]
    frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
    if split != "all":
        frame = frame[frame["split"] == split]
    missing = sorted(set(frame["id"]) - set(texts))
    if missing:
        raise PoolMissing(f"{len(missing)} labeled ids are not in {pool} (first: {missing[0]})")
    frame = frame.assign(text=frame["id"].map(texts))
    return frame[COLUMNS].reset_index(drop=True)


def as_labeled_quotes(frame: pd.DataFrame, path: Path | None = None):
    """Joined rows (from `labeled_frame`) as `LabeledQuotes`, read back from a CSV by the reader
    every user's labeled file goes through (`read_labeled_csv`). The CSV is `path` when given
    (kept, e.g. to train on it again), else a temporary file."""
    from training.data import read_labeled_csv

    if path is not None:
        frame[COLUMNS].to_csv(path, index=False)
        return read_labeled_csv([path], require_min=False)
    with tempfile.TemporaryDirectory() as scratch:
        return as_labeled_quotes(frame, Path(scratch) / "real-news.csv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--split", choices=("train", "test", "all"), default="train")
    parser.add_argument("--pool", type=Path, default=POOL)
    args = parser.parse_args(argv)
    try:
        frame = labeled_frame(args.split, args.pool)
    except PoolMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".{output.name}.tmp")
    frame.to_csv(temporary, index=False)
    temporary.replace(output)
    print(f"{frame['id'].nunique()} real quotes ({args.split}) -> {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
