"""Scoring quotes with a fitted model: embeddings in, one `QuoteScore` per quote out.

`StanceScorer` is what a loaded bundle serves and what `StanceModel.score` delegates to: the
heads as arrays (`training.heads`) and an embedder. It imports neither scikit-learn nor PyTorch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from training.embedding import Embedder, get_embedder
from training.heads import Heads, LinearHead
from training.scores import SENTIMENT_LABELS, STANCE_LABELS, LabelScore, QuoteScore
from training.windows import windows


class UnknownTargetError(KeyError):
    """A target was requested that the model has no head for."""

    def __init__(self, unknown: list[str], known: list[str]):
        self.unknown, self.known = unknown, known
        super().__init__(
            f"unknown target(s) {', '.join(unknown)}; the model knows {', '.join(known)}"
        )

    def __str__(self) -> str:
        return self.args[0]


class QuoteBatch(NamedTuple):
    """Texts with their sentence embeddings, row-aligned: the input of every head.

    `windows` maps the index of a text longer than the encoder reads to the batch of its
    windows (`training.windows`); such a text's row in `vectors` is the mean direction of its
    windows' vectors.
    """

    texts: list[str]
    vectors: np.ndarray
    windows: dict[int, QuoteBatch] | None = None

    @classmethod
    def looked_up(cls, texts: list[str], vectors: dict[str, np.ndarray]) -> QuoteBatch:
        """`texts` with their rows taken from `vectors` (text -> embedding, e.g. the result of
        `Embedder.vectors`); KeyError for a text it lacks."""
        return cls(list(texts), np.stack([vectors[text] for text in texts]))


class StanceScorer:
    """Stance per target and sentiment of quotes, from a fitted model's heads."""

    def __init__(self, heads: Heads, embedder: Embedder | None = None):
        self.heads = heads
        self.embedder = embedder

    @property
    def targets(self) -> list[str]:
        """The targets this model has a stance head for, sorted."""
        return sorted(self.heads.stance)

    @property
    def has_sentiment(self) -> bool:
        return self.heads.sentiment is not None

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = get_embedder()
        return self.embedder

    def check_targets(self, targets: list[str] | None) -> list[str]:
        """The requested targets (all when None), or UnknownTargetError."""
        if targets is None:
            return self.targets
        unknown = [t for t in targets if t not in self.heads.stance]
        if unknown:
            raise UnknownTargetError(unknown, self.targets)
        return list(dict.fromkeys(targets))

    def embed(self, texts: list[str], batch_size: int | None = None) -> QuoteBatch:
        """Texts with their embeddings by the scoring encoder, ready for the heads; texts longer
        than the encoder reads are also embedded window by window (`QuoteBatch.windows`)."""
        texts = list(texts)
        embedder = self._embedder()
        limit = embedder.window
        long = [i for i, t in enumerate(texts) if len(t) > limit - 2]  # fewer chars: fewer tokens
        counts = embedder.token_counts([texts[i] for i in long]) if long else []
        split = {
            i: windows(texts[i], embedder.token_counts, limit)
            for i, count in zip(long, counts, strict=True)
            if count > limit
        }
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        whole = [i for i in range(len(texts)) if i not in split]
        if whole:
            vectors[whole] = embedder.encode([texts[i] for i in whole], batch_size)
        if not split:
            return QuoteBatch(texts, vectors)
        parts = [w for ws in split.values() for w in ws]
        part_vectors = embedder.encode(parts, batch_size)
        batches, start = {}, 0
        for i, ws in split.items():
            batches[i] = QuoteBatch(ws, part_vectors[start : start + len(ws)])
            start += len(ws)
            mean = batches[i].vectors.mean(axis=0)
            vectors[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return QuoteBatch(texts, vectors, batches)

    def predict_proba(self, batch: QuoteBatch, target: str) -> np.ndarray:
        """P(favor), P(against), P(none) per text (rows of `batch`), shape (n, 3)."""
        head = self.heads.stance[self.check_targets([target])[0]]
        ngrams = self.heads.ngram_blocks(batch.texts, [head])
        return _ordered(head, self.heads.probabilities(head, batch.vectors, ngrams), STANCE_LABELS)

    def score(
        self, texts: list[str], targets: list[str] | None = None, batch: QuoteBatch | None = None
    ) -> list[QuoteScore]:
        """Scores of each text for `targets` (default: all) and its sentiment."""
        targets = self.check_targets(targets)
        if not len(texts):
            return []
        batch = batch if batch is not None else self.embed(texts)
        count, by_window = len(batch.texts), batch.windows or {}
        stance = {t: np.zeros((count, len(STANCE_LABELS))) for t in targets}
        sentiment = np.zeros((count, len(SENTIMENT_LABELS))) if self.has_sentiment else None
        # A text read window by window gets its windows' reading alone: the n-grams of the whole
        # text (the longest texts, the dearest to analyse) are not computed for nothing.
        whole = [i for i in range(count) if i not in by_window]
        if whole:
            part = QuoteBatch([batch.texts[i] for i in whole], batch.vectors[whole])
            part_stance, part_sentiment = self._probabilities(part, targets)
            for target, probabilities in part_stance.items():
                stance[target][whole] = probabilities
            if sentiment is not None:
                sentiment[whole] = part_sentiment
        for i, windowed in by_window.items():
            # Each head keeps the window that takes the clearest position (least "none" or
            # "neutral"), so a stance stated in one sentence of a long quote is not averaged out.
            window_stance, window_sentiment = self._probabilities(windowed, targets)
            for target, rows in window_stance.items():
                stance[target][i] = rows[rows[:, STANCE_LABELS.index("none")].argmin()]
            if sentiment is not None:
                neutral = SENTIMENT_LABELS.index("neutral")
                sentiment[i] = window_sentiment[window_sentiment[:, neutral].argmin()]
        return [
            QuoteScore(
                stances={t: _label_score(stance[t][i], STANCE_LABELS) for t in targets},
                sentiment=None
                if sentiment is None
                else _label_score(sentiment[i], SENTIMENT_LABELS),
            )
            for i in range(count)
        ]

    def _probabilities(
        self, batch: QuoteBatch, targets: list[str]
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Per target P(favor, against, none), and P(sentiment), one row per text of `batch`."""
        used = [self.heads.stance[t] for t in targets]
        sentiment_head = self.heads.sentiment
        ngrams = self.heads.ngram_blocks(batch.texts, [*used, *filter(None, [sentiment_head])])
        stance = {
            t: _ordered(h, self.heads.probabilities(h, batch.vectors, ngrams), STANCE_LABELS)
            for t, h in zip(targets, used, strict=True)
        }
        sentiment = None
        if sentiment_head is not None:
            probabilities = self.heads.probabilities(sentiment_head, batch.vectors, ngrams)
            sentiment = _ordered(sentiment_head, probabilities, SENTIMENT_LABELS)
        return stance, sentiment


def _ordered(head: LinearHead, probabilities: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Columns of `probabilities` rearranged into `labels` order (absent classes get 0)."""
    out = np.zeros((probabilities.shape[0], len(labels)))
    for j, label in enumerate(labels):
        if label in head.classes:
            out[:, j] = probabilities[:, head.classes.index(label)]
    return out / out.sum(axis=1, keepdims=True)


def _label_score(row: np.ndarray, labels: tuple[str, ...]) -> LabelScore:
    return LabelScore(
        label=labels[int(row.argmax())],
        probabilities={label: round(float(p), 6) for label, p in zip(labels, row, strict=True)},
    )
