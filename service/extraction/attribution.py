"""Attribute each direct quotation to a speaker, trying the cues a reader would, in order.

1. An introduction ending in a colon: `Hegseth told reporters: "..."`.
2. A trailing attribution after a quotation that ends in a comma, "?" or "!": `"...," she said`.
3. The clause a quoted fragment sits in: `said Ukraine would be involved "one way or another"`.
4. The previous quotation in the same paragraph (`"...," she said. "..."`), else the subject
   of the sentence just before (`He shakes his head. "Who would get up at three?"`).
5. A paragraph that opens with a quotation continues the previous paragraph's speaker, or
   quotes the subject of that paragraph's last sentence.
6. The learned speaker ranker (`ranker.py`, fitted on real news) for what is left: a body
   quotation of three words or more (shorter ones are names and scare quotes) that no cue
   settled picks the most likely name, noun phrase or pronoun around it, if any is likely
   enough.
Headline quotations first look for the body quotation they repeat, then for a name that opens
the headline before a colon ("Howard Dean: Guns are 'a crisis'"). A cue credits whoever its
subject names: a person, an organisation ("the Kremlin said") or a description ("said one
official"); a cue whose subject names nobody settles the quotation as unattributed, and nothing
later overrides it. Where no reporting verb says who spoke (a colon after a plain sentence in
step 1, and steps 3 to 5), the speaker is inferred, and only people and organisations are.
"""

import re
from dataclasses import dataclass

from spacy.tokens import Span, Token

from service.extraction.analysis import ArticleAnalysis
from service.extraction.boilerplate import Paragraph, ParagraphKind
from service.extraction.cues import cue_text, is_reporting
from service.extraction.marks import QuoteSpan, strip_inner_closing_marks
from service.extraction.ranker import SpeakerRanker, credit
from service.extraction.speakers import DESCRIPTION, Speaker

_SENTENCE_FINAL = frozenset({".", "!", "?"})
_TRAILING_PUNCT = tuple(",?!…—–-")
_DASHES = frozenset({"—", "–", "―", "-", "--"})
_TRAILING_REACH = 8  # tokens after a closing mark in which the attribution verb must appear
_APPOSITION_REACH = 20  # the same after a name and a comma: "Tom Adair, a historian who ..., said"
_LEAD_REACH = 60  # tokens before an opening mark searched for its introduction


@dataclass(frozen=True)
class Attribution:
    """Who a quotation is attributed to (None: nobody named) and the cue that says so."""

    speaker: Speaker | None
    cue: str | None


_NONE = Attribution(None, None)


