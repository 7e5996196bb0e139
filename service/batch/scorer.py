"""Scoring one chunk: validate texts, detect their language, score each distinct text once.

The encoder (`training.encoders`) gives every text an embedding that is bit-identical whatever
other texts share its batch, so a score is a function of the text alone: de-duplication, the
cache, the batch size, resumed runs and Dask workers cannot change a single byte.
"""

from __future__ import annotations

from collections import OrderedDict

import pandas as pd

from training import StanceScorer, check_languages, score_columns
from training.texts import text_problem

LANGUAGE_COLUMN = "language"
ERROR_COLUMN = "error"
DEFAULT_CACHE_SIZE = 50_000


class ScoreCache:
    """A bounded least-recently-used map from text to its flat score values."""

    def __init__(self, max_entries: int = DEFAULT_CACHE_SIZE):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple] = OrderedDict()

    def get(self, text: str) -> tuple | None:
        values = self._entries.get(text)
        if values is not None:
            self._entries.move_to_end(text)
        return values

    def put(self, text: str, values: tuple) -> None:
        self._entries[text] = values
        self._entries.move_to_end(text)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def output_columns(targets: list[str]) -> list[str]:
    """The columns scoring adds to every row: the flat score columns, `language`, `error`."""
    return [*score_columns(targets), LANGUAGE_COLUMN, ERROR_COLUMN]


def score_distinct(
    model: StanceScorer, texts: list[str], targets: list[str], batch_size: int
) -> dict[str, tuple]:
    """Flat score values (in `score_columns(targets)` order) of each distinct text."""
    if not texts:
        return {}
    names = score_columns(targets)
    result = {}
    scores = model.score(texts, targets, batch=model.embed(texts, batch_size=batch_size))
    for text, score in zip(texts, scores, strict=True):
        columns = score.to_columns()
        result[text] = tuple(columns[name] for name in names)
    return result


def score_texts(
    model: StanceScorer,
    values: list,
    targets: list[str],
    *,
    problems: list[str | None] | None = None,
    cache: ScoreCache | None = None,
    batch_size: int = 64,
) -> pd.DataFrame:
    """Score columns, `language` and `error` for each value, row-aligned.

    Unusable rows get only an error; rows in a language the model does not read get their
    `language` and the `unsupported_language` error (`training.check_language`), no scores.
    """
    problems = problems or [None] * len(values)
    pairs = zip(values, problems, strict=True)
    errors = [problem or text_problem(value) for value, problem in pairs]
    readable = list(dict.fromkeys(v for v, e in zip(values, errors, strict=True) if e is None))
    checks = dict(zip(readable, check_languages(readable), strict=True))
    languages = [None if e else checks[v].language for v, e in zip(values, errors, strict=True)]
    errors = [e or checks[v].error for v, e in zip(values, errors, strict=True)]
    known: dict[str, tuple] = {}
    missing: dict[str, None] = {}
    for value, error in zip(values, errors, strict=True):
        if error is None and value not in known and value not in missing:
            cached = cache.get(value) if cache is not None else None
            if cached is None:
                missing[value] = None
            else:
                known[value] = cached
    fresh = score_distinct(model, list(missing), targets, batch_size)
    if cache is not None:
        for text, scored in fresh.items():
            cache.put(text, scored)
    known.update(fresh)
    names = score_columns(targets)
    blank = (None,) * len(names)
    rows = [blank if error else known[value] for value, error in zip(values, errors, strict=True)]
    frame = pd.DataFrame(rows, columns=names)
    for name in names:
        if name.endswith("_stance") or name == "sentiment":
            frame[name] = frame[name].astype(object)
        else:
            frame[name] = frame[name].astype("float64")
    frame[LANGUAGE_COLUMN] = pd.Series(languages, dtype=object)
    frame[ERROR_COLUMN] = pd.Series(errors, dtype=object)
    return frame
