"""Who the article names: people's full names, their short forms and honorific genders.

A person is a PERSON entity of two or more name words, or a capitalised name that spaCy labelled
otherwise but the article treats as a person: it follows an honorific or title ("Ms Thwaite"),
a role noun ("mayor Beatrice Olawale"), stands in apposition to one ("its chairman, Marek
Holloway"), or is followed by an age or "who". An English common noun opening the sentence
before a two-word name is a descriptor, not part of it ("Baker Tomas Vidal"). The first full
mention is the canonical name; later surnames, first names and honorific forms resolve to it.
"""

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from service.extraction.lexicon import (
    HONORIFIC_GENDER,
    NON_PERSON_WORDS,
    PEERAGE_TITLES,
    REPORTING_VERBS,
    ROLE_NOUNS,
    TITLES,
)

_PARTICLES = frozenset(
    {"de", "del", "da", "di", "du", "van", "von", "der", "den", "la", "le", "al"}
)
_CANDIDATE_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "PRODUCT"})
_TITLE_WORDS = TITLES | HONORIFIC_GENDER.keys()


@dataclass
class Person:
    """Someone the article names; gender is "f", "m" or None until evidence arrives."""

    name: str
    gender: str | None = None
    titles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NameMention:
    """A stretch of text [start, end) that names `person` (honorific included)."""

    start: int
    end: int
    person: Person


class NameIndex:
    """All people named in a parsed article and every place they are named."""

    def __init__(self, doc: Doc, skip: list[tuple[int, int]], nouns: frozenset[str]):
        self.persons: list[Person] = []
        self._nouns = nouns  # English common nouns, to tell "Baker" from a first name
        self._by_name: dict[str, Person] = {}
        self._doc = doc
        self._skip = skip
        full = self._full_mentions()
        self.mentions = sorted(full + self._short_mentions(full), key=lambda m: m.start)
        self._token_mention: dict[int, NameMention] = {}
        for mention in self.mentions:
            span = doc.char_span(mention.start, mention.end, alignment_mode="expand")
            for token in span or ():
                self._token_mention.setdefault(token.i, mention)

    def mention_at(self, token: Token) -> NameMention | None:
        """The name mention covering `token`, if any."""
        return self._token_mention.get(token.i)

    def _skipped(self, char: int) -> bool:
        return any(start <= char < end for start, end in self._skip)

    def _full_mentions(self) -> list[NameMention]:
        mentions, undecided = [], []
        for span in self._candidate_spans():
            name_span, titles = _clean(span, self._nouns)
            if name_span is None or self._skipped(name_span.start_char):
                continue
            if len(name_span.text.split()) < 2 or _organisation_like(name_span):
                continue
            if span.label_ == "PERSON" or titles or _person_context(name_span):
                mentions.append(self._mention(span, name_span, titles))
            else:
                undecided.append((span, name_span, titles))
        # A family name shared with someone already named, or a first name used alone as a
        # PERSON elsewhere ("Yusuf says"), makes an unlabelled name a person too.
        surnames = {p.name.split()[-1] for p in self.persons}
        singles = {e.text for e in self._doc.ents if e.label_ == "PERSON" and len(e) == 1}
        for span, name_span, titles in undecided:
            words = name_span.text.split()
            if words[-1] in surnames or words[0] in singles:
                mentions.append(self._mention(span, name_span, titles))
        return mentions

    def _mention(self, span: Span, name_span: Span, titles: list[str]) -> NameMention:
        person = self._person(name_span.text)
        person.titles.extend(t for t in titles if t not in person.titles)
        _note_gender(person, titles)
        start = span[0].idx if titles else name_span.start_char
        return NameMention(start, name_span.end_char, person)

    def _candidate_spans(self) -> list[Span]:
        spans: list[Span] = []
        for ent in self._doc.ents:
            if ent.label_ not in _CANDIDATE_LABELS:
                continue
            adjacent = spans and spans[-1].end == ent.start and _name_word(ent[0])
            if adjacent and not _full_name_after(spans[-1], ent):
                # spaCy sometimes splits an unfamiliar name in two: "Amrit" + "Sandhu".
                spans[-1] = Span(self._doc, spans[-1].start, ent.end, label=spans[-1].label_)
            else:
                spans.append(ent)
        covered = {t.i for ent in spans for t in ent}
        people = {ent.start for ent in spans if ent.label_ == "PERSON"}
        doc = self._doc
        # Capitalised runs spaCy did not label: "Ms Thwaite", "councillor Amrit Sandhu".
        free = [t.i not in covered and _name_word(t) for t in doc]
        i = 0
        while i < len(doc):
            if not free[i]:
                i += 1
                continue
            end = i + 1
            while end < len(doc) and free[end]:
                end += 1
            if end in people:
                pass  # words just before a name describe its bearer: "Dunmore GP Dr Ann Vance"
            elif end - i >= 2 or (i > 0 and _title_word(doc[i - 1])):
                start = i - 1 if i > 0 and _title_word(doc[i - 1]) else i
                label = "PERSON" if start < i else ""
                spans.append(Span(doc, start, end, label=label))
            i = end
        return spans

    def _person(self, name: str) -> Person:
        if name not in self._by_name:
            self._by_name[name] = Person(name)
            self.persons.append(self._by_name[name])
        return self._by_name[name]

    def _short_mentions(self, full: list[NameMention]) -> list[NameMention]:
        """Surnames, first names and honorific forms of the people named in full."""
        keys: dict[str, list[Person]] = {}
        for person in self.persons:
            words = [w for w in person.name.split() if w.lower() not in _TITLE_WORDS]
            for key in (words[-1], words[0]):
                if len(key) > 2 and person not in keys.setdefault(key, []):
                    keys[key].append(person)
        taken = [(m.start, m.end) for m in full]
        text = self._doc.text
        mentions = []
        for key, people in keys.items():
            for start, end in _whole_word(text, key):
                if self._skipped(start) or any(s <= start < e for s, e in taken):
                    continue
                title = _title_before(text, start)
                if not title and not self._proper_noun_at(start):
                    continue  # "Will NATO countries ..." is not Will Smith
                honorific = title.lower().rstrip(".") if title else None
                person = _nearest(people, start, full, HONORIFIC_GENDER.get(honorific or ""))
                if title:
                    start -= len(title) + 1
                    _note_gender(person, [honorific])
                mentions.append(NameMention(start, end, person))
        mentions += self._single_names(full + mentions)
        return mentions

    def _proper_noun_at(self, char: int) -> bool:
        span = self._doc.char_span(char, char + 1, alignment_mode="expand")
        return span is not None and span[0].pos_ == "PROPN"

    def _single_names(self, known: list[NameMention]) -> list[NameMention]:
        """One-word names nobody spelled out in full: "Mr Smith said", "Medvedev said"."""
        taken = [(m.start, m.end) for m in known]
        mentions = []
        for ent in self._candidate_spans():
            # A title makes a person of a name spaCy took for something else: "Lord Ashby".
            before = self._doc[ent.start - 1] if ent.start > 0 else None
            titled = _title_word(ent[0]) or (before is not None and _title_word(before))
            if (ent.label_ != "PERSON" and not titled) or self._skipped(ent.start_char):
                continue
            name_span, titles = _clean(ent)
            if name_span is None or len(name_span.text.split()) != 1:
                continue
            if any(s <= name_span.start_char < e for s, e in taken):
                continue
            head = name_span.root
            speaking = head.dep_ == "nsubj" and head.head.lemma_ in REPORTING_VERBS
            if titles or speaking or _person_context(name_span):
                peerage = next((t for t in titles if t in PEERAGE_TITLES), None)
                # A peer is known by title and name: "Lord Ashby", not "Ashby".
                name = f"{peerage.capitalize()} {name_span.text}" if peerage else name_span.text
                person = self._person(name)
                _note_gender(person, titles)
                start = before.idx if before is not None and _title_word(before) else ent.start_char
                mentions.append(NameMention(start, name_span.end_char, person))
        return mentions


