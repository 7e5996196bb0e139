"""Extract attributed quotations from one article: the pipeline of the other modules.

1. Parse (`pipeline`) and split into paragraphs, telling body from headings and furniture
   (`boilerplate`).
2. Find the quotations between quotation marks (`marks`).
3. Index the people the article names (`names`) and follow who is mentioned (`speakers`).
4. Attribute each direct quotation to a speaker (`attribution`).
5. Find reported speech outside quotation marks (`reported`).
6. Transcript and interview turns (`transcripts`): a paragraph opened by a speaker label
   (`MORROW:`, `Q:`/`A:`) is a quotation of that speaker, and replaces whatever steps 2-5 found
   in its paragraph.
"""

from bisect import bisect_left

from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc, Token

from service.extraction.attribution import DirectAttributor
from service.extraction.boilerplate import Paragraph, ParagraphKind, split_paragraphs
from service.extraction.cues import InQuote
from service.extraction.marks import QuoteSpan, find_quote_spans
from service.extraction.names import NameIndex
from service.extraction.pipeline import Sentences, common_nouns, load_pipeline, parse
from service.extraction.quotation import Quotation
from service.extraction.reported import ReportedSpeech, find_reported_speech
from service.extraction.speakers import Speaker, SpeakerResolver
from service.extraction.transcripts import Turn, find_turns, without_turns

# Quoted words this short with nobody saying them are scare quotes or names ("so-called").
MIN_UNATTRIBUTED_WORDS = 3


def extract_quotes(
    text: str, doc: str | None = None, nlp: Language | None = None
) -> list[Quotation]:
    """Direct and reported quotations in `text` with their speakers, in text order."""
    if not text.strip():
        return []
    nlp = nlp or load_pipeline()
    parsed = parse(text, nlp)
    paragraphs = split_paragraphs(text)
    spans = find_quote_spans(text, paragraphs)
    sentences = Sentences(parsed)
    in_quote = _quote_mask(parsed, spans)
    skip = [(p.start, p.end) for p in paragraphs if p.kind is ParagraphKind.BOILERPLATE]
    body = _body_sentences(sentences, paragraphs)
    names = NameIndex(parsed, skip, common_nouns(nlp))
    resolver = SpeakerResolver(parsed, sentences, names, in_quote, body)
    attributor = DirectAttributor(text, parsed, sentences, paragraphs, spans, resolver, in_quote)
    attributions = attributor.attribute()
    quotes = [
        _quotation(text, doc, span, attribution.speaker, attribution.cue, direct=True)
        for span, attribution in zip(spans, attributions, strict=True)
        if attribution.speaker is not None or _long_enough(text[span.start : span.end])
    ]
    reported = find_reported_speech(parsed, sentences, resolver, in_quote, body)
    quotes += [
        _quotation(text, doc, speech, speech.speaker, speech.cue, direct=False)
        for speech in reported
    ]
    turns = find_turns(text, paragraphs, parsed, names, resolver)
    quotes = without_turns(quotes, turns) + [
        _quotation(text, doc, turn, turn.speaker, turn.cue, direct=True) for turn in turns
    ]
    return sorted(quotes, key=lambda q: (q.start, q.end))


def _quote_mask(doc: Doc, spans: list[QuoteSpan]) -> InQuote:
    """A predicate telling whether a token lies inside quotation marks (marks included)."""
    starts = doc.to_array(IDX).tolist()
    inside: set[int] = set()
    for span in spans:
        first = bisect_left(starts, span.open_mark)
        last = bisect_left(starts, span.outer_end)
        inside.update(range(first, last))

    def in_quote(token: Token) -> bool:
        return token.i in inside

    return in_quote


def _body_sentences(sentences: Sentences, paragraphs: list[Paragraph]) -> set[int]:
    body = [(p.start, p.end) for p in paragraphs if p.kind is ParagraphKind.BODY]
    return {
        n
        for n, sentence in enumerate(sentences.spans)
        if any(start <= sentence.start_char < end for start, end in body)
    }


def _long_enough(quote: str) -> bool:
    return len(quote.split()) >= MIN_UNATTRIBUTED_WORDS


def _quotation(
    text: str,
    doc: str | None,
    span: QuoteSpan | ReportedSpeech | Turn,
    speaker: Speaker | None,
    cue: str | None,
    direct: bool,
) -> Quotation:
    return Quotation(
        doc=doc,
        quote=text[span.start : span.end],
        start=span.start,
        end=span.end,
        speaker=speaker.name if speaker else None,
        speaker_start=speaker.start if speaker else None,
        speaker_end=speaker.end if speaker else None,
        cue=cue,
        direct=direct,
    )
