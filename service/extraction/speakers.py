"""Resolve the subject of a reporting verb to a speaker: a person, an organisation or a
description, as the article credits it.

- Names resolve through `NameIndex` (short forms to the first full mention).
- Role phrases resolve to the person the article ties the role to: a title ("Judge X"), a role
  noun before the name ("Lithuania's defence minister X") or an apposition ("X, the alliance's
  secretary general"). A role matches a tie when the head nouns agree and its other common words
  are among the tie's ("the US defence secretary" ~ "Donald Trump's defence secretary").
- An untied definite title ("the US president") is a second reference to the most recently
  mentioned person.
- "he"/"she" resolve to the nearest earlier sentence with a compatible person outside quotes,
  preferring the subject of the sentence (or of its reporting verb), then a person of known
  matching gender, then the person mentioned first (the topic, not a name in an aside). Gender
  comes only from the article: honorifics (Mr, Ms, Mrs), gendered role nouns (spokeswoman) and
  the first pronoun resolved to a person. An unnamed person the article describes as the subject
  of a sentence ("a senior trade official", a singular role noun) is such a person too, and a
  pronoun that refers back to them is credited to the description.
- Institutions: an ORG entity, or a common noun that ends an ORG name ("the council" ->
  "Westmoor County Council"), or a capitalised proper noun that names nobody ("Bloomberg");
  "it" and "they" refer to the most recent institution (or, for "they", group) in reach.
- Anything else that speaks is a description, as written: "a senior NATO official", "sources
  familiar with the talks"; a possessive pronoun in it is resolved ("her office" ->
  "Ana Lind's office", an organisation when the head is an office, campaign or the like).
Every speaker carries its type: `PERSON`, `ORGANISATION` or `DESCRIPTION`.
"""

from dataclasses import dataclass

from spacy.tokens import Doc, Token

from service.extraction.cues import InQuote, is_reporting, subject_of
from service.extraction.lexicon import (
    DOCUMENT_NOUNS,
    FALLBACK_TITLES,
    GENERIC_ORG_NOUNS,
    GROUP_PRONOUNS,
    NON_PERSON_WORDS,
    OFFICE_NOUNS,
    PERSON_PRONOUNS,
    PRONOUN_GENDER,
    ROLE_GENDER,
    ROLE_NOUNS,
)
from service.extraction.names import NameIndex, Person
from service.extraction.pipeline import Sentences

_IGNORED_MODIFIERS = frozenset({"former", "current", "new", "acting", "then", "outgoing", "local"})
_SUBJECT_DEPS = ("nsubj", "nsubjpass")
_PRONOUN_REACH = 8  # sentences an antecedent may lie back
_GROUP_REACH = 3  # sentences back in which "it"/"they" find their institution or group
_DESCRIPTION_TOKENS = 12  # longer subjects are cut to their head and first modifier

PERSON, ORGANISATION, DESCRIPTION = "person", "organisation", "description"
SPEAKER_TYPES = (PERSON, ORGANISATION, DESCRIPTION)


@dataclass(frozen=True)
class Speaker:
    """Who said it, as the article names them, and the mention [start, end) that says so."""

    name: str
    start: int
    end: int
    kind: str = PERSON  # one of SPEAKER_TYPES


@dataclass(frozen=True)
class _Tie:
    person: Person
    head: str
    words: frozenset[str]
    places: frozenset[str]  # countries named in the role: "Lithuania's defence minister"
    position: int


@dataclass(frozen=True)
class _Event:
    position: int
    sentence: int
    person: Person
    subject: bool
    aside: bool = False  # named inside a prepositional phrase ("alongside X", "by X")
    kind: str = PERSON  # DESCRIPTION: an unnamed person the article describes ("an official")


