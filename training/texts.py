"""When a value is a quote text worth scoring: the one rule of training, the API, batch and CLI.

A text must contain at least one visible character. Whitespace, control characters (NUL, C0,
C1), format characters (zero-width space and joiners, BOM, bidirectional marks, soft hyphen),
Unicode's default-ignorable fillers (Hangul fillers, variation selectors, tags, the combining
grapheme joiner) and the blank Braille pattern are all invisible: a text made only of them is
empty, however long it is. Texts are never altered: a visible text keeps its invisible
characters when it is scored.
"""

from __future__ import annotations

import math
import unicodedata

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Default-ignorable code points outside the categories above, plus the blank Braille pattern.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong / jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x2800, 0x2800),  # Braille pattern blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing on its own (see the module docstring)."""
    if char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def has_visible_text(text: str) -> bool:
    """True when `text` has at least one visible character."""
    return any(not is_invisible(char) for char in text)


def blank_text_problem(text: str) -> str | None:
    """Why a string is an empty text ('text is empty', naming invisible characters), or None."""
    if has_visible_text(text):
        return None
    if not text.strip():
        return "text is empty"
    shown = ", ".join(_name(char) for char in dict.fromkeys(text) if not char.isspace())
    return f"text is empty: it has only invisible characters ({_shorten(shown)})"


def text_problem(value: object) -> str | None:
    """Why `value` cannot be scored or trained on as a quote text, or None when it can."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "text is missing"
    if not isinstance(value, str):
        return f"text is not a string (got {type(value).__name__} {value!r:.40})"
    return blank_text_problem(value)


def _name(char: str) -> str:
    name = unicodedata.name(char, "") or f"{unicodedata.category(char)} character"
    return f"U+{ord(char):04X} {name}"


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
