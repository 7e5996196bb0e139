"""Find direct quotations: the text between quotation marks, paragraph by paragraph.

Each paragraph's double marks and single marks are paired separately, left to right, and the
outermost pairs are kept (a nested quotation stays part of the one around it). Conventions:
- English “…” and ‘…’; straight "…" and '…', opening or closing by the characters around them.
- Low opening marks: German and Czech „…“ and ‚…‘ (closed by a mark shaped like an English
  opener), Polish and Hungarian „…”, and „…" closed by a straight mark.
- Guillemets «…» and ‹…› (French, Russian), reversed »…« and ›…‹ (German, Danish), »…» (Swedish).
- Two-character marks: ''…'' (the two apostrophes of some US news text, e.g. the New York Times
  articles of PolNeAR) and the Penn Treebank's ``…'' and `…'.
- Spaced marks of tokenised text (`" We must act , " he said`): a straight mark with whitespace
  on both sides opens when no quotation is open and closes the open one otherwise.
Apostrophes are not marks: inside a word (don't, Russia's, O'Brien), a possessive plural
("the teachers' union") when a closing mark follows later, and the split clitics of tokenised
text (Russia 's, we 're).
Sources: the Chicago Manual of Style (17th ed.) §11 on quotation marks in other languages and
Wikipedia's "Quotation mark" table of national conventions; the Penn Treebank tokenisation
guidelines for `` and ''.
"""

import re
from dataclasses import dataclass

from service.extraction.boilerplate import Paragraph, ParagraphKind

OPEN, CLOSE, EITHER, SPACED = "open", "close", "either", "spaced"

_OPENING_CONTEXT = set("([{—–-/:;") | set("\"“‘'„‚«»‹›`")
_CLOSING_CONTEXT = set(".,;:!?)]}—–-…") | set("\"”’'“‘«»‹›")
_DOUBLE = {"“": OPEN, "„": OPEN, "‟": OPEN, "«": OPEN, "``": OPEN, "”": CLOSE, "»": CLOSE}
_SINGLE = {"‘": OPEN, "‚": OPEN, "‛": OPEN, "‹": OPEN, "`": OPEN, "›": CLOSE}
_STRAIGHT = frozenset({'"', "''", "'", "’"})  # opening or closing by context
# An opener shaped like a closer in the other convention takes this mark as its closer:
# German „…“ and ‚…‘, reversed guillemets »…« and ›…‹.
_CLOSER_OF = {"„": "“", "‚": "‘", "»": "«", "›": "‹"}
# Closing-shaped marks that open a quotation when nothing is open: »…« and »…».
_REVERSIBLE = frozenset({"»", "›"})
# Every mark, longest first: a run of apostrophes is read two at a time ('' then ').
_MARK = re.compile(r"``|''|[“”„‟«»\"‘’‚‛‹›'`]")
_DOUBLES = frozenset(_DOUBLE) | {'"', "''"}
# Clitics that tokenised text splits off with their apostrophe: "Russia 's", "we 're".
_CLITIC = re.compile(r"['’](?:s|re|ve|ll|d|m|t)(?![^\W_])", re.IGNORECASE)
_CLOSING_MARKS = "\"'”’“‘»«›‹"

# An unclosed mark in a paragraph that never ends would otherwise swallow the article.
MAX_UNCLOSED_CHARS = 800


@dataclass(frozen=True)
class QuoteSpan:
    """Quoted text [start, end) between the opening mark starting at open_mark and the closing
    mark ending at close_mark (its last character; None if unclosed). Marks can be two
    characters wide ('' and ``)."""

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


@dataclass(frozen=True)
class _Mark:
    """A quotation mark at [at, end) of a paragraph, with the roles its context allows."""

    at: int
    end: int
    text: str
    role: str


def find_quote_spans(text: str, paragraphs: list[Paragraph]) -> list[QuoteSpan]:
    """Quotations in body and heading paragraphs, outermost marks only, in text order."""
    spans: list[QuoteSpan] = []
    for para in paragraphs:
        if para.kind is ParagraphKind.BOILERPLATE:
            continue
        line = text[para.start : para.end]
        doubles, singles = _marks(line)
        pairs = _pair(line, doubles, single=False) + _pair(line, singles, single=True)
        for opening, closing in _outermost(pairs):
            span = _span(text, para, opening, closing)
            if span is not None:
                spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def strip_inner_closing_marks(quote: str) -> str:
    """A quotation without the closing marks of a quotation nested at its end.

    `… he asked 'why now?'` -> `… he asked 'why now?`, so that the punctuation which lets an
    attribution follow (`"…?'" says X`) is seen behind the inner mark.
    """
    return quote.rstrip(_CLOSING_MARKS + " ")


def _marks(line: str) -> tuple[list[_Mark], list[_Mark]]:
    """The double and the single quotation marks of a paragraph, in order."""
    doubles: list[_Mark] = []
    singles: list[_Mark] = []
    resume = 0
    for found in _MARK.finditer(line):
        at, mark = found.start(), found.group()
        if at < resume:
            continue
        found_marks = [(at, mark)]
        if mark == "''" and line[at + 2 : at + 3] == "'" and not _word_at(line, at + 3):
            # A run of three before a space or punctuation ends two quotations, or a possessive
            # plural and a quotation: the single mark comes first, then the ''.
            found_marks = [(at, "'"), (at + 1, "''")]
            resume = at + 3
        for start, text in found_marks:
            role = _role(line, start, text)
            if role is not None:
                marks = doubles if text in _DOUBLES else singles
                marks.append(_Mark(start, start + len(text), text, role))
    return doubles, singles


