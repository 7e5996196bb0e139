"""A learned ranker over candidate speakers: the last step of attribution, for the hard cases.

When no rule credits a direct quotation (no cue near it, no earlier quotation to continue, no
subject to inherit), the ranker scores the names, noun phrases and pronouns around it; the best
one, if likely enough, is resolved like any subject (`SpeakerResolver.resolve`).

- `candidates` and `candidate_features` define once what is ranked and how it is described:
  fitting on PolNeAR train, prediction, the benchmark and the tests all call them.
- `SpeakerRanker` follows scikit-learn's conventions: `__init__` stores settings, `fit` learns
  `features_`, `coef_` and `intercept_` (a logistic regression over the candidates' features,
  scikit-learn's `LogisticRegression`, Pedregosa et al. 2011) and returns self; `best` needs
  NumPy alone, so extraction never imports scikit-learn.
- The artefact is one readable JSON file beside this module (`speaker_ranker.json`): a manifest
  (training data SHA-256, code version, library versions, spaCy pipeline name and version, dev
  metrics, its own SHA-256) and the weight of every feature. `load_ranker` reads it once per
  process, refuses it if its SHA-256 does not match, and warns when the spaCy pipeline is not the
  one it was fitted with (its features come from that parser's output).
- `make speaker-ranker` fits it on PolNeAR train, reports PolNeAR dev, and writes it atomically
  (`python -m service.extraction.ranker ../shared/attribution/polnear/data`). This module's
  fitting code is the only code that reads the corpus.
- `STANCE_ATTRIBUTION=rules` turns the ranker off (default `learned`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np
from spacy.tokens import Token

from service.extraction.analysis import ArticleAnalysis, analyse
from service.extraction.cues import is_reporting
from service.extraction.lexicon import PERSON_PRONOUNS

ARTEFACT = Path(__file__).with_name("speaker_ranker.json")
FORMAT = 1
MODE_ENV = "STANCE_ATTRIBUTION"
_SENTENCES_BEFORE, _SENTENCES_AFTER = 2, 1
_PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i"})
log = logging.getLogger(__name__)


class RankerError(RuntimeError):
    """The ranker artefact is missing, modified, or cannot be fitted."""


def candidates(article: ArticleAnalysis, start: int, end: int) -> list[Token]:
    """Who might have said the quotation at [start, end): names, noun-phrase heads and personal
    pronouns outside quotation marks, from two sentences before it to one after, within its
    paragraph and the one before, in text order."""
    doc, sentences = article.doc, article.sentences
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return []
    first = max(0, sentences.number(span[0]) - _SENTENCES_BEFORE)
    last = min(len(sentences.spans) - 1, sentences.number(span[-1]) + _SENTENCES_AFTER)
    paragraph = _paragraph_of(article, start)
    earliest = article.paragraphs[paragraph - 1].start if paragraph > 0 else 0
    latest = article.paragraphs[paragraph].end
    found: dict[int, Token] = {}
    for number in range(first, last + 1):
        for token in sentences.spans[number]:
            outside = token.idx < earliest or token.idx >= latest or start <= token.idx < end
            if outside or article.in_quote(token):
                continue
            mention = article.names.mention_at(token)
            if mention is not None:
                head = doc.char_span(mention.start, mention.end, alignment_mode="expand").root
                found.setdefault(head.i, head)
            elif (token.lower_ in _PRONOUNS and token.pos_ == "PRON") or (
                token.pos_ in ("NOUN", "PROPN") and token.dep_ not in ("compound", "poss")
            ):
                found.setdefault(token.i, token)
    return [found[i] for i in sorted(found)]


def candidate_features(
    article: ArticleAnalysis, start: int, end: int, found: list[Token]
) -> list[dict[str, float]]:
    """The features of each candidate in `found` for the quotation at [start, end)."""
    doc, sentences = article.doc, article.sentences
    span = doc.char_span(start, end, alignment_mode="expand")
    first, last = sentences.number(span[0]), sentences.number(span[-1])
    quote = article.text[start:end].rstrip()
    ends_open = quote.endswith((",", "?", "!", "—", "–", "-"))
    opens_paragraph = not article.text[
        article.paragraphs[_paragraph_of(article, start)].start : start
    ].strip("\"“”‘’'„« ")
    before = [t for t in found if t.idx < start]
    after = [t for t in found if t.idx >= end]
    described = []
    for token in found:
        side = "before" if token.idx < start else "after"
        same_side = before if side == "before" else after
        rank = (len(before) - before.index(token)) if side == "before" else after.index(token) + 1
        number = sentences.number(token)
        offset = number - first if number < first else number - last if number > last else 0
        gap = (start - token.idx) if side == "before" else (token.idx - end)
        speaker = article.resolver.resolve(token)
        verb = token.head if token.dep_ in ("nsubj", "nsubjpass") else None
        features = {
            "bias_side": 1.0,
            f"side={side}": 1.0,
            f"sentence_offset={offset}": 1.0,
            f"distance={_bucket(gap)}": 1.0,
            f"rank={min(rank, 4)}": 1.0,
            f"{side}:rank={min(rank, 4)}": 1.0,
            f"dep={_dep(token)}": 1.0,
            f"{side}:dep={_dep(token)}": 1.0,
            f"pos={token.pos_}": 1.0,
            f"entity={token.ent_type_ or 'none'}": 1.0,
            f"pronoun={_pronoun(token)}": 1.0,
            f"resolves={speaker.kind if speaker else 'nothing'}": 1.0,
            "name": float(article.names.mention_at(token) is not None),
            "subject_of_reporting_verb": float(verb is not None and is_reporting(verb)),
            f"{side}:subject_of_reporting_verb": float(verb is not None and is_reporting(verb)),
            "subject_of_sentence": float(token.dep_ == "nsubj" and token.head.dep_ == "ROOT"),
            "reporting_verb_near": float(_reporting_near(token)),
            f"{side}:quote_ends_open": float(ends_open),
            f"{side}:quote_opens_paragraph": float(opens_paragraph),
            "only_on_side": float(len(same_side) == 1),
            "same_paragraph": float(
                _paragraph_of(article, token.idx) == _paragraph_of(article, start)
            ),
        }
        described.append({k: v for k, v in features.items() if v})
    return described


def _paragraph_of(article: ArticleAnalysis, char: int) -> int:
    for paragraph in article.paragraphs:
        if paragraph.start <= char < paragraph.end + 1:
            return paragraph.index
    return len(article.paragraphs) - 1


def _bucket(gap: int) -> str:
    return str(min(int(math.log2(max(gap, 1))), 9))


def _dep(token: Token) -> str:
    known = ("nsubj", "nsubjpass", "pobj", "dobj", "appos", "conj", "attr", "ROOT", "npadvmod")
    return token.dep_ if token.dep_ in known else "other"


def _pronoun(token: Token) -> str:
    if token.lower_ in PERSON_PRONOUNS:
        return "person"
    return "group" if token.lower_ in ("they", "it", "we") else "none"


def _reporting_near(token: Token) -> bool:
    window = token.doc[max(token.i - 3, 0) : token.i + 4]
    return any(is_reporting(t) for t in window)


@dataclass(frozen=True)
class Example:
    """One quotation's candidates with their features and which of them spoke (labels)."""

    features: list[dict[str, float]]
    labels: list[bool]


