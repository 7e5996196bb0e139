"""Reporting cues in the dependency parse: which verbs introduce speech and who their subject is."""

from collections.abc import Callable

from spacy.tokens import Token

from service.extraction.lexicon import PERSON_ONLY_VERBS, REPORTING_VERBS, TELLING_VERBS

# Clauses that share the subject of the verb they hang from: "X reiterated ..., telling allies",
# "X declined to comment, saying only", "X mocked Europe and said ...".
_SUBJECT_SHARING = frozenset({"conj", "advcl", "xcomp", "acl", "pcomp"})
_MAX_CLIMB = 6

InQuote = Callable[[Token], bool]


def is_reporting(token: Token) -> bool:
    """A verb that introduces speech ("said", "told", "points out")."""
    if token.pos_ not in ("VERB", "AUX") or token.lemma_.lower() not in REPORTING_VERBS:
        return False
    if token.lemma_.lower() == "point":
        return any(c.dep_ == "prt" and c.lower_ == "out" for c in token.children)
    if token.lemma_.lower() in PERSON_ONLY_VERBS:
        subject = next((c for c in token.children if c.dep_ == "nsubj"), None)
        return subject is not None and (
            subject.ent_type_ == "PERSON" or subject.lower_ in ("he", "she", "i", "we")
        )
    return True


def subject_of(verb: Token, in_quote: InQuote) -> Token | None:
    """The head of the active subject of `verb`, inherited through shared-subject clauses."""
    current = verb
    for _ in range(_MAX_CLIMB):
        for child in current.children:
            if child.dep_ == "nsubj" and not in_quote(child):
                return child
            if child.dep_ == "nsubjpass":
                return None  # "she had been told": the subject is the listener
        parent = current.head
        if current.dep_ not in _SUBJECT_SHARING or parent is current or in_quote(parent):
            return None
        if _misattached_conj(current, parent):
            parent = parent.head  # "said X was fine but insisted ...": insisted pairs with said
        current = parent
    return None


def _misattached_conj(verb: Token, parent: Token) -> bool:
    """A reporting verb coordinated with the clause its sibling reporting verb introduces."""
    return (
        verb.dep_ == "conj"
        and is_reporting(verb)
        and not is_reporting(parent)
        and parent.dep_ == "ccomp"
        and is_reporting(parent.head)
    )


def cue_text(verb: Token) -> str:
    """The reporting verb with its particle and, for telling verbs, a short addressee."""
    words = [verb]
    words += [c for c in verb.children if c.dep_ == "prt"]
    if verb.lemma_.lower() in TELLING_VERBS:
        for child in verb.children:
            if child.dep_ in ("dobj", "dative") and child.i > verb.i:
                addressee = list(child.subtree)
                if len(addressee) <= 4:
                    words += addressee
                break
    words.sort(key=lambda t: t.i)
    return verb.doc[words[0].i : words[-1].i + 1].text
