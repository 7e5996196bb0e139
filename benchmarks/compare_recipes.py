"""Recipe candidates for the default model, compared on real news quotes (issue 14).

    python benchmarks/compare_recipes.py [CANDIDATE ...] [--embedding-model DIR ...]

Cross-validation grouped by quote on the real news train split (seeds/news_quote_labels.csv,
texts joined from ../shared/real-quotes; the 300-quote test split is never read): 5 folds of the
real quotes; each candidate trains on the other four folds (plus the seed quotes unless it says
otherwise) and is scored on the held-out fold. Prints stance F_avg per target, their mean and
sentiment macro-F1 (x100, mean over folds), and the paired difference of each candidate against
the default recipe with its standard error over the folds: a candidate wins only by more than
about twice that. Stance is scored twice: on the held-out quotes as labeled (the pool's stance
frequencies: few of its quotes take a position on defence spending) and reweighted to the seed
quotes' stance frequencies (quotes about the targets, about half of them taking a position;
importance weights per gold label, `training.evaluation.report`). Not part of `make bench` (it
is a design measurement, about 5 minutes here); its last numbers and the decision are in
docs/training.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training import StanceModel, get_embedder, read_labeled_csv  # noqa: E402
from training.data import LabeledQuotes  # noqa: E402
from training.evaluation import evaluate  # noqa: E402
from training.real_quotes import PoolMissing, as_labeled_quotes, labeled_frame  # noqa: E402

TARGETS = ("nato_spending", "russia_rapprochement")
FOLDS = 5
COLUMNS = ["text", "target", "stance", "sentiment", "file", "line"]
SEEDS = ("quotes.csv",)
# The default recipe's StanceModel parameters (`make model`: seed quotes + real train quotes,
# `--position-share 0.45`); each candidate changes some of them.
DEFAULT = {"position_share": 0.45}
BASE = "default"
# name: (StanceModel parameters over DEFAULT, synthetic training files in seeds/, copies of each
# real row)
CANDIDATES = {
    BASE: ({}, SEEDS, 1),
    "no position share": ({"position_share": None}, SEEDS, 1),
    "synthetic only": ({}, SEEDS, 0),
    "real only": ({}, (), 1),
    "real rows weighted x2": ({}, SEEDS, 2),
    "+ implied-position quotes": ({}, (*SEEDS, "implied_positions.csv"), 1),
    "C = 2": ({"C": 2.0}, SEEDS, 1),
    "sigmoid calibration": ({"calibration": "sigmoid"}, SEEDS, 1),
    "no calibration": ({"calibration": None}, SEEDS, 1),
    "embedding weight 2": ({"embedding_weight": 2.0}, SEEDS, 1),
    "no character n-grams": ({"char_ngrams": None}, SEEDS, 1),
    "no word n-grams": ({"word_ngrams": None}, SEEDS, 1),
    "embedding only, uncalibrated LR": (
        {"word_ngrams": None, "char_ngrams": None, "calibration": None},
        SEEDS,
        1,
    ),
}


def dev_folds(real: pd.DataFrame) -> pd.Series:
    """Each real train row's dev fold (0 to FOLDS - 1), grouped by quote (seeded shuffle)."""
    ids = np.array(sorted(real["id"].unique()))
    np.random.RandomState(0).shuffle(ids)
    return real["id"].map({quote: i % FOLDS for i, quote in enumerate(ids)})


def scores(params, seeds, copies, train, test, embedder, vectors, prior) -> list[float]:
    """[F_avg nato_spending, F_avg russia_rapprochement, sentiment macro-F1, F_avg nato_spending
    and russia_rapprochement reweighted to `prior`] x100 on `test`."""
    frames = [frame[COLUMNS] for frame in seeds]
    frames += [as_labeled_quotes(train).frame] * copies
    data = LabeledQuotes(pd.concat(frames, ignore_index=True), ["x"], "", {})
    model = StanceModel(embedder=embedder, **(DEFAULT | params)).fit(data, vectors)
    metrics = evaluate(model, as_labeled_quotes(test), prior)
    return [
        *(100 * metrics["stance"][t]["f_avg"] for t in TARGETS),
        100 * metrics["sentiment"]["macro_f1"],
        *(100 * metrics["reweighted"][t]["f_avg"] for t in TARGETS),
    ]


