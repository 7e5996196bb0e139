"""StanceModel: a calibrated stance head per target plus a sentiment head, on embeddings.

Fitting uses scikit-learn; scoring goes through `training.scorer.StanceScorer`, the same code a
loaded bundle runs, so a fitted model and its bundle score identically.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from training.data import LabeledQuotes
from training.embedding import Embedder, EmbeddingSpec, get_embedder
from training.heads import Heads
from training.ngram_counts import NgramAnalyses
from training.scorer import QuoteBatch, StanceScorer
from training.scores import STANCE_LABELS, QuoteScore


class TooFewExamples(ValueError):
    """Labeled data too thin for the heads to be fitted; the message says what to do."""


class QuoteFeatures(BaseEstimator, TransformerMixin):
    """Embedding fused with word and character n-gram TF-IDF features (None: no n-grams)."""

    def __init__(self, word_ngrams=(1, 2), char_ngrams=(2, 5), embedding_weight=1.0, word_min_df=1):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.embedding_weight = embedding_weight
        self.word_min_df = word_min_df

    def fit(self, batch: QuoteBatch, y=None, analyses: NgramAnalyses | None = None):
        self.fit_transform(batch, y, analyses)
        return self

    def fit_transform(self, batch: QuoteBatch, y=None, analyses: NgramAnalyses | None = None):
        """`fit`, then the feature matrix of the same batch. The n-grams come from `analyses`
        (texts analysed once per run, a superset of the batch's), else the batch is analysed."""
        self.vectorizers_ = self.vectorizers()
        analyses = analyses or NgramAnalyses(batch.texts)
        blocks = [csr_matrix(batch.vectors * self.embedding_weight)]
        blocks += [analyses.fit_transform(v, batch.texts) for v in self.vectorizers_]
        return hstack(blocks).tocsr()

    def vectorizers(self) -> list[TfidfVectorizer]:
        """Unfitted n-gram vectorizers as configured, in feature order."""
        vectorizers = []
        if self.word_ngrams:
            vectorizers.append(
                TfidfVectorizer(
                    ngram_range=self.word_ngrams, min_df=self.word_min_df, sublinear_tf=True
                )
            )
        if self.char_ngrams:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=self.char_ngrams, min_df=2, sublinear_tf=True
                )
            )
        return vectorizers

    def transform(self, batch: QuoteBatch):
        """The feature matrix of `batch`: embedding × weight, then each n-gram block."""
        blocks = [csr_matrix(batch.vectors * self.embedding_weight)]
        blocks += [vectorizer.transform(batch.texts) for vectorizer in self.vectorizers_]
        return hstack(blocks).tocsr()


def _fitted(classifier, matrix, labels):
    """`classifier` fitted on one head's features (run in a worker process)."""
    return classifier.fit(matrix, labels)