def _clean(span: Span, nouns: frozenset[str] = frozenset()) -> tuple[Span | None, list[str]]:
    """The name words of an entity, without bullets, titles, role words or a possessive 's."""
    doc = span.doc
    start, end = span.start, span.end
    for i in range(span.start, span.end):
        if "\n" in doc[i].text or "\n" in doc[i].whitespace_:
            end = i + (0 if doc[i].is_space else 1)
            break
    while start < end and not _name_word(doc[start]):
        start += 1
    titles = []
    while end - start > 1 and (_title_word(doc[start]) or _role_word(doc[start])):
        titles.append(doc[start].lower_.rstrip("."))
        start += 1
    for i in range(start, end):
        if doc[i].lower_ in ("'s", "’s", "'", "’"):
            end = i
            break
    while end > start and not _name_word(doc[end - 1]):
        end -= 1
    if end - start == 3 and _descriptor(doc[start], nouns):
        titles.append(doc[start].lower_)
        start += 1
    words = doc[start:end]
    if not len(words) or not all(_name_word(t) or _joiner(t, words) for t in words):
        return None, titles
    # A title just before the entity ("Ms" left outside "Thwaite") counts as well.
    if start > 0 and _title_word(doc[start - 1]) and doc[start - 1].i < span.start:
        titles.append(doc[start - 1].lower_.rstrip("."))
    return words, titles


