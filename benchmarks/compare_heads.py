"""Stance head variants beyond the recipe's parameters, on the real news dev folds (issue 14).

    python benchmarks/compare_heads.py

The folds, data and scoring of `compare_recipes.py` (5 folds grouped by quote over the real news
train split, the seed quotes always in training, the 300-quote test split never read), for
variants that `StanceModel`'s parameters do not express:
- **target-conditioned features**: one head for both targets over the default features with a
  shared copy and one copy per target (`[x, x·[target = t] for each t]`, the feature
  augmentation of Daumé III, ACL 2007), calibrated as the default heads, instead of a head per
  target: the targets share what "favor" and "against" look like;
- **F_avg decision weights**: the label is the argmax of (w_favor·P(favor), w_against·P(against),
  P(none)) instead of the calibrated probabilities' argmax, with the weights chosen per target
  from a grid to maximise F_avg on the other four folds' held-out probabilities (calibrated
  probabilities pick the likeliest label; F_avg rewards favor and against more than none);
- **small ensemble**: the mean of the calibrated probabilities of the default recipe and of its
  variants without character n-grams and without word n-grams.

Prints stance F_avg per target and their mean (x100, mean over folds) and each variant's paired
difference against the default with its standard error over the folds. A design measurement,
not part of `make bench` (about 4 minutes here); its numbers and the decision are in
docs/training.md.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
import pandas as pd
from compare_recipes import COLUMNS, ROOT, TARGETS, dev_folds, stderr
from scipy.sparse import diags, hstack

from training import StanceModel, get_embedder, read_labeled_csv
from training.data import LabeledQuotes
from training.evaluation import stance_metrics
from training.real_quotes import PoolMissing, as_labeled_quotes, labeled_frame
from training.scorer import QuoteBatch
from training.scores import STANCE_LABELS

WEIGHTS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
ENSEMBLE = ({}, {"char_ngrams": None}, {"word_ngrams": None})
LABELS = np.asarray(STANCE_LABELS)


def f_avg(gold: np.ndarray, probabilities: np.ndarray, weights=(1.0, 1.0)) -> float:
    """F_avg x100 of the labels argmax(w_favor·P(favor), w_against·P(against), P(none))."""
    scale = np.array([*weights, 1.0])  # STANCE_LABELS order: favor, against, none
    return 100 * stance_metrics(gold, LABELS[(probabilities * scale).argmax(axis=1)])["f_avg"]


def augmented(matrix, targets: np.ndarray):
    """Target-conditioned features: a shared copy of `matrix` and one copy per target, each row
    zero outside its own target's copy."""
    copies = [diags((targets == t).astype(float)) @ matrix for t in TARGETS]
    return hstack([matrix, *copies]).tocsr()


def target_conditioned(train: pd.DataFrame, test: pd.DataFrame, vectors) -> np.ndarray:
    """Probabilities (STANCE_LABELS order) of one calibrated head over target-conditioned
    features, for `test`'s rows."""
    model = StanceModel()
    features = model._features()
    matrix = features.fit_transform(QuoteBatch.looked_up(train["text"].tolist(), vectors))
    head = model._classifier().fit(
        augmented(matrix, train["target"].to_numpy()), train["stance"].to_numpy()
    )
    held_out = features.transform(QuoteBatch.looked_up(test["text"].tolist(), vectors))
    probabilities = head.predict_proba(augmented(held_out, test["target"].to_numpy()))
    return probabilities[:, [list(head.classes_).index(label) for label in STANCE_LABELS]]


def main() -> None:
    try:
        real = labeled_frame("train")
    except PoolMissing as error:
        sys.exit(f"real news labels: {error}")
    seeds = read_labeled_csv([ROOT / "seeds" / "quotes.csv"], require_min=False).frame[COLUMNS]
    embedder = get_embedder()
    vectors = embedder.vectors(sorted(set(real["text"]) | set(seeds["text"])))
    fold_of = dev_folds(real)
    # per variant and target: one (gold, probabilities) per fold
    variants = ("default", "target-conditioned", "small ensemble")
    held_out = {name: {t: [] for t in TARGETS} for name in variants}
    started = time.perf_counter()
    for fold in sorted(fold_of.unique()):
        train = pd.concat(
            [seeds, as_labeled_quotes(real[fold_of != fold]).frame[COLUMNS]], ignore_index=True
        )
        test = as_labeled_quotes(real[fold_of == fold]).frame
        data = LabeledQuotes(train, ["x"], "", {})
        models = [StanceModel(embedder=embedder, **p).fit(data, vectors) for p in ENSEMBLE]
        conditioned = target_conditioned(train, test, vectors)
        for target in TARGETS:
            rows = (test["target"] == target).to_numpy()
            gold = test["stance"].to_numpy()[rows]
            batch = QuoteBatch.looked_up(test["text"][rows].tolist(), vectors)
            each = [model.predict_proba(batch, target) for model in models]
            held_out["default"][target].append((gold, each[0]))
            held_out["small ensemble"][target].append((gold, np.mean(each, axis=0)))
            held_out["target-conditioned"][target].append((gold, conditioned[rows]))
        print(f"fold {fold + 1} ({time.perf_counter() - started:.0f} s)", flush=True)
    results = {name: _f_avgs(per_target) for name, per_target in held_out.items()}
    results["F_avg decision weights"] = _tuned_weights(held_out["default"])
    base = results["default"].mean(axis=1)
    print(f"{'variant':26s}{'nato':>7s}{'russia':>8s}{'mean':>7s}{'diff mean':>16s}")
    for name, values in results.items():
        diff = values.mean(axis=1) - base
        m = values.mean(axis=0)
        print(f"{name:26s}{m[0]:7.1f}{m[1]:8.1f}{m.mean():7.1f}"
              f"{diff.mean():+9.1f} ±{stderr(diff):4.1f}")  # fmt: skip


def _f_avgs(per_target: dict) -> np.ndarray:
    """F_avg per fold (rows) and target (columns) of argmax labels."""
    return np.array(
        [[f_avg(*per_target[t][k]) for t in TARGETS] for k in range(len(per_target[TARGETS[0]]))]
    )


def _tuned_weights(per_target: dict) -> np.ndarray:
    """F_avg per fold and target with decision weights chosen on the other folds."""
    folds = len(per_target[TARGETS[0]])
    values = np.zeros((folds, len(TARGETS)))
    for j, target in enumerate(TARGETS):
        for k in range(folds):
            others = [per_target[target][i] for i in range(folds) if i != k]
            gold = np.concatenate([g for g, _ in others])
            probabilities = np.vstack([p for _, p in others])
            best = max(
                itertools.product(WEIGHTS, WEIGHTS), key=lambda w: f_avg(gold, probabilities, w)
            )
            values[k, j] = f_avg(*per_target[target][k], best)
    return values


if __name__ == "__main__":
    main()
