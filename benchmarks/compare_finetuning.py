"""Fine-tuning the sentence encoder on labeled quotes, against the stock encoder (issue 14).

    python benchmarks/compare_finetuning.py [--layers 6] [--epochs 2] [--folds 2] [--seed 0]

A design measurement, not part of `make bench` (about 11 minutes here for 2 folds). Folds
grouped by quote over the real news train split (seeds/news_quote_labels.csv, texts joined from
../shared/real-quotes; the 300-quote test split is never read); each fold trains on the seed
quotes plus the other folds' real quotes and is scored on its own real quotes. For each fold:
- stock: the default recipe (`StanceModel`: calibrated heads over the embedding plus word and
  character n-grams) on all-MiniLM-L6-v2 embeddings (the float32 reference);
- fine-tuned: the same recipe on embeddings of the same encoder after fine-tuning its top
  `--layers` transformer layers (token embeddings frozen) on the fold's training quotes, as one
  multi-task classifier: a linear layer per target and one for sentiment over the normalised
  mean-pooled embedding (scaled by 10), summed cross-entropy, AdamW at 5e-5, batches of 16,
  `--epochs` epochs; `--seed` sets the initial head weights and the order of the batches.
Prints stance F_avg per target, their mean and sentiment macro-F1 (x100) per fold and strategy.

Measured here (2026-11-30, 2 folds, 2 epochs; stock → fine-tuned; mean stance F_avg of the two
targets, sentiment macro-F1):
- all 6 layers, --seed 0: fold 1 55.2 → 56.5, 66.6 → 68.3; fold 2 57.7 → 62.3, 66.3 → 68.7
- all 6 layers, --seed 1: fold 1 55.2 → 66.3, 66.6 → 67.2; fold 2 57.7 → 59.6, 66.3 → 68.0
  (a first version of this script, differing only in the order of the batches: 55.2 → 63.6 and
  57.7 → 60.1; nato_spending alone 39.2 → 53.6 against 40.8 here: the order matters a lot);
- top 2 layers: fold 1 55.2 → 52.2, fold 2 57.7 → 56.3: no gain.
Not built into the product yet: see docs/training.md ("Fine-tuning the encoder").
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training import StanceModel, read_labeled_csv  # noqa: E402
from training.data import LabeledQuotes  # noqa: E402
from training.embedding import resolve_model_path  # noqa: E402
from training.evaluation import report  # noqa: E402
from training.fine_tuning import fine_tune, quantised  # noqa: E402
from training.real_quotes import PoolMissing, labeled_frame  # noqa: E402
from training.scorer import QuoteBatch  # noqa: E402
from training.scores import STANCE_LABELS  # noqa: E402

TARGETS = ("nato_spending", "russia_rapprochement")
COLUMNS = ["text", "target", "stance", "sentiment"]


def fine_tuned(frame: pd.DataFrame, epochs: int, seed: int):
    """all-MiniLM-L6-v2 fine-tuned on `frame` as `stance train --fine-tune-encoder` does
    (`training.fine_tuning`), its weights rounded to the stored delta."""
    model = fine_tune(resolve_model_path(), frame, epochs=epochs, seed=seed)
    quantised(model, resolve_model_path())
    return model


def embedded(model, texts: list[str]) -> dict[str, np.ndarray]:
    import torch

    with torch.no_grad():
        vectors = model.encode(texts, batch_size=64, convert_to_numpy=True)
    return dict(zip(texts, vectors.astype(np.float32), strict=True))


def scores(train: pd.DataFrame, test: pd.DataFrame, vectors: dict) -> list[float]:
    """[F_avg per target..., sentiment macro-F1] x100 of the default recipe on `test`."""
    model = StanceModel().fit(LabeledQuotes(train.reset_index(drop=True), ["x"], "", {}), vectors)
    stance = test.copy()
    for target, rows in stance.groupby("target"):
        batch = QuoteBatch.looked_up(rows["text"].tolist(), vectors)
        best = model.predict_proba(batch, target).argmax(axis=1)
        stance.loc[rows.index, "predicted"] = np.asarray(STANCE_LABELS)[best]
    sentiment = test.dropna(subset=["sentiment"]).drop_duplicates("text").copy()
    texts = sentiment["text"].tolist()
    batch = QuoteBatch.looked_up(texts, vectors)
    sentiment["predicted"] = [s.sentiment.label for s in model.score(texts, [], batch)]
    metrics = report(stance, sentiment)
    return [100 * metrics["stance"][t]["f_avg"] for t in TARGETS] + [
        100 * metrics["sentiment"]["macro_f1"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="fine-tuning's random seed")
    args = parser.parse_args()
    try:
        real = labeled_frame("train")[COLUMNS]
    except PoolMissing as error:
        sys.exit(f"real news labels: {error}")
    seeds = read_labeled_csv([ROOT / "seeds" / "quotes.csv"]).frame[COLUMNS]
    texts = sorted(real["text"].unique())
    random.Random(0).shuffle(texts)
    fold_of = real["text"].map({text: i % args.folds for i, text in enumerate(texts)})
    everything = sorted(set(seeds["text"]) | set(real["text"]))
    from sentence_transformers import SentenceTransformer

    stock = embedded(SentenceTransformer(resolve_model_path(), device="cpu"), everything)
    print(f"{'fold':6s}{'encoder':26s}{'nato':>7s}{'russia':>8s}{'mean':>7s}{'sent':>7s}")
    for fold in range(args.folds):
        started = time.perf_counter()
        train = pd.concat([seeds, real[fold_of != fold]], ignore_index=True)
        test = real[fold_of == fold]
        tuned = embedded(fine_tuned(train, args.epochs, args.seed), everything)
        for name, vectors in (("stock", stock), (f"fine-tuned, {args.epochs} ep", tuned)):
            n, r, s = scores(train, test, vectors)
            print(f"{fold + 1:<6d}{name:26s}{n:7.1f}{r:8.1f}{(n + r) / 2:7.1f}{s:7.1f}")
        print(f"      ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