def share_vectorizers(heads: list[Pipeline]) -> None:
    """Make heads whose n-gram vectorizers learned the same thing use one object.

    Heads trained on the same texts (every seed quote is labeled for every target and for
    sentiment) fit identical vectorizers; sharing one lets the exported heads keep one vocabulary
    and analyse each text once instead of once per head. Predictions do not change.
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

    Parameters are stored as given; `fit` learns `heads_`, `sentiment_head_`, `targets_`,
    `training_prior_` and `embedding_`. The embedder is not pickled: a loaded model gets it back
    from `load_bundle`.

    `position_share` (0 < s < 1) is the share of the quotes the model will score that take a
    position (favor or against) on a target. A calibrated head's probabilities reproduce the
    stance frequencies of its training rows; with a position share, each stance head's
    probabilities are corrected to a prior in which positions have that share, favor and against
    keeping their training proportion: favor and against both multiplied by s / (the training
    share of positions, favor and against together), none by (1 - s) / (its training share),
    renormalised — the label-shift correction of
    Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs of a classifier to new a
    priori probabilities"). None: the training frequencies stand. Why the default model declares
    one: docs/training.md, "The stance prior".
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
        word_min_df: int = 1,
        position_share: float | None = None,
        n_jobs: int = -1,
    ):
        self.embedder = embedder
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.embedding_weight = embedding_weight
        self.word_min_df = word_min_df
        self.position_share = position_share
        self.n_jobs = n_jobs

    def __getstate__(self):
        # A copy: scikit-learn may hand back the instance's own __dict__, and pickling must not
        # take the embedder away from the model being pickled.
        state = dict(super().__getstate__())
        state["embedder"] = None
        state.pop("_scorer", None)  # derived from the heads, rebuilt on first use
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

    def _classifier(self):
        # Newton-CG reaches the same optimum as L-BFGS (the objective is convex) in a third of
        # the time on these wide sparse features; TweetEval F_avg 71.52 against 71.36, seed CV
        # identical (benchmarks/bench_training.py, docs/training.md).
        classifier = LogisticRegression(
            C=self.C, max_iter=5000, class_weight="balanced", solver="newton-cg"
        )
        if self.calibration:
            # One classifier on all rows, calibrated on out-of-fold predictions: a fifth of the
            # size and prediction cost of an ensemble of per-fold classifiers.
            classifier = CalibratedClassifierCV(
                classifier, method=self.calibration, cv=self.calibration_folds, ensemble=False
            )
        return classifier

    def _features(self) -> QuoteFeatures:
        return QuoteFeatures(
            self.word_ngrams, self.char_ngrams, self.embedding_weight, self.word_min_df
        )

    def ngram_analyses(self, texts: list[str]) -> NgramAnalyses:
        """`texts` analysed into n-grams as this model's features do, to share across fits on
        subsets of them (cross-validation folds)."""
        return NgramAnalyses(texts).prepare(self._features().vectorizers())

    def _head(self) -> Pipeline:
        return Pipeline([("features", self._features()), ("classifier", self._classifier())])

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

    def fit(
        self,
        quotes: LabeledQuotes,
        vectors: dict[str, np.ndarray] | None = None,
        spec: EmbeddingSpec | None = None,
        analyses: NgramAnalyses | None = None,
    ):
        """Fit every target head and, when sentiment labels exist, the sentiment head.

        `vectors` maps each text to its embedding (default: `Embedder.vectors`, the scoring
        encoder's, cached on disk) and `spec` names the model they come from (default: the
        embedder's). `analyses` holds the texts' n-gram counts when the caller shares them
        across fits (`ngram_analyses`; default: the texts are analysed here). The n-gram
        vocabularies are fitted once per distinct set of texts and shared; the classifiers are
        fitted in parallel on `n_jobs` processes (-1: every core).
        """
        self.check_class_counts(quotes)
        if self.position_share is not None and not 0 < self.position_share < 1:
            raise ValueError(f"position_share must lie between 0 and 1, not {self.position_share}")
        self.__dict__.pop("_scorer", None)
        frame = quotes.frame
        if vectors is None:
            vectors = self._embedder().vectors(frame["text"].unique().tolist())
        self.embedding_: EmbeddingSpec = spec or self._embedder().scoring_spec
        analyses = analyses or NgramAnalyses(frame["text"].unique().tolist())
        tasks = [
            (target, rows["text"].tolist(), rows["stance"].to_numpy())
            for target, rows in frame.groupby("target", sort=True)
        ]
        sentiment = quotes.sentiment_rows()
        if len(sentiment):
            tasks.append((None, sentiment["text"].tolist(), sentiment["sentiment"].to_numpy()))
        # Heads trained on the same texts (in any order) share one fitted QuoteFeatures and one
        # feature matrix: a vectorizer's vocabulary and idf do not depend on the order.
        features: dict[frozenset, tuple[QuoteFeatures, dict[str, int], object]] = {}
        matrices = []
        for _, texts, _ in tasks:
            key = frozenset(texts)
            if key not in features:
                fitted = self._features()
                batch = QuoteBatch.looked_up(texts, vectors)
                position = {text: row for row, text in enumerate(texts)}
                features[key] = (fitted, position, fitted.fit_transform(batch, analyses=analyses))
            _, position, matrix = features[key]
            matrices.append(matrix[[position[t] for t in texts]])
        classifiers = Parallel(n_jobs=self.n_jobs)(
            delayed(_fitted)(self._classifier(), matrix, labels)
            for matrix, (_, _, labels) in zip(matrices, tasks, strict=True)
        )
        heads = [
            Pipeline([("features", features[frozenset(texts)][0]), ("classifier", classifier)])
            for (_, texts, _), classifier in zip(tasks, classifiers, strict=True)
        ]
        self.heads_ = {t: head for (t, _, _), head in zip(tasks, heads, strict=True) if t}
        self.targets_ = list(self.heads_)
        self.training_prior_ = quotes.stance_frequencies()
        self.sentiment_head_ = heads[-1] if len(sentiment) else None
        share_vectorizers(self._all_heads())
        return self

    def prior_ratio(self, target: str, classes: list[str]) -> np.ndarray | None:
        """Per class of `target`'s head, its share under `position_share` over its training
        share; None without a position share, or when the head was trained on positions alone
        or none alone (nothing to shift). Models pickled before `position_share` have none."""
        share = getattr(self, "position_share", None)
        if share is None:
            return None
        trained = self.training_prior_[target]
        positions = trained["favor"] + trained["against"]
        if not 0 < positions < 1:
            return None
        return np.array(
            [(1 - share) / (1 - positions) if c == "none" else share / positions for c in classes]
        )

    def scorer(self) -> StanceScorer:
        """The fitted heads as arrays with this model's embedder: what bundles load and score."""
        if "_scorer" not in self.__dict__:
            self._scorer = StanceScorer(Heads.from_model(self), self._embedder())
        return self._scorer

    @property
    def targets(self) -> list[str]:
        return list(self.targets_)

    @property
    def has_sentiment(self) -> bool:
        return self.sentiment_head_ is not None

    def check_targets(self, targets: list[str] | None) -> list[str]:
        """The requested targets (all when None), or UnknownTargetError."""
        return self.scorer().check_targets(targets)

    def embed(self, texts: list[str], batch_size: int | None = None) -> QuoteBatch:
        """Texts with their embeddings by the scoring encoder, ready for the heads."""
        return self.scorer().embed(texts, batch_size)

    def predict_proba(self, batch: QuoteBatch, target: str) -> np.ndarray:
        """P(favor), P(against), P(none) for each text, in STANCE_LABELS order."""
        return self.scorer().predict_proba(batch, target)

    def predict(self, texts: list[str], target: str) -> np.ndarray:
        """The stance label for each text toward `target`."""
        batch = self.embed(texts)
        return np.asarray(STANCE_LABELS)[self.predict_proba(batch, target).argmax(axis=1)]

    def score(
        self, texts: list[str], targets: list[str] | None = None, batch: QuoteBatch | None = None
    ) -> list[QuoteScore]:
        """Scores of each text for `targets` (default: all) and its sentiment."""
        return self.scorer().score(texts, targets, batch)