class SpeakerRanker:
    """Scores candidate speakers; `threshold` is the least probability `best` accepts."""

    def __init__(self, C: float = 1.0, threshold: float = 0.5):
        self.C = C
        self.threshold = threshold

    def fit(self, examples: Iterable[Example]) -> SpeakerRanker:
        """Fit the logistic regression on every candidate of every example; returns self."""
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for example in examples:
            rows += example.features
            labels += example.labels
        if len(set(labels)) < 2:
            raise RankerError("fitting needs speakers and non-speakers among the candidates")
        vectorizer = DictVectorizer(sort=True)
        matrix = vectorizer.fit_transform(rows)
        model = LogisticRegression(C=self.C, max_iter=5000).fit(matrix, labels)
        self.features_ = list(vectorizer.get_feature_names_out())
        self.coef_ = model.coef_[0].astype(float)
        self.intercept_ = float(model.intercept_[0])
        self._index = {name: i for i, name in enumerate(self.features_)}
        return self

    def probabilities(self, features: list[dict[str, float]]) -> np.ndarray:
        """P(speaker) of each candidate."""
        scores = np.full(len(features), self.intercept_)
        for row, described in enumerate(features):
            for name, value in described.items():
                column = self._index.get(name)
                if column is not None:
                    scores[row] += self.coef_[column] * value
        return 1.0 / (1.0 + np.exp(-scores))

    def best(self, features: list[dict[str, float]]) -> int | None:
        """The index of the most likely candidate, if its probability reaches the threshold."""
        if not features:
            return None
        probabilities = self.probabilities(features)
        top = int(probabilities.argmax())
        return top if probabilities[top] >= self.threshold else None

    def to_dict(self) -> dict:
        weights = {
            name: round(float(w), 6) for name, w in zip(self.features_, self.coef_, strict=True)
        }
        return {
            "C": self.C,
            "threshold": self.threshold,
            "intercept": round(self.intercept_, 6),
            "weights": weights,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SpeakerRanker:
        ranker = cls(data["C"], data["threshold"])
        ranker.features_ = list(data["weights"])
        ranker.coef_ = np.array([data["weights"][n] for n in ranker.features_], dtype=float)
        ranker.intercept_ = float(data["intercept"])
        ranker._index = {name: i for i, name in enumerate(ranker.features_)}
        return ranker


def credit(ranker: SpeakerRanker, article: ArticleAnalysis, start: int, end: int):
    """The speaker the ranker finds for the quotation at [start, end), resolved, or None."""
    found = candidates(article, start, end)
    best = ranker.best(candidate_features(article, start, end, found))
    if best is None:
        return None
    return article.resolver.resolve(found[best])


# --- the artefact ---------------------------------------------------------------------------


def _digest(model: dict) -> str:
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()


def save_ranker(ranker: SpeakerRanker, manifest: dict, path: Path = ARTEFACT) -> None:
    """Write the artefact atomically: the manifest, the model and the model's SHA-256."""
    model = ranker.to_dict()
    document = {"manifest": manifest | {"format": FORMAT, "sha256": _digest(model)}, "model": model}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_ranker(path: Path = ARTEFACT) -> tuple[SpeakerRanker, dict]:
    """The ranker and its manifest; RankerError when missing or modified."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        manifest, model = document["manifest"], document["model"]
    except (OSError, ValueError, KeyError) as error:
        raise RankerError(f"cannot read the speaker ranker {path}: {error}") from error
    if manifest.get("format") != FORMAT or manifest.get("sha256") != _digest(model):
        raise RankerError(f"{path} does not match its manifest: refit it with make speaker-ranker")
    return SpeakerRanker.from_dict(model), manifest


def pipeline_identity(nlp) -> tuple[str, str]:
    """The name and version of a spaCy pipeline, as the ranker's manifest records them."""
    return f"{nlp.lang}_{nlp.meta.get('name', '')}", str(nlp.meta.get("version", ""))


@cache
def load_ranker(pipeline: str, version: str) -> SpeakerRanker | None:
    """The committed ranker once per process, or None when $STANCE_ATTRIBUTION is `rules`.

    `pipeline` and `version` name the spaCy pipeline in use: a mismatch with the one the ranker
    was fitted with is logged as a warning (its features may shift).
    """
    mode = os.environ.get(MODE_ENV, "learned").strip().lower()
    if mode not in ("learned", "rules"):
        raise RankerError(f"{MODE_ENV} must be 'learned' or 'rules', not {mode!r}")
    if mode == "rules":
        return None
    ranker, manifest = read_ranker()
    fitted = manifest.get("spacy_pipeline", {})
    if (fitted.get("name"), fitted.get("version")) != (pipeline, version):
        log.warning(
            "the speaker ranker was fitted with spaCy pipeline %s %s, not %s %s: refit it with "
            "make speaker-ranker",
            fitted.get("name"),
            fitted.get("version"),
            pipeline,
            version,
        )
    return ranker


# --- fitting on PolNeAR ---------------------------------------------------------------------


def corpus_examples(articles, nlp) -> list[Example]:
    """Examples from annotated articles: each direct, quote-like attribution with a source,
    its candidates labeled by whether they lie inside the annotated source span."""
    examples = []
    for annotated in articles:
        article = analyse(annotated.text, nlp)
        for attribution in annotated.quote_like():
            if attribution.source is None or not attribution.direct:
                continue
            content, source = attribution.content.first, attribution.source.first
            found = candidates(article, content.start, content.end)
            labels = [source.start <= t.idx < source.end for t in found]
            if any(labels):
                features = candidate_features(article, content.start, content.end, found)
                examples.append(Example(features, labels))
    return examples


def top1_accuracy(ranker: SpeakerRanker, examples: list[Example]) -> float:
    """Share of examples whose most probable candidate is a speaker."""
    right = sum(ex.labels[int(ranker.probabilities(ex.features).argmax())] for ex in examples)
    return right / len(examples) if examples else 0.0


def fit_on_polnear(data: Path) -> None:
    """Fit on `data/train`, report `data/dev`, write the artefact (`make speaker-ranker`)."""
    from service.extraction.corpus import read_polnear
    from service.extraction.pipeline import load_pipeline

    nlp = load_pipeline()
    train_articles = list(read_polnear(data / "train"))
    dev_articles = list(read_polnear(data / "dev"))
    print(f"{len(train_articles)} train and {len(dev_articles)} dev articles", file=sys.stderr)
    train = corpus_examples(train_articles, nlp)
    dev = corpus_examples(dev_articles, nlp)
    ranker = SpeakerRanker().fit(train)
    metrics = {
        "train_examples": len(train),
        "dev_examples": len(dev),
        "train_top1": round(top1_accuracy(ranker, train), 4),
        "dev_top1": round(top1_accuracy(ranker, dev), 4),
    }
    digest = hashlib.sha256()
    for article in train_articles:
        digest.update(article.id.encode() + b"\0" + article.text.encode())
    manifest = {
        "fitted_on": "PolNeAR v1.0 train (direct quote-like attributions with a source)",
        "data_sha256": digest.hexdigest(),
        "code_version": metadata.version("quote-stance"),
        "libraries": {name: metadata.version(name) for name in ("scikit-learn", "spacy", "numpy")},
        "spacy_pipeline": dict(zip(("name", "version"), pipeline_identity(nlp), strict=True)),
        "dev_metrics": metrics,
    }
    save_ranker(ranker, manifest)
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    fit_on_polnear(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/attribution/polnear/data"))
