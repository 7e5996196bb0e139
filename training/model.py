"""StanceModel: a calibrated stance head per target plus a sentiment head, on embeddings."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import sklearn
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from training.data import SENTIMENT_LABELS, STANCE_LABELS, LabeledQuotes
from training.embedding import Embedder, EmbeddingSpec, get_embedder
from training.heads import classifier_probabilities, tfidf_features
from training.scores import LabelScore, QuoteScore


class UnknownTargetError(KeyError):
    """A target was requested that the model has no head for."""

    def __init__(self, unknown: list[str], known: list[str]):
        self.unknown, self.known = unknown, known
        super().__init__(
            f"unknown target(s) {', '.join(unknown)}; the model knows {', '.join(known)}"
        )

    def __str__(self) -> str:
        return self.args[0]


class TooFewExamples(ValueError):
    """Labeled data too thin for the heads to be fitted; the message says what to do."""


class QuoteBatch(NamedTuple):
    """Texts with their sentence embeddings, row-aligned: the input of every head."""

    texts: list[str]
    vectors: np.ndarray


class QuoteFeatures(BaseEstimator, TransformerMixin):
    """Embedding fused with word and character n-gram TF-IDF features (None: no n-grams)."""

    def __init__(self, word_ngrams=(1, 2), char_ngrams=(2, 5), embedding_weight=1.0):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.embedding_weight = embedding_weight

    def fit(self, batch: QuoteBatch, y=None):
        self.vectorizers_ = []
        if self.word_ngrams:
            self.vectorizers_.append(
                TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True)
            )
        if self.char_ngrams:
            self.vectorizers_.append(
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=self.char_ngrams, min_df=2, sublinear_tf=True
                )
            )
        for vectorizer in self.vectorizers_:
            vectorizer.fit(batch.texts)
        return self

    def transform(self, batch: QuoteBatch, shared: dict | None = None):
        """The feature matrix of `batch`. Heads of one model that transform the same batch with
        the same `shared` dict compute the n-grams of each vectorizer they share (see
        `share_vectorizers`), and each feature matrix they have in common, once."""
        shared = {} if shared is None else shared
        key = (self.embedding_weight, *map(id, self.vectorizers_))
        if key not in shared:
            blocks = [csr_matrix(batch.vectors * self.embedding_weight)]
            for vectorizer in self.vectorizers_:
                if id(vectorizer) not in shared:
                    shared[id(vectorizer)] = tfidf_features(vectorizer, batch.texts)
                blocks.append(shared[id(vectorizer)])
            shared[key] = hstack(blocks).tocsr()
        return shared[key]


def share_vectorizers(heads: list[Pipeline]) -> None:
    """Make heads whose n-gram vectorizers learned the same thing use one object.

    Heads trained on the same texts (every seed quote is labeled for every target and for
    sentiment) fit identical vectorizers; sharing one lets scoring analyse each text once
    instead of once per head. Predictions do not change.
    """
    kept: list[TfidfVectorizer] = []
    for head in heads:
        features = head.named_steps["features"]
        for i, vectorizer in enumerate(features.vectorizers_):
            twin = next((k for k in kept if _same_vectorizer(k, vectorizer)), None)
            if twin is None:
                kept.append(vectorizer)
            else:
                features.vectorizers_[i] = twin


def _same_vectorizer(a: TfidfVectorizer, b: TfidfVectorizer) -> bool:
    return (
        a.get_params() == b.get_params()
        and a.vocabulary_ == b.vocabulary_
        and np.array_equal(a.idf_, b.idf_)
    )


class StanceModel(BaseEstimator):
    """Predicts favor/against/none per target and the sentiment of quotes.

    Parameters are stored as given; `fit` learns `heads_`, `sentiment_head_`, `targets_` and
    `embedding_`. The embedder is not pickled: a loaded model gets it back from `load_bundle`.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        C: float = 1.0,
        word_ngrams: tuple[int, int] | None = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        calibration: str | None = "isotonic",
        calibration_folds: int = 5,
        embedding_weight: float = 1.0,
    ):
        self.embedder = embedder
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.embedding_weight = embedding_weight

    def __getstate__(self):
        state = super().__getstate__()
        state["embedder"] = None
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "heads_"):
            share_vectorizers(self._all_heads())

    def _all_heads(self) -> list[Pipeline]:
        sentiment = [self.sentiment_head_] if self.sentiment_head_ is not None else []
        return [*self.heads_.values(), *sentiment]

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = get_embedder()
        return self.embedder

    def _head(self) -> Pipeline:
        classifier = LogisticRegression(C=self.C, max_iter=5000, class_weight="balanced")
        if self.calibration:
            # One classifier on all rows, calibrated on out-of-fold predictions: a fifth of the
            # size and prediction cost of an ensemble of per-fold classifiers.
            classifier = CalibratedClassifierCV(
                classifier, method=self.calibration, cv=self.calibration_folds, ensemble=False
            )
        features = QuoteFeatures(self.word_ngrams, self.char_ngrams, self.embedding_weight)
        return Pipeline([("features", features), ("classifier", classifier)])

    @property
    def min_examples_per_class(self) -> int:
        """The fewest examples of each label a head can be fitted on (calibration folds)."""
        return max(2, self.calibration_folds) if self.calibration else 1

    def check_class_counts(self, quotes: LabeledQuotes, where: str = "") -> None:
        """TooFewExamples when a target or sentiment label has too few examples to fit."""
        least = self.min_examples_per_class
        groups = [(f"target {t!r}", rows["stance"]) for t, rows in quotes.frame.groupby("target")]
        sentiment = quotes.sentiment_rows()["sentiment"]
        if len(sentiment):
            groups.append(("sentiment", sentiment))
        for name, labels in groups:
            counts = labels.value_counts()
            for label, count in counts.items():
                if count < least:
                    raise TooFewExamples(
                        f"{where}{name} has {count} {label!r} example(s); the calibrated heads "
                        f"need at least {least} of each label ({least}-fold calibration): add "
                        "examples, or leave this target out"
                    )

    def fit(self, quotes: LabeledQuotes, vectors: dict[str, np.ndarray] | None = None):
        """Fit every target head and, when sentiment labels exist, the sentiment head."""
        self.check_class_counts(quotes)
        frame = quotes.frame
        vectors = vectors or self._vectors_by_text(frame["text"].unique().tolist())
        self.embedding_: EmbeddingSpec = self._embedder().spec
        self.heads_ = {}
        for target, rows in frame.groupby("target", sort=True):
            texts = rows["text"].tolist()
            batch = QuoteBatch(texts, np.stack([vectors[t] for t in texts]))
            self.heads_[target] = self._head().fit(batch, rows["stance"].to_numpy())
        self.targets_ = list(self.heads_)
        sentiment = quotes.sentiment_rows()
        self.sentiment_head_ = None
        if len(sentiment):
            texts = sentiment["text"].tolist()
            batch = QuoteBatch(texts, np.stack([vectors[t] for t in texts]))
            self.sentiment_head_ = self._head().fit(batch, sentiment["sentiment"].to_numpy())
        share_vectorizers(self._all_heads())
        return self

    def _vectors_by_text(self, texts: list[str]) -> dict[str, np.ndarray]:
        return dict(zip(texts, self._embedder().encode_reference(texts), strict=True))

    def check_targets(self, targets: list[str] | None) -> list[str]:
        """The requested targets (all when None), or UnknownTargetError."""
        if targets is None:
            return list(self.targets_)
        unknown = [t for t in targets if t not in self.heads_]
        if unknown:
            raise UnknownTargetError(unknown, self.targets_)
        return list(dict.fromkeys(targets))

    def predict_proba(
        self, batch: QuoteBatch, target: str, shared: dict | None = None
    ) -> np.ndarray:
        """P(favor), P(against), P(none) for each text, in STANCE_LABELS order."""
        head = self.heads_[self.check_targets([target])[0]]
        return _ordered(head, _probabilities(head, batch, shared), STANCE_LABELS)

    def predict(self, texts: list[str], target: str) -> np.ndarray:
        """The stance label for each text toward `target`."""
        batch = self.embed(texts)
        return np.asarray(STANCE_LABELS)[self.predict_proba(batch, target).argmax(axis=1)]

    def embed(self, texts: list[str], batch_size: int | None = None) -> QuoteBatch:
        """Texts with their embeddings by the scoring encoder, ready for the heads."""
        return QuoteBatch(list(texts), self._embedder().encode(list(texts), batch_size))

    def score(
        self, texts: list[str], targets: list[str] | None = None, batch: QuoteBatch | None = None
    ) -> list[QuoteScore]:
        """Scores of each text for `targets` (default: all) and its sentiment."""
        targets = self.check_targets(targets)
        if not len(texts):
            return []
        batch = batch if batch is not None else self.embed(texts)
        shared: dict = {}  # features the heads have in common (see QuoteFeatures.transform)
        # Features are finite by construction: skip sklearn's finiteness and parameter checks,
        # which cost more than the arithmetic on the few quotes of an API request.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            stance = {t: self.predict_proba(batch, t, shared) for t in targets}
            sentiment = None
            if self.sentiment_head_ is not None:
                head = self.sentiment_head_
                sentiment = _ordered(head, _probabilities(head, batch, shared), SENTIMENT_LABELS)
        return [
            QuoteScore(
                stances={t: _label_score(stance[t][i], STANCE_LABELS) for t in targets},
                sentiment=None
                if sentiment is None
                else _label_score(sentiment[i], SENTIMENT_LABELS),
            )
            for i in range(len(batch.texts))
        ]


def _probabilities(head: Pipeline, batch: QuoteBatch, shared: dict | None) -> np.ndarray:
    """`head.predict_proba(batch)`, with features taken from or added to `shared`."""
    features = head.named_steps["features"].transform(batch, shared)
    return classifier_probabilities(head.named_steps["classifier"], features)


def _ordered(head: Pipeline, probabilities: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Columns of `probabilities` rearranged into `labels` order (absent classes get 0)."""
    classes = list(head.classes_)
    out = np.zeros((probabilities.shape[0], len(labels)))
    for j, label in enumerate(labels):
        if label in classes:
            out[:, j] = probabilities[:, classes.index(label)]
    return out / out.sum(axis=1, keepdims=True)


def _label_score(row: np.ndarray, labels: tuple[str, ...]) -> LabelScore:
    return LabelScore(
        label=labels[int(row.argmax())],
        probabilities={label: round(float(p), 6) for label, p in zip(labels, row, strict=True)},
    )