class SpeakerResolver:
    """Answers "who is this subject?" for one parsed article."""

    def __init__(
        self,
        doc: Doc,
        sentences: Sentences,
        names: NameIndex,
        in_quote: InQuote,
        body: set[int],
    ):
        self._doc = doc
        self._names = names
        self._in_quote = in_quote
        self._body = body  # indices of sentences in body paragraphs
        self._sentences = sentences
        self._ties = _role_ties(doc, names)
        self._orgs = _organisations(doc, names)
        self._events: list[_Event] = []
        self._groups: list[tuple[int, int, Speaker]] = []  # (position, sentence, speaker)
        self._resolved: dict[int, Speaker | None] = {}
        self._follow_discourse()

    def speaker_of(self, verb: Token) -> tuple[bool, Speaker | None]:
        """Whether a reporting verb has a subject, and who that subject is.

        When the parse gives an active verb no noun subject (long appositions confuse it), the
        first person named earlier in the sentence is taken as the subject.
        """
        subject = subject_of(verb, self._in_quote)
        if subject is not None and subject.pos_ != "VERB":
            resolved = self.resolve(subject)
            if resolved is None or resolved.kind != PERSON:
                resolved = self._name_just_before(verb) or resolved
            return True, resolved
        if any(c.dep_ == "nsubjpass" for c in verb.children) or verb.dep_ in ("advcl", "xcomp"):
            return False, None
        for token in self._sentences.of(verb):
            if token.i >= verb.i:
                break
            mention = self._names.mention_at(token)
            if mention is not None and not self._in_quote(token):
                return True, Speaker(mention.person.name, mention.start, mention.end)
        return False, None

    def _name_just_before(self, verb: Token) -> Speaker | None:
        """ "..., one of the five due to close, Joyce Okonkwo, 79, said": a misparsed subject."""
        for token in reversed(verb.doc[max(verb.i - 6, 0) : verb.i]):
            mention = self._names.mention_at(token)
            if mention is not None and not self._in_quote(token):
                return Speaker(mention.person.name, mention.start, mention.end)
            if self._in_quote(token) or not (token.is_punct or token.like_num):
                return None
        return None

    def resolve(self, token: Token) -> Speaker | None:
        """The speaker a subject (or "according to" object) token refers to."""
        if token.i in self._resolved:
            return self._resolved[token.i]
        return self._resolve(token, self._events)

    def _resolve(self, token: Token, history: list[_Event]) -> Speaker | None:
        mention = self._names.mention_at(token)
        if mention is not None:
            return Speaker(mention.person.name, mention.start, mention.end)
        if token.lower_ in PERSON_PRONOUNS:
            event = self._antecedent(token, history, PRONOUN_GENDER[token.lower_])
            return _speaker(event, token.idx, token.idx + len(token))
        if token.lower_ in GROUP_PRONOUNS:
            return self._group_antecedent(token)
        if token.lower_ in ("who", "which", "that") and token.head.dep_ in ("relcl", "acl"):
            return self._resolve(token.head.head, history)  # "Kendal Unruh, who said ..."
        named = self._named_in_apposition(token)
        if named is not None:
            return named  # "the chair of the Trust, Patrick Nwosu", "One of them, Jake Morrow"
        if token.pos_ in ("NOUN", "PROPN") or token.lower_ in _PRONOUN_DESCRIPTIONS:
            return self._resolve_noun(token, history)
        return None

    def _resolve_noun(self, token: Token, history: list[_Event]) -> Speaker | None:
        start, end = token.left_edge.idx, token.idx + len(token)
        person = self._tied_person(token, history)
        if person is None and _definite(token) and token.lemma_.lower() in FALLBACK_TITLES:
            person = self._recent_person(token, history, ROLE_GENDER.get(token.lower_))
        if person is not None:
            return Speaker(person.name, start, end)
        org = self._organisation(token)
        if org:
            return Speaker(org, start, end, ORGANISATION)
        return self._described(token, history)

    def _described(self, token: Token, history: list[_Event]) -> Speaker | None:
        """What the article calls an unnamed speaker: a proper noun naming nobody is an
        organisation ("Bloomberg"), a document speaks for its author ("a statement from the
        Kremlin"), anything else is a description ("a senior NATO official")."""
        if token.pos_ == "PROPN" and token.ent_type_ in _INSTITUTION_ENTITIES:
            words = _phrase(token)
            return Speaker(_display(words), words[0].idx, _end(words), ORGANISATION)
        if token.lemma_.lower() in DOCUMENT_NOUNS:
            for child in token.children:
                if child.dep_ == "prep" and child.lower_ in ("from", "by", "of"):
                    source = next((c for c in child.children if c.dep_ == "pobj"), None)
                    author = self._resolve(source, history) if source is not None else None
                    if author is not None and author.kind != DESCRIPTION:
                        return author
        if (token.pos_ != "NOUN" or token.like_num) and token.lower_ not in _PRONOUN_DESCRIPTIONS:
            return None
        words = _phrase(token)
        owner = next((c for c in token.children if c.dep_ == "poss"), None)
        head = token.lemma_.lower()
        institution = head in OFFICE_NOUNS or head in NON_PERSON_WORDS or head in GENERIC_ORG_NOUNS
        kind = ORGANISATION if institution else DESCRIPTION
        if owner is not None and owner.lower_ in ("his", "her", "their", "its"):
            pronoun = {"his": "he", "her": "she"}.get(owner.lower_)
            holder = (
                _speaker(self._antecedent(owner, history, PRONOUN_GENDER[pronoun]), 0, 0)
                if pronoun
                else self._group_antecedent(owner)
            )
            if holder is not None:
                rest = [w for w in words if w.i != owner.i]
                name = f"{holder.name}'s {_display(rest)}"
                return Speaker(name, words[0].idx, _end(words), kind)
        return Speaker(_display(words), words[0].idx, _end(words), kind)

    def _group_antecedent(self, token: Token) -> Speaker | None:
        """ "it" and "they": the latest institution (or, for "they", plural group) in reach."""
        sentence = self._sentences.number(token)
        for position, number, speaker in reversed(self._groups):
            if position >= token.idx or sentence - number > _GROUP_REACH:
                continue
            plural_group = speaker.kind == DESCRIPTION and token.lower_ == "they"
            if speaker.kind == ORGANISATION or plural_group:
                return Speaker(speaker.name, token.idx, token.idx + len(token), speaker.kind)
        return None

    def _named_in_apposition(self, token: Token) -> Speaker | None:
        """ "the chair of the Trust, Patrick Nwosu": the name set beside the role noun."""
        for child in token.children:
            if child.dep_ == "compound" and self._names.mention_at(child):
                mention = self._names.mention_at(child)
                return Speaker(mention.person.name, mention.start, mention.end)
        for inner in token.subtree:
            mention = self._names.mention_at(inner)
            if mention is not None and inner.dep_ == "appos" and inner.i > token.i:
                return Speaker(mention.person.name, mention.start, mention.end)
        return None

    def _tied_person(self, token: Token, history: list[_Event]) -> Person | None:
        head, words, places = token.lemma_.lower(), _role_words(token), _role_places(token)
        ties = [
            t
            for t in self._ties
            if t.head == head and words <= t.words and (not places or places & t.places)
        ]
        if not ties:
            return None
        people = {t.person.name for t in ties}
        if len(people) > 1:
            for event in reversed(history):
                if event.person.name in people and event.position < token.idx:
                    return event.person
        before = [t for t in ties if t.position < token.idx]
        return (before[-1] if before else ties[0]).person

    def _recent_person(
        self, token: Token, history: list[_Event], gender: str | None
    ) -> Person | None:
        sentence = self._sentences.number(token)
        for event in reversed(history):
            if event.position >= token.idx or sentence - event.sentence > _PRONOUN_REACH:
                continue
            if event.kind == PERSON and _compatible(event.person, gender):
                return event.person
        return None

    def _antecedent(self, token: Token, history: list[_Event], gender: str) -> _Event | None:
        sentence = self._sentences.number(token)
        by_sentence: dict[int, list[_Event]] = {}
        for event in history:
            if event.position < token.idx and sentence - event.sentence <= _PRONOUN_REACH:
                by_sentence.setdefault(event.sentence, []).append(event)
        for number in sorted(by_sentence, reverse=True):
            fits = [e for e in by_sentence[number] if _compatible(e.person, gender)]
            if fits:
                # Subjects first, then a known matching gender, then the first mentioned: the
                # sentence's topic, not a name in an aside ("X, beside Y, repeated ...").
                return max(
                    fits,
                    key=lambda e: (e.subject, e.person.gender == gender, not e.aside, -e.position),
                )
        return None

    def _organisation(self, token: Token) -> str | None:
        for candidate in (token, *(c for c in token.children if c.dep_ == "appos")):
            named = self._organisation_at(candidate)
            if named:
                return named  # "Brackwater District Council", "The developer, Greenfell Energy"
        word = token.lower_
        if word in GENERIC_ORG_NOUNS:
            before = [n for s, _, n in self._orgs if s < token.idx]
            return before[-1] if before else None
        named = [(s, n) for s, _, n in self._orgs if n.split()[-1].lower() == word]
        before = [n for s, n in named if s < token.idx]
        return before[-1] if before else (named[0][1] if named else None)

    def _organisation_at(self, token: Token) -> str | None:
        return next((n for s, e, n in self._orgs if s <= token.idx < e), None)

    def _follow_discourse(self) -> None:
        """Walk the article in order, recording who is mentioned and resolving he/she/roles."""
        items: list[tuple[int, Token, Person | None, bool]] = []
        for mention in self._names.mentions:
            token = self._doc.char_span(mention.start, mention.end, alignment_mode="expand").root
            items.append((mention.start, token, mention.person, _main_subject(token)))
        for token in self._doc:
            unnamed = token.dep_ in _SUBJECT_DEPS and self._names.mention_at(token) is None
            if unnamed and (token.lower_ in PERSON_PRONOUNS or token.pos_ == "NOUN"):
                items.append((token.idx, token, None, _main_subject(token)))
        for start, end, _ in self._orgs:
            token = self._doc.char_span(start, end, alignment_mode="expand").root
            items.append((start, token, None, False))
        for position, token, person, subject in sorted(items, key=lambda item: item[0]):
            sentence = self._sentences.number(token)
            if self._in_quote(token) or sentence not in self._body:
                continue
            if person is None:
                speaker = self._resolve(token, self._events)
                self._resolved[token.i] = speaker
                if speaker is not None and speaker.kind != PERSON:
                    plural = token.tag_ in ("NNS", "NNPS")
                    if speaker.kind == ORGANISATION or plural:
                        self._groups.append((position, sentence, speaker))
                described = _described_person(token, speaker)
                if described is not None:
                    # "A senior trade official disagreed. '...,' he said.": he/she may refer back
                    # to an unnamed person the article describes, credited as described.
                    event = _Event(position, sentence, described, subject, kind=DESCRIPTION)
                    self._events.append(event)
                    continue
                person = self._learn(token, speaker)
                if person is None:
                    continue
            self._events.append(_Event(position, sentence, person, subject, _in_aside(token)))

    def _learn(self, token: Token, speaker: Speaker | None) -> Person | None:
        if speaker is None:
            return None
        person = next((p for p in self._names.persons if p.name == speaker.name), None)
        if person is not None and person.gender is None:
            person.gender = PRONOUN_GENDER.get(token.lower_) or ROLE_GENDER.get(token.lower_)
        return person


