"""Transcripts and interviews: paragraphs opened by a speaker label are quotations of that speaker.

A turn is a paragraph that opens with a label and a colon, `LABEL: what was said`:
- a name, in capitals as transcripts print it (`MORROW:`, `JAKE MORROW:`, `MR. MORROW:`) or as
  written (`Jake Morrow:`), optionally with a role (`JAKE MORROW, MINE MANAGER:`,
  `MORROW (mine manager):`);
- `Q:` and `A:`, the interviewer's questions and the interviewee's answers.
Which labels count:
- a label naming a person of the article counts; it is resolved to the fullest name the
  article gives (`MORROW:` -> "Jake Morrow"), honorifics choosing between people who share a
  surname, and among several candidates the one named last before the turn;
- a transcript is Q and A, or labels of two speakers or more with turns in adjacent paragraphs;
  labels of several speakers spread over narrative, none adjacent, are the subheads of a list
  ("Sanders: Win in a walk." ... "Cruz: Just hang on."), not turns;
- a capitalised label the article names nowhere else (`HOST:`, `CALLER:`) counts only in a
  transcript, credited as the fullest label that contains it (`LIND:` after `ANNA LIND,
  COUNCIL LEADER:`), in title case;
- a mixed-case label the article names nowhere else ("Update:", "Washington:") is prose, and
  editorial labels (UPDATE, CORRECTION, EDITOR'S NOTE...) and subheads never count; a label
  followed by a quotation in marks ('Jake Morrow: "We were robbed" as ...') is a headline whose
  marks say what was said, left to the direct quotations;
- `Q:` and `A:` count when the article has both.
Headlines of the form "Jake Morrow: The mine will not close." are that person's turn too (PolNeAR
annotates them with the colon as cue).
`A:` is the interviewee: the person the introduction says was interviewed ("Jake Morrow spoke
to the Gazette", "we talked to Jake Morrow", "in an interview with Jake Morrow"), else the
person named last before the first answer. `Q:` is the interviewer: a person the introduction
names as the other party ("Lena Hart interviewed Jake Morrow") is credited as a person; a body
that is the other party ("spoke to the Westmoor Gazette") is credited as an organisation; else
the turn is credited to the description "the interviewer" (the questions were asked by someone
the article does not name), never to nobody.
The content of a turn runs from after the colon to the end of the paragraph (a quotation in
marks that fills it is taken without its marks) and must read as speech: a verb, or closing
punctuation ("Yes."), so a list such as "Jake Morrow: 1,203 votes" is not a turn. In a transcript,
up to `MAX_CONTINUATION` unlabelled body paragraphs between two turns continue the earlier
turn (a long answer); bracketed stage directions ("[Laughter]") are skipped.
Sources: the layouts seen in PolNeAR train (broadcast transcripts quoted by Breitbart and West
Journal with speaker names in capitals before a colon, a USA Today and a Politico Q&A interview
with "Q:"/"A:", Breitbart and HuffPost headlines "Name: claim", USA Today's "Name: summary"
subheads over narrative), which this module was checked against.
"""

import re
from dataclasses import dataclass
from itertools import pairwise

from spacy.tokens import Doc, Token

from service.extraction.boilerplate import Paragraph, ParagraphKind
from service.extraction.lexicon import HONORIFIC_GENDER, TITLES
from service.extraction.names import NameIndex, Person
from service.extraction.speakers import (
    DESCRIPTION,
    ORGANISATION,
    PERSON,
    Speaker,
    SpeakerResolver,
)

INTERVIEWER, INTERVIEWEE = "the interviewer", "the interviewee"
MAX_CONTINUATION = 3  # unlabelled paragraphs an answer may run on for

