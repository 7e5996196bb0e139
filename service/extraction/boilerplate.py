"""Split an article into paragraphs and tell body text from headings and page furniture."""

import re
from dataclasses import dataclass
from enum import Enum


class ParagraphKind(Enum):
    BODY = "body"
    HEADING = "heading"
    BOILERPLATE = "boilerplate"


@dataclass(frozen=True)
class Paragraph:
    """One line of the article with its character range and kind."""

    index: int
    start: int
    end: int
    kind: ParagraphKind


# Page furniture that scraped news text carries: video players and their timed captions,
# photo captions, bylines, promotions and links to other stories.
_BOILERPLATE = re.compile(
    r"""^(?:
        \d{1,2}:\d{2}                                   # video caption "3:12Uncle Sam ..."
      | please\ use\ (?:chrome|a\ different)\ browser
      | (?:image|picture|photo|pic|video|watch|listen|graphic|caption|file\ pic)\s*:
      | read\ more\b | more\ on\ this\ story | related\ (?:stories|topics|articles)?\s*:?
      | follow\b | get\ .{1,60}\b(?:on\ whatsapp|alerts|newsletter|app)\b
      | tap\ here | click\ here | sign\ up | subscribe\b | install\ the\b | download\ the\b
      | share\ this | advertisement$ | copyright\b | ©
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BYLINE = re.compile(r"^By [A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,3}\s*(?:,|$| and | in )")
# Sentence punctuation, then any closing marks or brackets: English ”’, German “‘, guillemets,
# '' and, in tokenised text, marks set off by spaces (`us . "`).
_SENTENCE_END = re.compile(r"[.!?:;…](?:\s*[\"'”’“‘»«›‹)\]])*\s*$")
_QUESTION_HEADLINE = re.compile(r"^\S.{0,120}[?!]$")  # "Will NATO countries cough up 5%?"


def split_paragraphs(text: str) -> list[Paragraph]:
    """Split text on newlines and classify every non-empty line."""
    paragraphs: list[Paragraph] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + line.index(stripped[0])
            kind = _classify(stripped, first=not paragraphs)
            paragraphs.append(Paragraph(len(paragraphs), start, start + len(stripped), kind))
        offset += len(line) + 1
    return paragraphs


def _classify(line: str, first: bool) -> ParagraphKind:
    if _BOILERPLATE.match(line) or _BYLINE.match(line):
        return ParagraphKind.BOILERPLATE
    if _looks_like_heading(line) or (first and _headline(line)):
        return ParagraphKind.HEADING
    return ParagraphKind.BODY


def _headline(line: str) -> bool:
    """The first line is the headline unless it reads like a sentence of body text."""
    return len(line.split()) <= 40 and (
        not _SENTENCE_END.search(line) or _QUESTION_HEADLINE.search(line) is not None
    )


def _looks_like_heading(line: str) -> bool:
    """A short line without closing punctuation is a headline or a cross-heading."""
    # A quoted cross-heading ('Make NATO great again') ends in a bare mark; a quoted sentence
    # ends in punctuation inside the mark, which _SENTENCE_END allows for.
    return len(line.split()) <= 20 and not _SENTENCE_END.search(line)
