"""Fine-tuning the sentence encoder on labeled quotes, against the stock encoder (issue 14).

    python benchmarks/compare_finetuning.py [--epochs 2] [--folds 2] [--seed 0] [--soup 1]

A design measurement, not part of `make bench` (about 11 minutes here for 2 folds; --soup K
multiplies the fine-tuning time by K). Folds grouped by quote over the real news train split
(seeds/news_quote_labels.csv, texts joined from ../shared/real-quotes; the 300-quote test split
is never read); each fold trains on the seed quotes plus the other folds' real quotes and is
scored on its own real quotes. For each fold:
- stock: the default recipe (`StanceModel`: calibrated heads over the embedding plus word and
  character n-grams) on all-MiniLM-L6-v2 embeddings (the float32 reference);
- fine-tuned: the same recipe on embeddings of the encoder fine-tuned on the fold's training
  quotes exactly as `stance train --fine-tune-encoder` does (`training.fine_tuning.fine_tune`:
  every transformer layer, 2 epochs by default, weights rounded to the stored int8 delta);
  `--seed` sets the classification layers' initial weights and the order of the batches.
Prints stance F_avg per target, their mean and sentiment macro-F1 (x100) per fold and strategy.

Measured here (2026-11-30, 2 folds, 2 epochs; stock → fine-tuned; mean stance F_avg of the two
targets, sentiment macro-F1): with `training.fine_tuning`, --seed 0: fold 1 55.2 → 56.3, 66.6 →
68.9; fold 2 57.7 → 67.0, 66.3 → 69.2; --soup 2 (seeds 0 and 1 averaged): fold 1 55.2 →
59.8, 66.6 → 68.3; fold 2 57.7 → 60.7, 66.3 → 68.4. Earlier versions (float32, unsorted
batches), all six layers: --seed 0 fold 1 55.2 → 56.5, fold 2 57.7 → 62.3; --seed 1 55.2 → 66.3,
57.7 → 59.6; top two layers only: 55.2 → 52.2, 57.7 → 56.3 (no gain). Held-out data did not
confirm the gain (docs/training.md, "Fine-tuning the encoder").
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


def fine_tuned(frame: pd.DataFrame, epochs: int, seed: int, soup: int = 1):
    """all-MiniLM-L6-v2 fine-tuned on `frame` as `stance train --fine-tune-encoder` does
    (`training.fine_tuning`), its weights rounded to the stored delta. With `soup` > 1, the
    weights of `soup` fine-tunes (seeds `seed`, `seed` + 1, ...) averaged first (a uniform
    "model soup", Wortsman et al., ICML 2022)."""
    models = [
        fine_tune(resolve_model_path(), frame, epochs=epochs, seed=seed + i) for i in range(soup)
    ]
    model = models[0]
    if soup > 1:
        states = [m[0].auto_model.state_dict() for m in models]
        averaged = {name: sum(state[name] for state in states) / soup for name in states[0]}
        model[0].auto_model.load_state_dict(averaged)
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
    parser.add_argument(
        "--soup", type=int, default=1, help="fine-tunes averaged (seeds from --seed)"
    )
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
        tuned = embedded(fine_tuned(train, args.epochs, args.seed, args.soup), everything)
        label = f"fine-tuned, {args.epochs} ep" + (f", soup {args.soup}" if args.soup > 1 else "")
        for name, vectors in (("stock", stock), (label, tuned)):
            n, r, s = scores(train, test, vectors)
            print(f"{fold + 1:<6d}{name:26s}{n:7.1f}{r:8.1f}{(n + r) / 2:7.1f}{s:7.1f}")
        print(f"      ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