_NAME_WORD = r"(?:[A-Z][A-Za-z'’-]*\.?)"
_LABEL = re.compile(
    rf"""^(?P<label>
        (?P<name>{_NAME_WORD}(?:\ {_NAME_WORD}){{0,3}})
        (?:,\ (?P<role>(?:(?!'')[^:.!?"“”‘«»„]){{1,60}}?) | \ \((?P<prole>[^):]{{1,60}})\))?
    )\s*:\s+(?P<content>\S.*)$""",
    re.VERBOSE | re.DOTALL,
)
_QA = frozenset({"Q", "A"})
# Labels of the newsroom, not of a speaker.
_EDITORIAL = frozenset(
    {
        *("update", "updated", "correction", "clarification", "note", "editor's", "editors'"),
        *("breaking", "exclusive", "watch", "listen", "read", "more", "source", "sources"),
        *("warning", "disclaimer", "advertisement", "transcript", "summary", "latest"),
    }
)
_MARKS = "\"“”„'‘’«»"
_SPEECH_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_STAGE_DIRECTION = re.compile(r"^[\[(].*[\])]$")
_MEETING = frozenset({"speak", "talk", "chat", "interview"})
_PARTNER_PREPOSITIONS = frozenset({"to", "with", "by"})


@dataclass(frozen=True)
class Turn:
    """What [start, end) the speaker a label names said; the speaker's mention is the label."""

    start: int
    end: int
    speaker: Speaker
    speaker_type: str  # person, organisation or description
    cue: str  # the label as printed, with its colon: "MORROW:", "Q:"
    paragraph_start: int  # where the turn's paragraph (label included) begins


@dataclass(frozen=True)
class _Labelled:
    paragraph: Paragraph
    name: str  # the label's name part, which opens the paragraph: "MORROW", "Q"
    cue: str
    start: int  # content
    end: int


def find_turns(
    text: str,
    paragraphs: list[Paragraph],
    doc: Doc,
    names: NameIndex,
    resolver: SpeakerResolver,
) -> list[Turn]:
    """The labelled turns of an article (and the paragraphs continuing them), in text order."""
    labelled = [found for para in paragraphs if (found := _labelled(text, para, doc))]
    people = [_person(item, names) for item in labelled]
    qa = {item.name for item in labelled} >= _QA
    candidates = [
        (item, person)
        for item, person in zip(labelled, people, strict=True)
        if item.name in _QA or person is not None or item.name.isupper()
    ]
    speakers = {person.name if person else item.name.upper() for item, person in candidates}
    speakers -= _QA
    transcript = (qa or len(speakers) >= 2) and _adjacent(candidates)
    subheads = not transcript and len(speakers) >= 2
    accepted = [
        (item, person)
        for item, person in candidates
        if (qa if item.name in _QA else transcript or (person is not None and not subheads))
    ]
    if not accepted:
        return []
    answers = [item.paragraph.start for item, _ in accepted if item.name == "A"]
    parties = _interview_parties(doc, names, resolver, answers[0]) if qa else None
    turns: list[Turn] = []
    for n, (item, person) in enumerate(accepted):
        if item.name in _QA:
            speaker, kind = _party(item, parties)
        else:
            speaker, kind = _labelled_speaker(item, person, [i.name for i, _ in accepted])
        turn = Turn(item.start, item.end, speaker, kind, item.cue, item.paragraph.start)
        turns.append(turn)
        if transcript and n + 1 < len(accepted):
            following = accepted[n + 1][0].paragraph.index
            turns += _continuations(text, paragraphs, item.paragraph.index, following, turn)
    return turns


def _adjacent(candidates: list[tuple["_Labelled", Person | None]]) -> bool:
    """Some two labels open adjacent paragraphs: an exchange, not subheads over narrative."""
    indices = sorted(item.paragraph.index for item, _ in candidates)
    return any(b - a == 1 for a, b in pairwise(indices))


def without_turns(quotations: list, turns: list[Turn]) -> list:
    """Quotations (anything with `start`) outside the paragraphs of labelled turns."""
    return [q for q in quotations if not any(t.paragraph_start <= q.start < t.end for t in turns)]


