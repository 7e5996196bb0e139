"""Annotated news for attribution: PolNeAR's brat standoff files read into plain examples.

PolNeAR v1.0 (Newell, Margolin & Ruths, LREC 2018) annotates every attribution in political news
as a Source span (who), a Cue span (said, told, according to, ":") and a Content span (what).
It annotates beliefs and intentions as well as speech, so `quote_like` selects what this project
calls a quotation:
- direct: the content holds a quotation in double marks (“…”, "…", „…“, «…», and the two
  apostrophes ''…'' with which PolNeAR's New York Times articles quote);
- reported speech: the cue holds a verb of saying or writing (`SPEECH_CUES`), "according to", or
  is a bare colon or dash.
Beliefs ("thinks", "believes"), perceptions ("saw"), findings of studies ("shows", "found") and
intentions ("wants", "plans") are left out.

This is the only module that reads the corpus; the benchmark and the speaker ranker's fitting
call it. The corpus lives in ../shared and is never committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Verbs of saying and writing, in the forms news uses. Chosen from the communication verbs of
# Levin (1993, §37) that report speech, not from the extractor's own lexicon.
_SPEECH_VERBS = """
say tell add state announce claim argue insist explain note acknowledge admit confirm deny reveal
stress emphasize emphasise predict promise pledge vow declare reply respond answer recall remark
observe conclude agree write tweet post complain concede maintain reiterate assert allege caution
warn accuse describe call dismiss mock joke shout urge ask boast threaten counter protest lament
report suggest mention question criticize criticise attack praise blast slam chant echo tout
testify told quip retort demand charge contend recount comment brag concur continue repeat
"""
_IRREGULAR = {"say": ["said"], "tell": ["told"], "write": ["wrote", "written"]}
_DOUBLE_MARKS = ("“", "”", '"', "„", "«", "»", "''", "``")


def _forms(lemma: str) -> set[str]:
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    plural = lemma + ("es" if lemma.endswith(("s", "sh", "ch", "x")) else "s")
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        plural, past = lemma[:-1] + "ies", lemma[:-1] + "ied"
    else:
        past = stem + "ed"
    return {lemma, plural, past, stem + "ing", *_IRREGULAR.get(lemma, [])}


SPEECH_CUES = frozenset(form for lemma in _SPEECH_VERBS.split() for form in _forms(lemma))


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of the article, with the text they hold."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Annotation:
    """An annotated span; discontinuous ones ("“A,” she said. “B.”") have several parts."""

    parts: tuple[Span, ...]

    @property
    def first(self) -> Span:
        return self.parts[0]

    @property
    def text(self) -> str:
        return " ".join(part.text for part in self.parts)


@dataclass(frozen=True)
class GoldAttribution:
    """One annotated attribution: who (None when the annotator marked no source), cue, content."""

    source: Annotation | None
    cue: Annotation | None
    content: Annotation

    @property
    def direct(self) -> bool:
        return any(mark in self.content.text for mark in _DOUBLE_MARKS)

    @property
    def quote_like(self) -> bool:
        """A direct quotation, or reported speech with a speech cue (see module docstring)."""
        if self.direct:
            return True
        if self.cue is None:
            return False
        words = re.findall(r"[a-z]+", self.cue.text.lower())
        if not words:
            return self.cue.text.strip() in (":", "—", "―", "–", "-")
        return "according" in words or any(word in SPEECH_CUES for word in words)


@dataclass(frozen=True)
class AnnotatedArticle:
    """An article's text and its attributions (by one annotator), in text order."""

    id: str
    text: str
    attributions: list[GoldAttribution]

    def quote_like(self) -> list[GoldAttribution]:
        return [a for a in self.attributions if a.quote_like]


class CorpusError(ValueError):
    """The corpus directory is missing or a file does not follow brat standoff."""


def read_polnear(split_dir: Path | str) -> Iterator[AnnotatedArticle]:
    """Articles of one PolNeAR split (`data/dev`, `data/train`), in file-name order.

    Where several annotators did an article, the first annotation file by name is used.
    """
    split_dir = Path(split_dir)
    texts, annotations = split_dir / "text", split_dir / "attributions"
    if not texts.is_dir() or not annotations.is_dir():
        raise CorpusError(f"{split_dir}: expected text/ and attributions/ (a PolNeAR split)")
    for text_path in sorted(texts.glob("*.txt")):
        candidates = sorted(annotations.glob(f"{text_path.stem}_*.ann"))
        if not candidates:
            continue
        text = text_path.read_text(encoding="utf-8")
        yield AnnotatedArticle(text_path.stem, text, _attributions(candidates[0], text))


def _attributions(path: Path, text: str) -> list[GoldAttribution]:
    spans: dict[str, Annotation] = {}
    events: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if line.startswith("T") and len(fields) >= 2:
            _, _, offsets = fields[1].partition(" ")
            parts = []
            for part in offsets.split(";"):
                bounds = part.split()
                if len(bounds) != 2 or not all(bound.isdigit() for bound in bounds):
                    raise CorpusError(f"{path}:{number}: bad offsets {offsets!r}")
                start, end = int(bounds[0]), int(bounds[1])
                parts.append(Span(start, end, text[start:end]))
            spans[fields[0]] = Annotation(tuple(parts))
        elif line.startswith("E") and len(fields) >= 2:
            roles = dict(part.split(":", 1) for part in fields[1].split() if ":" in part)
            events.append(roles)
    found = []
    for roles in events:
        content = spans.get(roles.get("Content", ""))
        if content is None:
            continue
        found.append(
            GoldAttribution(
                spans.get(roles.get("Source", "")), spans.get(roles.get("Cue", "")), content
            )
        )
    return sorted(found, key=lambda a: a.content.first.start)
