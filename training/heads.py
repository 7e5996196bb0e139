"""A fitted model's heads as plain arrays, scored with NumPy alone.

`StanceModel` fits scikit-learn pipelines: features (the sentence embedding fused with word and
character n-gram tf-idf) into a class-balanced logistic regression, calibrated. Scoring needs
only what they learned: the n-gram vocabularies and idf weights, the coefficients, the
calibration maps, and a stance head's correction to a declared position share (`prior_ratio`,
see `StanceModel.position_share`; applied after calibration). `Heads.from_model` exports them,
`Heads.save`/`Heads.load` keep them in one `.npz` file (no pickle), and `Heads.probabilities`
computes what the pipelines' `predict_proba` computes (equal within 1e-12 before the prior
correction, tests/test_bundle.py) without importing scikit-learn or SciPy, which would cost a
scoring process about 1.5 s and 200 MB at start-up.

Each text's features and probabilities are computed row by row, never summed across rows, so a
score is a function of the text alone whatever else is in its batch.

The n-gram analysis is scikit-learn's `TfidfVectorizer` as `StanceModel` configures it
(lowercase, no accent stripping; words by `token_pattern`; `char_wb` n-grams padded with one
space per word; sublinear tf; smooth idf; L2-normalised rows): `NgramVocabulary.from_vectorizer`
refuses any other configuration rather than score it differently.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

FORMAT = 2  # 2: optional prior ratios per head (format 1 files are read as having none)
READABLE_FORMATS = (1, 2)
WORD_CACHE_SIZE = 50_000  # distinct words whose n-gram columns are kept (about 15 MB at most)


class HeadsFormatError(ValueError):
    """A heads file that this version cannot read, or a fitted model it cannot export."""


@dataclass(frozen=True)
class NgramVocabulary:
    """One fitted n-gram vectorizer: its terms, idf weights and analysis."""

    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    token_pattern: str
    sublinear_tf: bool
    terms: dict[str, int]
    idf: np.ndarray  # float64, one per term
    # Columns of each word's character n-grams seen so far (bounded; not part of the vocabulary).
    _word_ids: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_vectorizer(cls, vectorizer) -> NgramVocabulary:
        params = vectorizer.get_params()
        supported = (
            params["analyzer"] in ("word", "char_wb")
            and params["lowercase"]
            and params["strip_accents"] is None
            and params["preprocessor"] is None
            and params["tokenizer"] is None
            and params["stop_words"] is None
            and params["use_idf"]
            and params["norm"] == "l2"
            and not params["binary"]
            and params["input"] == "content"
            and params["dtype"] is np.float64
        )
        if not supported:
            raise HeadsFormatError(f"cannot export a vectorizer configured as {params}")
        return cls(
            params["analyzer"],
            tuple(params["ngram_range"]),
            params["token_pattern"],
            bool(params["sublinear_tf"]),
            {term: int(i) for term, i in vectorizer.vocabulary_.items()},
            np.asarray(vectorizer.idf_, dtype=np.float64),
        )

    def _token_ngrams(self, text: str) -> list[str]:
        """Word n-grams of a lower-cased text, as scikit-learn's `word` analyzer yields them."""
        low, high = self.ngram_range
        tokens = re.findall(self.token_pattern, text)
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def _word_ngrams(self, word: str) -> list[str]:
        """`char_wb` n-grams of one word: padded with a space each side, as scikit-learn does."""
        padded = f" {word} "
        size = len(padded)
        grams = []
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            grams += [padded[i : i + n] for i in range(max(size - n + 1, 1))]
            if size <= n:
                break  # a word shorter than n yields itself once, and no longer grams
        return grams

    def term_ids(self, text: str) -> list[int]:
        """Vocabulary columns of the n-grams of `text` (lower-cased first), once per occurrence:
        the n-grams scikit-learn's analyzer yields, out-of-vocabulary ones left out."""
        text = text.lower()
        if self.analyzer != "char_wb":
            return [i for i in map(self.terms.get, self._token_ngrams(text)) if i is not None]
        # Character n-grams never cross a word, so each distinct word is analysed once and its
        # columns reused: words recur across texts (halved the heads' n-gram time, docs/batch.md).
        ids: list[int] = []
        known = self._word_ids
        for word in text.split():
            columns = known.get(word)
            if columns is None:
                grams = map(self.terms.get, self._word_ngrams(word))
                columns = [i for i in grams if i is not None]
                if len(known) >= WORD_CACHE_SIZE:
                    known.clear()
                known[word] = columns
            ids += columns
        return ids

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices (ascending) and tf-idf values of one text, L2-normalised."""
        counts = Counter(self.term_ids(text))  # tallied in C
        ordered = sorted(counts)
        columns = np.fromiter(ordered, dtype=np.int64, count=len(ordered))
        values = np.fromiter(map(counts.__getitem__, ordered), dtype=np.float64, count=len(ordered))
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        values *= self.idf[columns]
        norm = np.sqrt(np.dot(values, values))
        return columns, values / norm if norm > 0 else values


@dataclass(frozen=True)
class LinearHead:
    """A logistic regression over [embedding × weight, n-gram blocks...], maybe calibrated."""

    classes: list[str]
    embedding_weight: float
    vocabularies: list[int]  # indices into Heads.vocabularies, in feature order
    offsets: list[int]  # first feature column of each n-gram block
    coef: np.ndarray  # (decision columns, features), float64
    intercept: np.ndarray  # (decision columns,)
    calibration: str | None  # None, "isotonic" or "sigmoid"
    calibrators: list[dict]  # per decision column: isotonic x/y thresholds, or sigmoid a/b
    # Per class: the declared class prior over the training rows' frequency (label-shift
    # correction, Saerens et al. 2002); None: the probabilities keep the training frequencies.
    prior_ratio: np.ndarray | None = None

    def probabilities(self, vectors: np.ndarray, blocks: list[list[tuple]]) -> np.ndarray:
        """P(class) per text, columns in `classes` order; `blocks[i]` holds text i's n-gram
        features, one (columns, values) pair per entry of `vocabularies`."""
        decision = np.empty((len(vectors), len(self.intercept)))
        dimension = vectors.shape[1]
        embedding_coef = np.ascontiguousarray(self.coef[:, :dimension])
        for i, row in enumerate(vectors):
            value = embedding_coef @ (row * np.float32(self.embedding_weight)).astype(np.float64)
            for offset, (columns, values) in zip(self.offsets, blocks[i], strict=True):
                value += self.coef[:, offset + columns] @ values
            decision[i] = value + self.intercept
        if self.calibration is None:
            probabilities = _logistic(decision)
        else:
            probabilities = self._calibrated(decision)
        if self.prior_ratio is None:
            return probabilities
        adjusted = probabilities * self.prior_ratio
        return adjusted / adjusted.sum(axis=1, keepdims=True)

    def _calibrated(self, decision: np.ndarray) -> np.ndarray:
        """One-vs-rest calibrated decision values, normalised (sklearn's calibration rule)."""
        n_classes = len(self.classes)
        proba = np.zeros((len(decision), n_classes))
        columns = range(1, 2) if n_classes == 2 else range(n_classes)
        for column, values, calibrator in zip(columns, decision.T, self.calibrators, strict=True):
            if self.calibration == "isotonic":
                x, y = calibrator["x"], calibrator["y"]
                proba[:, column] = np.interp(np.clip(values, x[0], x[-1]), x, y)
            else:
                proba[:, column] = 1.0 / (1.0 + np.exp(calibrator["a"] * values + calibrator["b"]))
        if n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            total = proba.sum(axis=1)[:, np.newaxis]
            uniform = np.full_like(proba, 1 / n_classes)
            proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def _logistic(decision: np.ndarray) -> np.ndarray:
    if decision.shape[1] == 1:
        positive = 1.0 / (1.0 + np.exp(-decision[:, 0]))
        return np.column_stack([1.0 - positive, positive])
    shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Heads:
    """Every head of a fitted model: a stance head per target and an optional sentiment head,
    sharing n-gram vocabularies."""

    vocabularies: list[NgramVocabulary]
    stance: dict[str, LinearHead]
    sentiment: LinearHead | None

    @classmethod
    def from_model(cls, model) -> Heads:
        """The heads of a fitted `StanceModel` (its scikit-learn pipelines) as arrays."""
        vocabularies: list[NgramVocabulary] = []
        seen: dict[int, int] = {}

        def export(pipeline) -> LinearHead:
            features = pipeline.named_steps["features"]
            indices = []
            for vectorizer in features.vectorizers_:
                if id(vectorizer) not in seen:
                    seen[id(vectorizer)] = len(vocabularies)
                    vocabularies.append(NgramVocabulary.from_vectorizer(vectorizer))
                indices.append(seen[id(vectorizer)])
            return _linear_head(pipeline, features.embedding_weight, indices, vocabularies)

        stance = {}
        for target, pipeline in model.heads_.items():
            head = export(pipeline)
            ratio = model.prior_ratio(target, head.classes)
            stance[target] = head if ratio is None else replace(head, prior_ratio=ratio)
        sentiment = export(model.sentiment_head_) if model.sentiment_head_ is not None else None
        return cls(vocabularies, stance, sentiment)

    def ngram_blocks(self, texts: list[str], heads: list[LinearHead]) -> list[list[tuple]]:
        """Per text, the n-gram features of every vocabulary the given heads use (analysed once)."""
        used = sorted({v for head in heads for v in head.vocabularies})
        analysed = {v: [self.vocabularies[v].features(t) for t in texts] for v in used}
        return [{v: analysed[v][i] for v in used} for i in range(len(texts))]

    def probabilities(
        self, head: LinearHead, vectors: np.ndarray, ngrams: list[dict[int, tuple]]
    ) -> np.ndarray:
        """P(class) of each text under `head`, from `ngram_blocks` of the same texts."""
        blocks = [[text[v] for v in head.vocabularies] for text in ngrams]
        return head.probabilities(vectors, blocks)

    def save(self, path: Path) -> None:
        """Write every array and the layout into one `.npz` file (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {}
        layout = {"format": FORMAT, "vocabularies": [], "stance": {}, "sentiment": None}
        for n, vocabulary in enumerate(self.vocabularies):
            terms = sorted(vocabulary.terms, key=vocabulary.terms.__getitem__)
            arrays[f"vocabulary{n}_terms"] = np.array(terms, dtype=str)
            arrays[f"vocabulary{n}_idf"] = vocabulary.idf
            layout["vocabularies"].append(
                {
                    "analyzer": vocabulary.analyzer,
                    "ngram_range": list(vocabulary.ngram_range),
                    "token_pattern": vocabulary.token_pattern,
                    "sublinear_tf": vocabulary.sublinear_tf,
                }
            )
        for name, head in [*self.stance.items(), ("", self.sentiment)]:
            if head is None:
                continue
            prefix = f"head_{name or 'sentiment'}_"
            arrays[prefix + "coef"], arrays[prefix + "intercept"] = head.coef, head.intercept
            for k, calibrator in enumerate(head.calibrators):
                for key, value in calibrator.items():
                    arrays[f"{prefix}calibrator{k}_{key}"] = np.asarray(value, dtype=np.float64)
            if head.prior_ratio is not None:
                arrays[prefix + "prior_ratio"] = head.prior_ratio
            entry = {
                "classes": head.classes,
                "embedding_weight": head.embedding_weight,
                "vocabularies": head.vocabularies,
                "offsets": head.offsets,
                "calibration": head.calibration,
                "calibrator_keys": [sorted(c) for c in head.calibrators],
                "prior_ratio": head.prior_ratio is not None,
                "prefix": prefix,
            }
            if name:
                layout["stance"][name] = entry
            else:
                layout["sentiment"] = entry
        arrays["layout"] = np.array(json.dumps(layout))
        with open(path, "wb") as stream:
            np.savez_compressed(stream, **arrays)

    @classmethod
    def load(cls, path: Path) -> Heads:
        """Read a file written by `save`; HeadsFormatError if it is not one."""
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            layout = json.loads(str(arrays["layout"]))
        except (OSError, ValueError, KeyError) as error:
            raise HeadsFormatError(f"{path} is not a heads file: {error}") from error
        if layout.get("format") not in READABLE_FORMATS:
            raise HeadsFormatError(
                f"{path} has heads format {layout.get('format')}, not one of {READABLE_FORMATS}"
            )
        vocabularies = [
            NgramVocabulary(
                spec["analyzer"],
                tuple(spec["ngram_range"]),
                spec["token_pattern"],
                spec["sublinear_tf"],
                {t: i for i, t in enumerate(arrays[f"vocabulary{n}_terms"].tolist())},
                arrays[f"vocabulary{n}_idf"],
            )
            for n, spec in enumerate(layout["vocabularies"])
        ]

        def head(entry: dict) -> LinearHead:
            prefix = entry["prefix"]
            calibrators = [
                {key: arrays[f"{prefix}calibrator{k}_{key}"] for key in keys}
                for k, keys in enumerate(entry["calibrator_keys"])
            ]
            return LinearHead(
                entry["classes"],
                entry["embedding_weight"],
                entry["vocabularies"],
                entry["offsets"],
                arrays[prefix + "coef"],
                arrays[prefix + "intercept"],
                entry["calibration"],
                calibrators,
                arrays[prefix + "prior_ratio"] if entry.get("prior_ratio") else None,
            )

        stance = {name: head(entry) for name, entry in layout["stance"].items()}
        sentiment = head(layout["sentiment"]) if layout["sentiment"] else None
        return cls(vocabularies, stance, sentiment)


def _linear_head(pipeline, weight: float, indices: list[int], vocabularies) -> LinearHead:
    """Export one fitted pipeline's classifier (plain or singly calibrated logistic regression)."""
    classifier = pipeline.named_steps["classifier"]
    calibration, calibrators = None, []
    if hasattr(classifier, "calibrated_classifiers_"):
        if len(classifier.calibrated_classifiers_) != 1:
            raise HeadsFormatError("only calibration with ensemble=False can be exported")
        calibrated = classifier.calibrated_classifiers_[0]
        calibration, estimator = classifier.method, calibrated.estimator
        for calibrator in calibrated.calibrators:
            if calibration == "isotonic":
                calibrators.append({"x": calibrator.X_thresholds_, "y": calibrator.y_thresholds_})
            else:
                calibrators.append({"a": float(calibrator.a_), "b": float(calibrator.b_)})
        classes = [str(c) for c in calibrated.classes]
    else:
        estimator = classifier
        classes = [str(c) for c in classifier.classes_]
    if list(estimator.classes_) != classes:
        raise HeadsFormatError("the calibrated classes differ from the estimator's")
    offsets = []
    offset = estimator.coef_.shape[1] - sum(len(vocabularies[v].terms) for v in indices)
    for v in indices:
        offsets.append(offset)
        offset += len(vocabularies[v].terms)
    return LinearHead(
        classes,
        float(weight),
        indices,
        offsets,
        np.asarray(estimator.coef_, dtype=np.float64),
        np.asarray(estimator.intercept_, dtype=np.float64),
        calibration,
        calibrators,
    )