def _labelled(text: str, para: Paragraph, doc: Doc) -> _Labelled | None:
    if para.kind is ParagraphKind.BOILERPLATE:
        return None
    line = text[para.start : para.end]
    match = _LABEL.match(line)
    if match is None or _editorial(match.group("name")):
        return None
    if para.kind is ParagraphKind.HEADING and match.group("name") not in _QA:
        return None  # "Clinton: Keep it", a subhead
    if match.group("role") and _has_verb(
        doc, para.start + match.start("role"), para.start + match.end("role")
    ):
        return None  # "Morrow, the manager, was clear: ..." is a sentence, not a label
    start, end = _content(line, match.start("content"), len(line))
    if line[start - 1] not in _MARKS and line[start] in _MARKS:
        return None  # 'Name: "We were robbed" as ...': a headline; the marks say what was said
    content = line[start:end]
    name = match.group("name")
    if not any(ch.isalpha() for ch in content):
        return None
    if name not in _QA and not _reads_as_speech(content, doc, para.start + start):
        return None
    cue = line[: match.end("label")] + ":"
    return _Labelled(para, name, cue, para.start + start, para.start + end)


def _editorial(name: str) -> bool:
    return any(word.lower().rstrip(".") in _EDITORIAL for word in name.split())


def _content(line: str, start: int, end: int) -> tuple[int, int]:
    """A quotation in marks that fills the whole turn is taken without its marks."""
    if end - start > 2 and line[start] in _MARKS and line[end - 1] in _MARKS:
        inner = line[start + 1 : end - 1]
        if not any(mark in inner for mark in _MARKS if mark not in "'’"):
            return start + 1, end - 1
    return start, end


def _reads_as_speech(content: str, doc: Doc, start: int) -> bool:
    """A verb, or closing punctuation ("Yes."): not a list line such as "Jake Morrow: 1,203"."""
    return _SPEECH_END.search(content) is not None or _has_verb(doc, start, start + len(content))


def _has_verb(doc: Doc, start: int, end: int) -> bool:
    span = doc.char_span(start, end, alignment_mode="expand")
    return span is not None and any(t.pos_ in ("VERB", "AUX") for t in span)


def _person(item: _Labelled, names: NameIndex) -> Person | None:
    """The person of the article a name label means, by its name words and honorific."""
    if item.name in _QA:
        return None
    first = item.name.split()[0].rstrip(".").lower()
    honorific = first if first in HONORIFIC_GENDER else None
    key = _key_words(item.name)
    if not key:
        return None
    para = item.paragraph
    elsewhere = {m.person.name for m in names.mentions if not para.start <= m.start < para.end}
    # Not the label itself ("JAKE MORROW", "Trump Addresses Munich Attack" in a headline).
    written = [p for p in names.persons if not p.name.isupper() and p.name in elsewhere]
    matches = [p for p in written if _named_by(p, key)]
    if honorific is not None:
        gender = HONORIFIC_GENDER[honorific]
        matches = [p for p in matches if p.gender in (None, gender)] or matches
    if len(matches) <= 1:
        return matches[0] if matches else None
    before = [m.person for m in names.mentions if m.person in matches and m.end <= item.start]
    return before[-1] if before else max(matches, key=lambda p: len(p.name))


def _named_by(person: Person, key: list[str]) -> bool:
    words = [w.lower() for w in person.name.split()]
    return all(w in words for w in key) and (len(key) > 1 or key[0] in (words[0], words[-1]))


def _labelled_speaker(
    item: _Labelled, person: Person | None, labels: list[str]
) -> tuple[Speaker, str]:
    """A name label: the person it resolves to, else the fullest label of the transcript that
    contains its words ("LIND" after "ANNA LIND"), in title case."""
    start, end = item.paragraph.start, item.paragraph.start + len(item.name)
    if person is not None:
        return Speaker(person.name, start, end, PERSON), PERSON
    key = _key_words(item.name)
    fuller = [label for label in labels if key and set(key) <= set(_key_words(label))]
    name = max(fuller, key=lambda label: len(label.split()), default=item.name)
    return Speaker(name.title(), start, end, PERSON), PERSON