def _speaker(event: _Event | None, start: int, end: int) -> Speaker | None:
    return Speaker(event.person.name, start, end, event.kind) if event else None


def _described_person(token: Token, speaker: Speaker | None) -> Person | None:
    """One unnamed person a subject describes ("a senior NATO official", "the spokeswoman"),
    as a referent for a later he/she; None for groups, institutions and named people."""
    if speaker is None or speaker.kind != DESCRIPTION or token.tag_ != "NN":
        return None
    if token.lemma_.lower() not in ROLE_NOUNS and token.lower_ not in ROLE_GENDER:
        return None  # "the statement", "her message": not someone a pronoun stands for
    return Person(speaker.name, ROLE_GENDER.get(token.lower_))


# Pronouns that stand for unnamed people the article describes: "another said", "one told us".
_PRONOUN_DESCRIPTIONS = frozenset(
    {"another", "one", "others", "some", "many", "several", "both", "few", "most"}
)
_INSTITUTION_ENTITIES = frozenset({"ORG", "GPE", "FAC", "LOC", "PRODUCT", "WORK_OF_ART"})
_CLAUSE_EDGES = frozenset(',;:()[]—–"“”')
_PHRASE_DEPS = frozenset({"prep", "pobj", "amod", "compound", "nummod", "acl", "npadvmod", "poss"})