def main(names: list[str], embedding_models: list[str]) -> None:
    try:
        real = labeled_frame("train")
    except PoolMissing as error:
        sys.exit(f"real news labels: {error}")
    unknown = set(names) - set(CANDIDATES)
    if unknown:
        sys.exit(f"unknown candidates {sorted(unknown)}; choose from {list(CANDIDATES)}")
    encoders = {f"encoder {Path(m).name}": m for m in embedding_models}
    everything = not names and not encoders  # no candidate named: all of them
    names = [BASE, *(n for n in CANDIDATES if n != BASE and (everything or n in names))]
    files = sorted({name for _, synthetic, _ in CANDIDATES.values() for name in synthetic})
    seeds = {
        name: read_labeled_csv([ROOT / "seeds" / name], require_min=False).frame for name in files
    }
    texts = sorted(set(real["text"]).union(*(frame["text"] for frame in seeds.values())))
    prior = LabeledQuotes(seeds[SEEDS[0]], [], "", {}).stance_frequencies()
    # Each candidate's recipe and encoder: another encoder runs the default recipe.
    recipes = {name: CANDIDATES[name] for name in names} | dict.fromkeys(encoders, CANDIDATES[BASE])
    stock = get_embedder()
    embedders = dict.fromkeys(names, stock) | {n: get_embedder(m) for n, m in encoders.items()}
    names += list(encoders)
    stock_vectors = stock.vectors(texts)
    vectors = {n: stock_vectors if e is stock else e.vectors(texts) for n, e in embedders.items()}
    fold_of = dev_folds(real)
    results = {name: [] for name in names}
    started = time.perf_counter()
    for fold in range(FOLDS):
        train, test = real[fold_of != fold], real[fold_of == fold]
        for name in names:
            params, synthetic, copies = recipes[name]
            chosen = [seeds[file] for file in synthetic]
            results[name].append(
                scores(params, chosen, copies, train, test, embedders[name], vectors[name], prior)
            )
        print(f"fold {fold + 1}/{FOLDS} ({time.perf_counter() - started:.0f} s)", flush=True)
    base = np.array(results[BASE])
    print(f"{'candidate':34s}{'nato':>7s}{'russia':>8s}{'mean':>7s}{'sent':>7s}"
          f"{'diff mean':>16s}{'diff sent':>15s}")  # fmt: skip
    for name in names:
        values = np.array(results[name])
        mean_diff = values[:, :2].mean(1) - base[:, :2].mean(1)
        sent_diff = values[:, 2] - base[:, 2]
        m = values.mean(0)
        print(f"{name:34s}{m[0]:7.1f}{m[1]:8.1f}{m[:2].mean():7.1f}{m[2]:7.1f}"
              f"{mean_diff.mean():+9.1f} ±{stderr(mean_diff):4.1f}"
              f"{sent_diff.mean():+8.1f} ±{stderr(sent_diff):4.1f}")  # fmt: skip
    print("\nreweighted to the seed quotes' stance frequencies:")
    print(f"{'candidate':34s}{'nato':>7s}{'russia':>8s}{'mean':>7s}{'diff mean':>16s}")
    for name in names:
        values = np.array(results[name])[:, 3:]
        mean_diff = values.mean(1) - base[:, 3:].mean(1)
        m = values.mean(0)
        print(f"{name:34s}{m[0]:7.1f}{m[1]:8.1f}{m.mean():7.1f}"
              f"{mean_diff.mean():+9.1f} ±{stderr(mean_diff):4.1f}")  # fmt: skip


def stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="*", help="candidate names (default: all)")
    parser.add_argument(
        "--embedding-model",
        action="append",
        default=[],
        help="a sentence-transformers directory: the default recipe on its embeddings",
    )
    args = parser.parse_args()
    main(args.candidates, args.embedding_model)