def _full_name_after(before: Span, ent: Span) -> bool:
    """A full PERSON name right after an office that is not a title of it: "Secretary of State"
    + "Jon Kendal" are two spans, "Dunmore GP Dr" + "Eleanor Vance" one (titles are cut later)."""
    last = before[-1]
    titled = _title_word(last) or _role_word(last)
    return ent.label_ == "PERSON" and len(ent) > 1 and before.label_ != "PERSON" and not titled


def _descriptor(token: Token, nouns: frozenset[str]) -> bool:
    """An English common noun opening a sentence before a two-word name: "Baker Tomas Vidal"."""
    # Some first names are common nouns too ("Victor", "Grace"), so the next word must not be
    # one: "Skipper Grace Ames" stays whole. "Victor Hugo Lopez" would lose "Victor"; that
    # order of names is rarer in news than an occupation before a name.
    following = token.doc[token.i + 1]
    if _initial(following):
        return False  # a first name before a middle initial: "Lawrence H. Summers"
    return token.is_sent_start and token.lower_ in nouns and following.lower_ not in nouns


def _initial(token: Token) -> bool:
    return len(token.text) == 2 and token.text[0].isupper() and token.text[1] == "."


def _name_word(token: Token) -> bool:
    text = token.text
    return text[:1].isupper() and text.replace("-", "").replace("'", "").replace("’", "").isalpha()


def _joiner(token: Token, words: Span) -> bool:
    """Inside a name: a hyphen, an apostrophe, a particle (van, de) or an initial ("H.")."""
    inner = words.start < token.i < words.end - 1
    return inner and (
        token.text in ("-", "'", "’") or token.lower_ in _PARTICLES or _initial(token)
    )


def _title_word(token: Token) -> bool:
    return token.text[:1].isupper() and token.lower_.rstrip(".") in _TITLE_WORDS


def _role_word(token: Token) -> bool:
    return token.lower_ in ROLE_NOUNS and token.text[:1].isupper()


def _organisation_like(name: Span) -> bool:
    return name[-1].lower_ in NON_PERSON_WORDS or name[0].lower_ in NON_PERSON_WORDS


def _person_context(name: Span) -> bool:
    """Words around a name that only people get: a role noun, an apposition, an age, "who"."""
    return _role_before(name) or _apposition(name) or _age_or_who_after(name)


def _role_before(name: Span) -> bool:
    if name.start == 0:
        return False
    prev = name.doc[name.start - 1]
    return prev.pos_ == "NOUN" and prev.text.islower()


def _apposition(name: Span) -> bool:
    root = name.root
    if root.dep_ == "appos" and root.head.pos_ == "NOUN":
        return True
    return any(c.dep_ == "appos" and c.pos_ == "NOUN" for c in root.children)


def _age_or_who_after(name: Span) -> bool:
    after = name.doc[name.end : name.end + 3]
    if len(after) >= 2 and after[0].text == ",":
        return after[1].like_num or after[1].lower_ == "who"
    return False


def _note_gender(person: Person, titles: list[str]) -> None:
    for title in titles:
        if title in HONORIFIC_GENDER and person.gender is None:
            person.gender = HONORIFIC_GENDER[title]


def _title_before(text: str, start: int) -> str | None:
    match = re.search(r"(?:^|(?<=\W))([A-Z][A-Za-z]{0,11}\.?) $", text[max(0, start - 14) : start])
    if match and match.group(1).lower().rstrip(".") in _TITLE_WORDS:
        return match.group(1)
    return None


def _whole_word(text: str, key: str) -> list[tuple[int, int]]:
    r"""Where `key` stands as a whole word: no word character or hyphen touches either end.

    The same matches, left to right and non-overlapping, as the regex
    `(?<![\w-])KEY(?![\w-])` (re's \w is `str.isalnum()` or "_"), without compiling a
    pattern for every name of every article.
    """
    found = []
    at = text.find(key)
    while at != -1:
        end = at + len(key)
        if not _joins_word(text, at - 1) and not _joins_word(text, end):
            found.append((at, end))
            at = text.find(key, end)
        else:
            at = text.find(key, at + 1)
    return found


def _joins_word(text: str, i: int) -> bool:
    if not 0 <= i < len(text):
        return False
    ch = text[i]
    return ch.isalnum() or ch in "_-"


def _nearest(
    people: list[Person], start: int, full: list[NameMention], gender: str | None
) -> Person:
    """Of several people sharing a name, the one named in full most recently before."""
    if gender is not None:  # "Mr Ellis" is not Mary Ellis
        people = [p for p in people if p.gender in (None, gender)] or people
    if len(people) == 1:
        return people[0]
    before = [m for m in full if m.person in people and m.start < start]
    return before[-1].person if before else people[0]