def _phrase(head: Token) -> list[Token]:
    """The noun phrase of `head` as the article writes it, without relative clauses, asides
    and appositions: "sources familiar with the talks", "a senior NATO official"."""
    doc = head.doc
    start = head.left_edge.i
    while start < head.i and (doc[start].is_punct or doc[start].text in _CLAUSE_EDGES):
        start += 1
    end = head.i + 1
    for child in head.rights:
        if child.dep_ not in _PHRASE_DEPS:
            break
        stretch = doc[end : child.right_edge.i + 1]
        if any(t.text in _CLAUSE_EDGES or "\n" in t.text for t in stretch):
            break
        end = child.right_edge.i + 1
    words = [t for t in doc[start:end] if not t.is_space]
    if len(words) > _DESCRIPTION_TOKENS:
        words = [t for t in words if t.i <= head.i][-_DESCRIPTION_TOKENS:]
    return words


_DETERMINERS = frozenset(
    [
        "A",
        "An",
        "The",
        "Some",
        "Several",
        "Many",
        "Most",
        "Two",
        "Three",
        "Four",
        "Other",
        "Another",
        "One",
        "Both",
        "All",
        "Few",
    ]
)


def _display(words: list[Token]) -> str:
    """The words as written, one space apart, a sentence-initial article in lower case."""
    text = " ".join("".join(t.text_with_ws for t in words).split())
    first = text.split(" ", 1)[0]
    if first in _DETERMINERS:
        text = first.lower() + text[len(first) :]
    return text