def _key_words(name: str) -> list[str]:
    """A label's name words without titles and honorifics, in lower case."""
    words = [w.rstrip(".").lower() for w in name.split()]
    return [w for w in words if w not in TITLES and w not in HONORIFIC_GENDER]


@dataclass(frozen=True)
class _Parties:
    interviewee: Speaker | None
    interviewer: Speaker | None
    interviewer_type: str


def _party(item: _Labelled, parties: _Parties | None) -> tuple[Speaker, str]:
    """ "A:" is the interviewee, "Q:" the interviewer, each credited at the label."""
    label = (item.paragraph.start, item.paragraph.start + len(item.name))
    if item.name == "A":
        if parties is not None and parties.interviewee is not None:
            return Speaker(parties.interviewee.name, *label, PERSON), PERSON
        return Speaker(INTERVIEWEE, *label, DESCRIPTION), DESCRIPTION
    if parties is not None and parties.interviewer is not None:
        kind = parties.interviewer_type
        return Speaker(parties.interviewer.name, *label, kind), kind
    return Speaker(INTERVIEWER, *label, DESCRIPTION), DESCRIPTION


def _interview_parties(
    doc: Doc, names: NameIndex, resolver: SpeakerResolver, first_answer: int
) -> _Parties:
    """Who was interviewed and by whom, from the introduction before the first answer."""
    persons = {p.name for p in names.persons}

    def person(speaker: Speaker | None) -> bool:
        return speaker is not None and speaker.name in persons

    for token in doc:
        if token.idx >= first_answer:
            break
        if token.lemma_.lower() not in _MEETING:
            continue
        doer, partner = _meeting_sides(token)
        one = resolver.resolve(doer) if doer is not None else None
        other = resolver.resolve(partner) if partner is not None else None
        if person(one) and person(other) and token.lemma_.lower() != "interview":
            # "X spoke to Y" between two people: the one the article is about was interviewed.
            if _mentions(names, one) > _mentions(names, other):
                one, other = other, one
        elif person(one) and not person(other) and token.lemma_.lower() != "interview":
            one, other = other, one  # "Jake Morrow spoke to the Gazette"
        if person(other):
            kind = PERSON if person(one) else ORGANISATION if one is not None else DESCRIPTION
            return _Parties(other, one, kind)
    named = [m for m in names.mentions if m.end <= first_answer and not m.person.name.isupper()]
    last = named[-1] if named else None
    interviewee = Speaker(last.person.name, last.start, last.end) if last is not None else None
    return _Parties(interviewee, None, DESCRIPTION)


def _mentions(names: NameIndex, speaker: Speaker) -> int:
    return sum(m.person.name == speaker.name for m in names.mentions)


def _meeting_sides(token: Token) -> tuple[Token | None, Token | None]:
    """Who met whom: (doer, other party) of "X spoke to Y", "X interviewed Y", "X was
    interviewed by Y" (doer Y), "our interview with Y" (doer "our")."""
    doer = next((c for c in token.children if c.dep_ in ("nsubj", "nsubjpass", "poss")), None)
    partner = None
    for child in token.children:
        if child.dep_ == "dobj" and token.lemma_.lower() == "interview":
            partner = child
        elif child.dep_ in ("prep", "agent") and child.lower_ in _PARTNER_PREPOSITIONS:
            partner = next((c for c in child.children if c.dep_ == "pobj"), partner)
    if doer is not None and doer.dep_ == "nsubjpass":
        return partner, doer
    return doer, partner


def _continuations(
    text: str, paragraphs: list[Paragraph], labelled: int, following: int, turn: Turn
) -> list[Turn]:
    """Unlabelled body paragraphs between two turns continue the earlier one (a long answer)."""
    between = paragraphs[labelled + 1 : following]
    if len(between) > MAX_CONTINUATION:
        return []
    return [
        Turn(para.start, para.end, turn.speaker, turn.speaker_type, turn.cue, para.start)
        for para in between
        if para.kind is ParagraphKind.BODY
        and not _STAGE_DIRECTION.match(text[para.start : para.end])
        and any(ch.isalpha() for ch in text[para.start : para.end])
    ]
