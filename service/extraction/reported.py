"""Indirect speech: "X said (that) CLAUSE", "CLAUSE, X said", "according to X, CLAUSE", and calls
and pledges: "X urged Y to VP", "X vowed to VP", "X called on Y to VP", "X called for NP".

The reported content is the complement clause of a reporting verb. A clause that is quoted
entirely is a direct quotation, left to `attribution`. A clause that quotes only some of its
words is a mixed quotation (`said the plan was "dead on arrival"`): the whole clause is the
quotation, credited by its reporting verb, and replaces the quoted fragments it holds
(`ReportedSpeech.mixed`), so no words are counted twice and the fragment keeps its context.
"""

from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from service.extraction.cues import InQuote, cue_text, is_reporting
from service.extraction.lexicon import EXHORTING_VERBS, INDIRECT_EXCLUDED, NON_AGENT_SOURCES
from service.extraction.pipeline import Sentences
from service.extraction.speakers import Speaker, SpeakerResolver

_MARKS = frozenset("\"“”‘’'«»„")
_EDGE_SKIP = frozenset({"that", ",", "-", "–", "—", ":", ";"})
_MIN_TOKENS = 3


@dataclass(frozen=True)
class ReportedSpeech:
    """Reported content [start, end), its speaker and the reporting cue; `mixed` when it
    quotes some of its words verbatim."""

    start: int
    end: int
    speaker: Speaker | None
    cue: str
    mixed: bool = False


def find_reported_speech(
    doc: Doc,
    sentences: Sentences,
    resolver: SpeakerResolver,
    in_quote: InQuote,
    in_body: set[int],
) -> list[ReportedSpeech]:
    """Reported speech in the body sentences (numbers in `sentences`) of a parsed article."""
    found = []
    for token in doc:
        if sentences.number(token) not in in_body or in_quote(token):
            continue
        if token.lower_ == "according":
            speech = _according_to(token, sentences.of(token), resolver, in_quote)
        elif is_reporting(token):
            speech = None
            if token.lemma_.lower() not in INDIRECT_EXCLUDED:
                speech = _complement(token, resolver, in_quote) or _parenthetical(
                    token, resolver, in_quote
                )
            speech = speech or _exhortation(token, resolver, in_quote)
        else:
            speech = None
        if speech is not None:
            found.append(speech)
    return _outermost(found)


def _outermost(found: list[ReportedSpeech]) -> list[ReportedSpeech]:
    """A report inside another ("say the operator announced it will ...") is part of it."""
    return [
        s
        for s in found
        if not any(o is not s and o.start <= s.start and s.end <= o.end for o in found)
    ]


def _complement(verb: Token, resolver: SpeakerResolver, in_quote: InQuote):
    clause = next((c for c in verb.children if c.dep_ == "ccomp"), None)
    if clause is None:
        return None
    found, speaker = resolver.speaker_of(verb)
    if not found:
        return None
    # A reporting verb coordinated inside the clause starts its own report.
    own = {t.i for c in clause.subtree if c.dep_ == "conj" and is_reporting(c) for t in c.subtree}
    tokens = [t for t in clause.subtree if t.i not in own]
    while tokens and tokens[-1].dep_ == "cc":
        tokens.pop()
    if clause.i > verb.i:
        tokens += _coordinated_that_clauses(verb, clause)
    elif _introduces_quotation(verb):
        return None
    return _credited(tokens, speaker, cue_text(verb), in_quote)


def _credited(
    tokens: list[Token], speaker: Speaker | None, cue: str, in_quote: InQuote, verbless=False
) -> ReportedSpeech | None:
    """`_speech` of a verb's complement, or None when the content holds its own speaker: a
    misparsed subject, not speech."""
    speech = _speech(tokens, speaker, cue, in_quote, verbless)
    if speech is not None and speaker is not None and speech.start <= speaker.start < speech.end:
        return None
    return speech


def _exhortation(verb: Token, resolver: SpeakerResolver, in_quote: InQuote):
    """A call, request or pledge (`EXHORTING_VERBS`) reported by what it asks or promises, with
    its addressee: "urged [allies to raise spending]", "vowed [to protect ...]", "called on
    [allies to ...]", "called for [higher spending]". Positions are often reported this way."""
    lemma = verb.lemma_.lower()
    if lemma not in EXHORTING_VERBS:
        return None
    action = next((c for c in verb.children if c.dep_ == "xcomp" and _infinitive(c)), None)
    if action is not None and any(c.dep_ == "auxpass" for c in action.children):
        return None  # "asked not to be named": a request about the speaker, not a position
    cue = cue_text(verb)
    verbless = False
    if lemma == "call":  # "called X Y" names; only "called on/upon ... to" and "called for" ask
        preposition = next((c for c in verb.children if c.dep_ == "prep" and c.i > verb.i), None)
        if preposition is None or preposition.lower_ not in ("on", "upon", "for"):
            return None
        cue = f"{cue} {preposition.text}"
        tokens = [t for c in preposition.children if c.dep_ == "pobj" for t in c.subtree]
        if preposition.lower_ == "for":  # what is asked for is the noun phrase itself
            action, verbless = None, True
        elif action is None:
            return None
    elif action is None or action.i < verb.i:
        return None
    else:  # the addressee: "urged [allies] to ...", "asked [Congress] to ..."
        tokens = [
            t for c in verb.children if c.dep_ == "dobj" and c.i < action.i for t in c.subtree
        ]
    if action is not None:
        tokens += _without_trailing_clauses(action)
    found, speaker = resolver.speaker_of(verb)
    if not found:
        return None
    return _credited(tokens, speaker, cue, in_quote, verbless)


