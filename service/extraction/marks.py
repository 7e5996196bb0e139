"""Find direct quotations: the text between quotation marks, paragraph by paragraph."""

import re
from dataclasses import dataclass

from service.extraction.boilerplate import Paragraph, ParagraphKind

OPEN, CLOSE, EITHER = "open", "close", "either"

_OPENING_CONTEXT = set("([{—–-/:;") | set("\"“‘'")
_CLOSING_CONTEXT = set(".,;:!?)]}—–-…") | set("\"”’'")
_DOUBLE = {"“": OPEN, "„": OPEN, "«": OPEN, "”": CLOSE, "»": CLOSE, '"': EITHER}
_SINGLE = {"‘": OPEN, "’": EITHER, "'": EITHER}
# Only the mark characters of a paragraph are visited, not every character.
_DOUBLE_CHARS = re.compile("[" + re.escape("".join(_DOUBLE)) + "]")
_SINGLE_CHARS = re.compile("[" + re.escape("".join(_SINGLE)) + "]")

# An unclosed mark in a paragraph that never ends would otherwise swallow the article.
MAX_UNCLOSED_CHARS = 800


@dataclass(frozen=True)
class QuoteSpan:
    """Quoted text [start, end) inside marks at open_mark and close_mark (None if unclosed)."""

    start: int
    end: int
    open_mark: int
    close_mark: int | None
    paragraph: int

    @property
    def closed(self) -> bool:
        return self.close_mark is not None

    @property
    def outer_end(self) -> int:
        """End of the quotation including its closing mark."""
        return self.close_mark + 1 if self.close_mark is not None else self.end


def find_quote_spans(text: str, paragraphs: list[Paragraph]) -> list[QuoteSpan]:
    """Quotations in body and heading paragraphs, outermost marks only, in text order."""
    spans: list[QuoteSpan] = []
    for para in paragraphs:
        if para.kind is ParagraphKind.BOILERPLATE:
            continue
        line = text[para.start : para.end]
        pairs = _pair(line, _double_marks(line), single=False)
        pairs += _pair(line, _single_marks(line), single=True)
        for open_at, close_at in _outermost(pairs):
            span = _span(text, para, open_at, close_at)
            if span is not None:
                spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def _double_marks(line: str) -> list[tuple[int, str]]:
    marks = []
    for found in _DOUBLE_CHARS.finditer(line):
        i, ch = found.start(), found.group()
        role = _DOUBLE[ch]
        if role == EITHER:
            role = _straight_role(line, i)
        if role:
            marks.append((i, role))
    return marks


def _single_marks(line: str) -> list[tuple[int, str]]:
    marks = []
    for found in _SINGLE_CHARS.finditer(line):
        i, ch = found.start(), found.group()
        before, after = _neighbours(line, i)
        if before.isalnum() and after.isalnum():
            continue  # apostrophe inside a word: don't, Russia's, O'Brien
        role = OPEN if ch == "‘" else _straight_role(line, i)
        if role == EITHER:
            role = None  # a lone ' between a space and a space or a letter is not a mark
        if role:
            marks.append((i, role))
    return marks


def _straight_role(line: str, i: int) -> str | None:
    before, after = _neighbours(line, i)
    opens = (before.isspace() or before in _OPENING_CONTEXT) and not after.isspace()
    closes = not before.isspace() and (after.isspace() or after in _CLOSING_CONTEXT)
    if opens and not closes:
        return OPEN
    if closes and not opens:
        return CLOSE
    return EITHER if opens else None


def _neighbours(line: str, i: int) -> tuple[str, str]:
    before = line[i - 1] if i > 0 else " "
    after = line[i + 1] if i + 1 < len(line) else " "
    return before, after


def _pair(line: str, marks: list[tuple[int, str]], single: bool) -> list[tuple[int, int | None]]:
    """Match opening and closing marks; a trailing unmatched opening mark stays open."""
    pairs: list[tuple[int, int | None]] = []
    open_at: int | None = None
    for n, (pos, role) in enumerate(marks):
        if open_at is None:
            if role in (OPEN, EITHER):
                open_at = pos
        elif role in (CLOSE, EITHER):
            if single and _possessive_plural(line, pos) and _later_close(marks[n + 1 :]):
                continue  # "the teachers' union": the real closing mark comes later
            pairs.append((open_at, pos))
            open_at = None
        else:
            open_at = pos  # two openings in a row: the first one was unbalanced, drop it
    if open_at is not None and (not single or _opens_speech(line, open_at)):
        pairs.append((open_at, None))
    return pairs


def _possessive_plural(line: str, pos: int) -> bool:
    return pos > 0 and line[pos - 1] in "sS"


def _later_close(rest: list[tuple[int, str]]) -> bool:
    for _, role in rest:
        if role == OPEN:
            return False
        if role in (CLOSE, EITHER):
            return True
    return False


def _opens_speech(line: str, pos: int) -> bool:
    """An unclosed single mark counts only at a paragraph start or after a colon."""
    head = line[:pos].rstrip()
    return not head or head.endswith(":")


def _outermost(pairs: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Drop quotations nested in (or crossing) an earlier, longer one."""
    ordered = sorted(pairs, key=lambda p: (p[0], -(p[1] if p[1] is not None else 10**9)))
    kept: list[tuple[int, int | None]] = []
    reach = -1
    for open_at, close_at in ordered:
        if open_at < reach:
            continue
        kept.append((open_at, close_at))
        reach = close_at if close_at is not None else 10**9
    return kept


def _span(text: str, para: Paragraph, open_at: int, close_at: int | None) -> QuoteSpan | None:
    start = para.start + open_at + 1
    end = para.start + close_at if close_at is not None else para.end
    if close_at is None and end - start > MAX_UNCLOSED_CHARS:
        end = _sentence_end_before(text, start, start + MAX_UNCLOSED_CHARS)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    close_mark = para.start + close_at if close_at is not None else None
    return QuoteSpan(start, end, para.start + open_at, close_mark, para.index)


def _sentence_end_before(text: str, start: int, limit: int) -> int:
    cut = max(text.rfind(p, start, limit) for p in (". ", "? ", "! "))
    return cut + 1 if cut > start else start
