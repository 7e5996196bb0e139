"""Quotes longer than the encoder reads, cut into windows: their sentences.

The sentence encoder reads at most `limit` tokens (256 for MiniLM) and would silently drop the
rest. A longer quote is scored sentence by sentence (a sentence longer than `limit` on its own
is cut between words), and each head keeps the sentence that takes the clearest position
(`training.scorer`), so a stance stated only in the last sentence is not lost. Sentences, not
windows packed to the limit: in a window of 256 tokens one sentence of position is outweighed
by the rest (measured on tests/test_long_quotes.py: P(favor) 0.10 packed, 0.9 alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A sentence ends at . ! ? or … and any closing quote or bracket, before space and a capital,
# digit or opening quote; not after a title ("Mr. Smith").
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|St|No|vs|e\.g|i\.e)\.)$")


def sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, whitespace at their edges removed."""
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _ABBREVIATIONS.search(text[start : match.end()]):
            continue
        parts.append(text[start : match.end()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def windows(text: str, token_counts: Callable[[list[str]], list[int]], limit: int) -> list[str]:
    """The sentences of `text`, each cut to at most `limit` tokens (`token_counts` counts a
    text's tokens as the encoder does, special tokens included)."""
    return [
        piece for sentence in sentences(text) for piece in _fitting(sentence, token_counts, limit)
    ]


def _fitting(sentence: str, token_counts, limit: int) -> list[str]:
    """`sentence`, or halves of it cut between words until every part fits in `limit` tokens."""
    if token_counts([sentence])[0] <= limit:
        return [sentence]
    words = sentence.split()
    if len(words) < 2:
        return [sentence]  # one enormous "word": the encoder truncates it, nothing better to do
    middle = len(words) // 2
    halves = (" ".join(words[:middle]), " ".join(words[middle:]))
    return [part for half in halves for part in _fitting(half, token_counts, limit)]