def _without_trailing_clauses(action: Token) -> list[Token]:
    """The action's words without a clause set off by a comma after it ("to step in, describing
    the announcement as 'a hammer blow'"): another act of speech, with its own quotation."""
    cut = {
        t.i
        for c in action.children
        if c.dep_ in ("advcl", "conj")
        and c.left_edge.i > action.i
        and c.doc[c.left_edge.i - 1].text == ","
        for t in c.subtree
    }
    return [t for t in action.subtree if t.i not in cut]


def _infinitive(verb: Token) -> bool:
    return any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)


def _introduces_quotation(verb: Token) -> bool:
    nxt = verb.doc[verb.i + 1] if verb.i + 1 < len(verb.doc) else None
    return nxt is not None and nxt.text == ":"


def _parenthetical(verb: Token, resolver: SpeakerResolver, in_quote: InQuote):
    """ "The plan, she said, would cost millions": the sentence around the parenthesis."""
    if verb.dep_ != "parataxis" or any(c.dep_ == "ccomp" for c in verb.children):
        return None
    found, speaker = resolver.speaker_of(verb)
    if not found:
        return None
    tokens = list(verb.head.subtree)
    if any(in_quote(t) for t in tokens):
        return None  # `with, he says, "a suitcase"`: the quotation is direct, around the aside
    speech = _speech(tokens, speaker, cue_text(verb), in_quote)
    if speech is None or speech.start >= verb.idx or speech.end <= verb.idx:
        return None  # the parenthesis must sit inside the reported sentence
    return speech


def _coordinated_that_clauses(verb: Token, clause: Token) -> list[Token]:
    """ "said X, but that Y": a second complement coordinated with the first."""
    extra = []
    for child in verb.children:
        if child.dep_ == "conj" and child.i > clause.i and not is_reporting(child):
            subtree = list(child.subtree)
            if any(t.lower_ == "that" for t in subtree[:3]):
                extra += [t for t in verb.doc[clause.right_edge.i + 1 : child.i]] + subtree
    return extra


def _according_to(token: Token, sentence: Span, resolver: SpeakerResolver, in_quote: InQuote):
    to = next((c for c in token.children if c.lower_ == "to"), None)
    source = next((c for c in to.children if c.dep_ == "pobj"), None) if to else None
    if source is None or source.lemma_.lower() in NON_AGENT_SOURCES:
        return None
    phrase = {t.i for t in token.subtree}
    tokens = [t for t in sentence if t.i not in phrase]
    if min(phrase) > sentence.start and max(phrase) < sentence.end - 2:
        tokens = list(sentence)  # "X, according to Y, is Z": keep the sentence whole
    return _speech(tokens, resolver.resolve(source), "according to", in_quote)


def _speech(
    tokens: list[Token],
    speaker: Speaker | None,
    cue: str,
    in_quote: InQuote,
    verbless: bool = False,
) -> ReportedSpeech | None:
    """The reported content made of `tokens`, trimmed; None when it is too short, has no verb
    (unless `verbless`: "called for [higher spending]"), spans paragraphs, or is quoted entirely
    (a direct quotation)."""
    tokens = sorted({t.i: t for t in tokens}.values(), key=lambda t: t.i)
    while tokens and (tokens[0].lower_ in _EDGE_SKIP or tokens[0].is_space):
        tokens.pop(0)
    while tokens and (tokens[-1].is_punct or tokens[-1].is_space):
        tokens.pop()
    has_verb = verbless or any(t.pos_ in ("VERB", "AUX") for t in tokens)
    if len(tokens) < _MIN_TOKENS or not has_verb:
        return None
    mixed = any(in_quote(t) for t in tokens)
    if mixed and not any(t.is_alpha and not in_quote(t) for t in tokens):
        return None
    start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1])
    text = tokens[0].doc[tokens[0].i : tokens[-1].i + 1].text
    trimmed = text.rstrip(".,;:!? ")  # "£2m." is one token
    end -= len(text) - len(trimmed)
    text = trimmed
    if "\n" in text:
        return None
    if not mixed and (any(ch in _MARKS for ch in text if ch not in "'’") or _quoted(text)):
        return None  # marks the quotation finder did not pair: leave the words alone
    return ReportedSpeech(start, end, speaker, cue, mixed)


def _quoted(text: str) -> bool:
    """Single marks used as quotation marks, not apostrophes ("Russia's")."""
    for i, ch in enumerate(text):
        if ch in "'’‘":
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            if not before.isalnum() and after.isalnum():
                return True
    return False