def _word_at(line: str, i: int) -> bool:
    return i < len(line) and line[i].isalnum()


def _role(line: str, at: int, mark: str) -> str | None:
    before, after = _neighbours(line, at, at + len(mark))
    if mark not in _DOUBLES and before.isalnum() and after.isalnum():
        return None  # apostrophe inside a word: don't, Russia's, O'Brien
    if mark in ("'", "’") and before.isspace() and _CLITIC.match(line, at):
        return None  # tokenised text: "Russia 's", "we 're"
    if mark in _STRAIGHT:
        role = _straight_role(before, after)
        if mark in ("'", "’") and role == EITHER:
            return None  # a lone ' between punctuation is not a mark
        return role
    return _DOUBLE.get(mark) or _SINGLE.get(mark)


def _straight_role(before: str, after: str) -> str | None:
    if before.isspace() and after.isspace():
        return SPACED
    opens = (before.isspace() or before in _OPENING_CONTEXT) and not after.isspace()
    closes = not before.isspace() and (after.isspace() or after in _CLOSING_CONTEXT)
    if opens and not closes:
        return OPEN
    if closes and not opens:
        return CLOSE
    return EITHER if opens else None


def _neighbours(line: str, at: int, end: int) -> tuple[str, str]:
    before = line[at - 1] if at > 0 else " "
    after = line[end] if end < len(line) else " "
    return before, after


def _pair(line: str, marks: list[_Mark], single: bool) -> list[tuple[_Mark, _Mark | None]]:
    """Match opening and closing marks; a trailing unmatched opening mark stays open."""
    pairs: list[tuple[_Mark, _Mark | None]] = []
    opening: _Mark | None = None
    for n, mark in enumerate(marks):
        if opening is None:
            if _may_open(line, mark, single):
                opening = mark
        elif _closes(mark, opening):
            later = marks[n + 1 :]
            if single and _possessive_plural(line, mark) and _later_close(later, opening):
                continue  # "the teachers' union": the real closing mark comes later
            pairs.append((opening, mark))
            opening = None
        elif mark.role == OPEN:
            opening = mark  # two openings in a row: the first one was unbalanced, drop it
    if opening is not None and _may_stay_open(line, opening, single):
        pairs.append((opening, None))
    return pairs


def _may_open(line: str, mark: _Mark, single: bool) -> bool:
    if mark.role in (OPEN, EITHER):
        return True
    if mark.role == SPACED:
        return not single or _after_clause_boundary(line, mark.at)
    # »…« and »…»: a closing-shaped guillemet opens when it stands before a word.
    return mark.text in _REVERSIBLE and _neighbours(line, mark.at, mark.end)[1].isalnum()


def _closes(mark: _Mark, opening: _Mark) -> bool:
    return mark.role in (CLOSE, EITHER, SPACED) or mark.text == _CLOSER_OF.get(opening.text)


def _may_stay_open(line: str, opening: _Mark, single: bool) -> bool:
    """Single and spaced marks stay open only at a paragraph start or after a colon."""
    return (not single and opening.role != SPACED) or _opens_speech(line, opening.at)


def _after_clause_boundary(line: str, at: int) -> bool:
    """A spaced single mark opens only where a quotation can begin: "said : ' We …"."""
    head = line[:at].rstrip()
    return not head or head[-1] in ".?!:;,—–-("


def _possessive_plural(line: str, mark: _Mark) -> bool:
    """ "teachers'" or, in tokenised text, "teachers ' union"."""
    head = line[: mark.at].rstrip() if mark.role == SPACED else line[: mark.at]
    return head[-1:] in ("s", "S")


def _later_close(rest: list[_Mark], opening: _Mark) -> bool:
    for mark in rest:
        if _closes(mark, opening):
            return True
        if mark.role == OPEN:
            return False
    return False


def _opens_speech(line: str, pos: int) -> bool:
    head = line[:pos].rstrip()
    return not head or head.endswith(":")


def _outermost(pairs: list[tuple[_Mark, _Mark | None]]) -> list[tuple[_Mark, _Mark | None]]:
    """Drop quotations nested in (or crossing) an earlier, longer one."""
    ordered = sorted(pairs, key=lambda p: (p[0].at, -(p[1].at if p[1] is not None else 10**9)))
    kept: list[tuple[_Mark, _Mark | None]] = []
    reach = -1
    for opening, closing in ordered:
        if opening.at < reach:
            continue
        kept.append((opening, closing))
        reach = closing.at if closing is not None else 10**9
    return kept


def _span(text: str, para: Paragraph, opening: _Mark, closing: _Mark | None) -> QuoteSpan | None:
    start = para.start + opening.end
    end = para.start + closing.at if closing is not None else para.end
    if closing is None and end - start > MAX_UNCLOSED_CHARS:
        end = _sentence_end_before(text, start, start + MAX_UNCLOSED_CHARS)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    close_mark = para.start + closing.end - 1 if closing is not None else None
    return QuoteSpan(start, end, para.start + opening.at, close_mark, para.index)


def _sentence_end_before(text: str, start: int, limit: int) -> int:
    cut = max(text.rfind(p, start, limit) for p in (". ", "? ", "! "))
    return cut + 1 if cut > start else start
