"""Active learning: the unlabeled quotes most worth labeling next (`stance suggest`).

    picks = suggest(bundle.model, texts, n=50, seed=0)   # -> list[Suggestion], most uncertain first
    picks[0].index, picks[0].uncertainty, picks[0].score

Two steps, each from the literature:

1. **Uncertainty sampling by margin** (Settles 2009, "Active Learning Literature Survey", §3.1;
   Scheffer et al. 2001). For each stance head the margin is P(best label) − P(second label);
   a quote's uncertainty is 1 − margin, averaged over the targets: in [0, 1], 1 when the model
   cannot choose between two labels on every target. Margin rather than entropy: Settles notes
   that entropy suits minimising log-loss while margin and least-confident suit minimising
   classification error, which is what F_avg measures; and with three labels, entropy ranks a
   quote torn between all three above one torn between two, although only the top two decide
   the label. Only the stance heads count: stance is what the product is weak on, and the
   annotator labels the sentiment of every suggested quote anyway.
2. **Diversity** (Zhdanov 2019, "Diverse mini-batch Active Learning", arXiv:1901.05954): the
   `BETA * n` most uncertain quotes are clustered by k-means on their sentence embeddings into
   `n` clusters, each quote weighted by its uncertainty, and the quote nearest each centroid is
   chosen. A group of near-duplicates sits in one cluster and gives one quote, so a batch of
   `n` is never spent on `n` rewordings of one uncertain quote. Should k-means leave a cluster
   empty, the batch is completed by the farthest-first rule of the core-set approach (Sener &
   Savarese 2018, "Active Learning for Convolutional Neural Networks: A Core-Set Approach").

Before that, texts that are not candidates are dropped: empty texts, repeats of an earlier
text (equal up to case and spacing, `training.data.text_key`: the first one is the
candidate), and texts in a language the model does not read (`training.language`).
The result is deterministic for a given `seed`, which breaks ties in uncertainty (isotonic
calibration makes many) and seeds k-means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.data import text_key
from training.language import check_languages
from training.model import QuoteBatch, StanceModel
from training.scores import QuoteScore

# Zhdanov's pre-filter keeps the beta * n most informative quotes before clustering: a small
# beta keeps the batch uncertain, a large one diverse; 10 also keeps k-means cheap.
BETA = 10


@dataclass(frozen=True)
class Suggestion:
    """One quote worth labeling: where it is, how unsure the model is, and its guess."""

    index: int  # position in the input texts
    uncertainty: float  # in [0, 1], higher = the model is less sure
    score: QuoteScore  # the model's guess


def margin_uncertainty(scores: list[QuoteScore], targets: list[str]) -> np.ndarray:
    """1 − (P(best) − P(second best)) of each quote's stance, averaged over `targets`; in [0, 1]."""
    values = np.zeros(len(scores))
    for i, score in enumerate(scores):
        margins = []
        for target in targets:
            top = sorted(score.stances[target].probabilities.values(), reverse=True)
            margins.append(top[0] - top[1])
        values[i] = 1.0 - float(np.mean(margins))
    return np.clip(values, 0.0, 1.0)


def suggest(
    model: StanceModel,
    texts: list[str],
    n: int,
    *,
    seed: int = 0,
    targets: list[str] | None = None,
    batch: QuoteBatch | None = None,
) -> list[Suggestion]:
    """The n texts most worth labeling next: uncertainty sampling combined with diversity.

    `texts` are unlabeled quotes; `batch` may hold their embeddings already (row-aligned with
    `texts`, e.g. from `model.embed(texts)`). `targets` limits the uncertainty to some of the
    model's targets (default all). Returns at most `n` suggestions, most uncertain first; all
    candidates when there are `n` or fewer. Raises ValueError for `n` < 1 or a `batch` that
    does not match `texts`, UnknownTargetError for a target the model lacks.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if batch is not None and len(batch.texts) != len(texts):
        raise ValueError(f"batch has {len(batch.texts)} rows for {len(texts)} texts")
    targets = model.check_targets(targets)
    candidates = _candidates(texts)
    if not candidates:
        return []
    chosen_texts = [texts[i] for i in candidates]
    if batch is not None:
        vectors = np.asarray(batch.vectors)[candidates]
    else:
        vectors = model.embed(chosen_texts).vectors
    scores = model.score(chosen_texts, targets, batch=QuoteBatch(chosen_texts, vectors))
    uncertainty = margin_uncertainty(scores, targets)
    tiebreak = np.random.default_rng(seed).permutation(len(candidates))
    ranked = np.lexsort((tiebreak, -uncertainty))  # most uncertain first, ties in seeded order
    if len(ranked) <= n:
        picked = list(ranked)
    else:
        pool = ranked[: BETA * n]
        picked = [int(pool[j]) for j in _diverse(vectors[pool], uncertainty[pool], n, seed)]
        picked.sort(key=lambda i: (-uncertainty[i], tiebreak[i]))
    return [Suggestion(candidates[i], round(float(uncertainty[i]), 6), scores[i]) for i in picked]


def _candidates(texts: list[str]) -> list[int]:
    """Indices of the first occurrence of each distinct, non-empty, readable text."""
    first: dict[str, int] = {}
    for index, text in enumerate(texts):
        if isinstance(text, str) and text.strip():
            first.setdefault(text_key(text), index)
    indices = list(first.values())
    checks = check_languages([texts[i] for i in indices])
    return [i for i, check in zip(indices, checks, strict=True) if check.supported]


def _diverse(vectors: np.ndarray, weights: np.ndarray, n: int, seed: int) -> list[int]:
    """`n` rows of `vectors`: the one nearest each centroid of a weighted k-means (Zhdanov)."""
    from sklearn.cluster import KMeans

    points = np.asarray(vectors, dtype=np.float64)
    kmeans = KMeans(n_clusters=n, n_init=1, random_state=seed)
    labels = kmeans.fit_predict(points, sample_weight=weights + 1e-6)  # all-certain pools too
    distances = np.linalg.norm(points - kmeans.cluster_centers_[labels], axis=1)
    picked = []
    for cluster in range(n):
        members = np.flatnonzero(labels == cluster)
        if len(members):
            picked.append(int(members[np.argmin(distances[members])]))
    return _farthest_first(points, picked, n)


def _farthest_first(points: np.ndarray, picked: list[int], n: int) -> list[int]:
    """`picked` completed to `n` rows, each new row the farthest from those already picked."""
    picked = list(dict.fromkeys(picked)) or [0]
    nearest = np.full(len(points), np.inf)
    for index in picked:
        nearest = np.minimum(nearest, np.linalg.norm(points - points[index], axis=1))
    while len(picked) < min(n, len(points)):
        nearest[picked] = -np.inf  # never twice, even among identical points
        index = int(np.argmax(nearest))
        picked.append(index)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[index], axis=1))
    return picked[:n]