class DirectAttributor:
    """Attributes the direct quotations of one article."""

    def __init__(self, article: ArticleAnalysis, ranker: SpeakerRanker | None = None):
        self._article = article
        self._ranker = ranker
        self._doc = article.doc
        self._text = article.text
        self._sentences = article.sentences
        self._paragraphs = article.paragraphs
        self._spans = article.spans
        self._resolver = article.resolver
        self._in_quote = article.in_quote

    def attribute(self) -> list[Attribution]:
        """One attribution per span, in span order."""
        found: list[Attribution] = []
        for n, span in enumerate(self._spans):
            heading = self._paragraphs[span.paragraph].kind is ParagraphKind.HEADING
            if heading:
                found.append(_NONE)  # settled below, once the body quotations are known
                continue
            found.append(self._attribute(n, span, found))
        for n, span in enumerate(self._spans):
            if self._paragraphs[span.paragraph].kind is ParagraphKind.HEADING:
                found[n] = (
                    self._repeated(span, found)
                    or self._local(span)
                    or self._headline_speaker(span)
                    or _NONE
                )
        if self._ranker is not None:
            for n, span in enumerate(self._spans):
                heading = self._paragraphs[span.paragraph].kind is ParagraphKind.HEADING
                words = len(self._text[span.start : span.end].split())
                if found[n].speaker is None and found[n].cue is None and not heading and words > 2:
                    speaker = credit(self._ranker, self._article, span.start, span.end)
                    found[n] = Attribution(speaker, None) if speaker is not None else found[n]
        return found

    def _attribute(self, n: int, span: QuoteSpan, found: list[Attribution]) -> Attribution:
        local = self._local(span)
        if local is not None:
            return local
        previous = self._spans[n - 1] if n else None
        same_paragraph = previous is not None and previous.paragraph == span.paragraph
        if same_paragraph and found[n - 1].speaker is not None:
            return found[n - 1]
        if self._opens_paragraph(span):
            return self._continuation(n, span, found) or _NONE
        mark = self._doc.char_span(span.open_mark, span.open_mark + 1, alignment_mode="expand")
        if mark is not None and mark.start > 0:
            previous_sentence = self._sentences.of(self._doc[mark.start - 1])
            return self._subject_speaker(previous_sentence) or _NONE
        return _NONE

    def _local(self, span: QuoteSpan) -> Attribution | None:
        """Cues in the quotation's own sentence; None when there are none."""
        lead = self._lead(span)
        if lead and lead[-1].text == ":":
            return self._from_verbs(reversed(lead)) or self._from_subjects(lead)
        trailing = self._trailing(span)
        if trailing is not None:
            return trailing
        if lead and lead[-1].text not in _SENTENCE_FINAL:
            return self._governing(span)
        return None

    def _lead(self, span: QuoteSpan) -> list[Token]:
        """Tokens of the sentence before the opening mark, back to the previous quotation."""
        para = self._paragraphs[span.paragraph]
        window = self._doc.char_span(para.start, span.open_mark, alignment_mode="expand")
        if window is None:
            return []
        tokens = [
            t
            for t in window[-_LEAD_REACH:]
            if t.idx < span.open_mark and not t.is_space and not self._in_quote(t)
        ]
        cut = 0
        for i, token in enumerate(tokens[:-1]):
            if token.text in _SENTENCE_FINAL or self._in_quote(self._doc[token.i + 1]):
                cut = i + 1
        return tokens[cut:]

    def _trailing(self, span: QuoteSpan) -> Attribution | None:
        """The attribution just after a quotation: a verb that ends in a comma, "?" or "!"
        followed by a reporting verb, or by any verb with its subject ("sighed Mr Adair": a
        speaker who is not the previous quotation's); or a dash and a name, without a verb
        (`"..." —Lena Marsh, naval chief`), also at the start of the next paragraph."""
        tokens = self._after(span, span.paragraph)
        if not tokens and span.paragraph + 1 < len(self._paragraphs):
            tokens = self._after(span, span.paragraph + 1)
            if not tokens or tokens[0].text not in _DASHES:
                return None
        if not tokens:
            return None
        if tokens[0].text in _DASHES:
            return self._after_dash(tokens[1:])
        quote_text = strip_inner_closing_marks(self._text[span.start : span.end])
        if not (quote_text.endswith(_TRAILING_PUNCT) or tokens[0].text == ","):
            return None
        window = self._trailing_window(tokens)
        return self._from_verbs(window) or self._any_speech_verb(window)

    def _trailing_window(self, tokens: list[Token]) -> list[Token]:
        """The words after a quotation that may hold its attribution: `_TRAILING_REACH` of them,
        not counting a parenthesis ("Rep. Ada Brenn (D-Wis.) said") and, after a name, its
        apposition ("Tom Adair, the attorney general of Westford, said"), up to the end of the
        sentence."""
        window: list[Token] = []
        depth, counted, reach = 0, 0, _TRAILING_REACH
        for token in tokens:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth = max(depth - 1, 0)
            elif depth == 0:
                if self._in_quote(token) or token.text in _SENTENCE_FINAL:
                    break
                counted += 1
                named = self._article.names.mention_at(window[-1]) if window else None
                if token.text == "," and named is not None:
                    reach = _APPOSITION_REACH
            if counted > reach:
                break
            window.append(token)
        return window

    def _after(self, span: QuoteSpan, paragraph: int) -> list[Token]:
        """Tokens after the quotation's closing mark within `paragraph`, spaces left out."""
        if span.close_mark is None:
            return []
        para = self._paragraphs[paragraph]
        after = self._doc.char_span(
            max(span.close_mark + 1, para.start), para.end, alignment_mode="expand"
        )
        if after is None:
            return []
        return [
            t for t in after[: _APPOSITION_REACH + 8] if t.idx > span.close_mark and not t.is_space
        ]

    def _after_dash(self, tokens: list[Token]) -> Attribution | None:
        """ "—Lena Marsh, chief of the naval staff": the name (or description) after a dash."""
        credit = []
        for token in tokens:
            if token.text in (",", ";", "(") or token.text in _SENTENCE_FINAL or token.is_space:
                break
            credit.append(token)
        if not credit:
            return None
        phrase = credit[0].doc[credit[0].i : credit[-1].i + 1]
        speaker = self._resolver.resolve(phrase.root)
        return Attribution(speaker, None) if speaker is not None else None

    def _any_speech_verb(self, window: list[Token]) -> Attribution | None:
        """A verb the lexicon does not know, right after the quotation, with its subject there
        too: `"...," sighed Mr Adair`. The quotation is his; without a subject it is nobody's,
        never the previous quotation's speaker."""
        verbs = [t for t in window[:3] if t.pos_ == "VERB"]
        if not verbs:
            return None
        verb = verbs[0]
        # Inverted, the parser often takes the subject for an object: "grumbled a resident".
        inverted = [c for c in verb.rights if c.dep_ in ("dobj", "attr", "npadvmod")]
        subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        subject = subject or (inverted[0] if inverted and verb.i <= window[0].i + 1 else None)
        if subject is None or subject not in window:
            return Attribution(None, verb.text)
        return Attribution(self._resolver.resolve(subject), cue_text(verb))

    def _from_verbs(self, tokens) -> Attribution | None:
        """The first reporting verb among `tokens` with the speaker its subject names."""
        for token in tokens:
            if is_reporting(token) and not self._in_quote(token):
                found, speaker = self._resolver.speaker_of(token)
                if found:
                    return Attribution(speaker, cue_text(token))
        return None

    def _from_subjects(self, tokens: list[Token]) -> Attribution | None:
        """A colon after a sentence without a reporting verb: "Ms Okafor was defiant:"."""
        for token in tokens:
            if token.dep_ == "nsubj" or (token.dep_ == "ROOT" and token.pos_ == "PROPN"):
                speaker = self._resolver.resolve(token)
                if _named(speaker):
                    return Attribution(speaker, None)
        return None

    def _governing(self, span: QuoteSpan) -> Attribution | None:
        """Climb from a quoted fragment to the reporting verb (or named subject) governing it."""
        inside = self._doc.char_span(span.start, span.end, alignment_mode="expand")
        anchors = [t for t in inside if not span.start <= t.head.idx < span.end]
        fallback = None
        for anchor in anchors:
            node, steps = anchor.head, 0
            while steps < 12:
                if not self._in_quote(node) and node.pos_ in ("VERB", "AUX"):
                    found, speaker = self._resolver.speaker_of(node)
                    if found and is_reporting(node):
                        return Attribution(speaker, cue_text(node))
                    if found and fallback is None and _named(speaker):
                        fallback = Attribution(speaker, None)
                if node.head is node:
                    break
                node, steps = node.head, steps + 1
        return fallback

    def _headline_speaker(self, span: QuoteSpan) -> Attribution | None:
        """ "Howard Dean: Guns are 'the ultimate crisis'": a headline that opens with a name
        and a colon quotes that name."""
        para = self._paragraphs[span.paragraph]
        colon = self._text.find(":", para.start, span.open_mark)
        if colon < 0:
            return None
        head = self._doc.char_span(para.start, colon, alignment_mode="expand")
        if head is None or len(head) > 6:
            return None
        speaker = self._resolver.resolve(head.root)
        return Attribution(speaker, None) if _named(speaker) else None

    def _opens_paragraph(self, span: QuoteSpan) -> bool:
        para = self._paragraphs[span.paragraph]
        return not self._text[para.start : span.open_mark].strip()

    def _continuation(
        self, n: int, span: QuoteSpan, found: list[Attribution]
    ) -> Attribution | None:
        """Inherit from the previous body paragraph: its last quotation or its last subject."""
        previous = self._previous_body(span.paragraph)
        if previous is None:
            return None
        earlier = [k for k in range(n) if self._spans[k].paragraph == previous.index]
        if earlier:
            inherited = found[earlier[-1]]
            return inherited if inherited.speaker is not None else None
        return self._subject_speaker(self._last_sentence(previous))

    def _subject_speaker(self, sentence: Span) -> Attribution | None:
        """The named person a sentence is about: the subject of its main verb."""
        subject = next(
            (
                t
                for t in sentence
                if t.dep_ == "nsubj" and t.head.dep_ == "ROOT" and not self._in_quote(t)
            ),
            None,
        )
        if subject is None:
            return None
        speaker = self._resolver.resolve(subject)
        return Attribution(speaker, None) if _named(speaker) else None

    def _previous_body(self, index: int) -> Paragraph | None:
        for para in reversed(self._paragraphs[:index]):
            if para.kind is ParagraphKind.BODY:
                return para
            if para.kind is ParagraphKind.HEADING:
                return None  # a cross-heading starts a new section
        return None

    def _last_sentence(self, para: Paragraph) -> Span:
        last = self._doc.char_span(para.end - 1, para.end, alignment_mode="expand")
        return self._sentences.of(last[0])

    def _repeated(self, span: QuoteSpan, found: list[Attribution]) -> Attribution | None:
        """A headline quotation repeats words a body quotation attributes to someone."""
        key = _normalise(self._text[span.start : span.end])
        if not key.strip():
            return None
        for other, attribution in zip(self._spans, found, strict=True):
            if other is span or attribution.speaker is None:
                continue
            if self._paragraphs[other.paragraph].kind is ParagraphKind.HEADING:
                continue
            if key in _normalise(self._text[other.start : other.end]):
                return attribution
        return None


def _named(speaker: Speaker | None) -> bool:
    """A person or an organisation: who a quotation can be credited to without a cue."""
    return speaker is not None and speaker.kind != DESCRIPTION


def _normalise(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.lower())) + " "