def _end(words: list[Token]) -> int:
    return words[-1].idx + len(words[-1])


def _in_aside(token: Token) -> bool:
    """Named as the object of a preposition, not as the topic of its sentence."""
    while token.dep_ in ("compound", "appos", "flat", "conj") and token.head is not token:
        token = token.head
    return token.dep_ == "pobj"


def _compatible(person: Person, gender: str | None) -> bool:
    return gender is None or person.gender is None or person.gender == gender


def _definite(token: Token) -> bool:
    return any(c.dep_ == "det" and c.lower_ == "the" for c in token.children)


def _main_subject(token: Token) -> bool:
    """Subject of the sentence or of a reporting verb, not of a clause reported inside it."""
    while token.dep_ in ("compound", "appos", "flat") and token.head is not token:
        token = token.head
    verb = token.head
    return token.dep_ in _SUBJECT_DEPS and (verb.dep_ in ("ROOT", "conj") or is_reporting(verb))


def _role_words(head: Token) -> frozenset[str]:
    """Lower-case common words modifying a role noun: "the US defence secretary" -> {defence}."""
    doc = head.doc
    words = set()
    for token in doc[head.left_edge.i : head.i]:
        if token.pos_ in ("NOUN", "ADJ") and token.text.islower():
            words.add(token.lemma_.lower())
    return frozenset(words - _IGNORED_MODIFIERS)


def _role_places(head: Token) -> frozenset[str]:
    """Countries owning a role ("Ukraine's president"): a different country, a different person."""
    doc = head.doc
    return frozenset(
        t.lower_
        for t in doc[head.left_edge.i : head.i]
        if t.ent_type_ == "GPE" and t.dep_ == "poss"
    )


def _role_ties(doc: Doc, names: NameIndex) -> list[_Tie]:
    """Roles the article gives to each named person, by title, premodifier or apposition."""
    ties = []
    for mention in names.mentions:
        span = doc.char_span(mention.start, mention.end, alignment_mode="expand")
        person, root = mention.person, span.root
        for title in person.titles:
            ties.append(_Tie(person, title, frozenset(), frozenset(), mention.start))
        roles = []
        before = doc[span.start - 1] if span.start > 0 else None
        if before is not None and before.pos_ == "NOUN" and span.start <= before.head.i < span.end:
            roles.append(before)
        roles += [c for c in root.children if c.dep_ == "appos" and c.pos_ == "NOUN"]
        if root.dep_ == "appos" and root.head.pos_ == "NOUN":
            roles.append(root.head)
        roles += [c for r in roles for c in r.children if c.dep_ == "conj" and c.pos_ == "NOUN"]
        for role in roles:
            head, words, places = role.lemma_.lower(), _role_words(role), _role_places(role)
            ties.append(_Tie(person, head, words, places, mention.start))
            gender = ROLE_GENDER.get(role.lower_)
            if gender and person.gender is None:
                person.gender = gender
    return ties


def _organisations(doc: Doc, names: NameIndex) -> list[tuple[int, int, str]]:
    """Named bodies: ORG entities, and names spaCy took for people that end like a body."""
    orgs = []
    for ent in doc.ents:
        if names.mention_at(ent.root) is not None:
            continue
        if ent.label_ != "ORG" and not (
            ent.label_ == "PERSON" and ent[-1].lower_ in NON_PERSON_WORDS
        ):
            continue
        words = [t for t in ent if t.lower_ not in ("'s", "’s") and "\n" not in t.text]
        while words and words[0].lower_ == "the":
            words.pop(0)
        if len(words) == 1 and words[0].lower_ in NON_PERSON_WORDS:
            continue  # "Council leader X": a bare "Council" names no particular body
        if words:
            name = doc[words[0].i : words[-1].i + 1].text.split("\n")[0]
            orgs.append((ent.start_char, ent.end_char, name))
    return orgs
