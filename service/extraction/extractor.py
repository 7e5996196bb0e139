"""Extract attributed quotations from one article: the pipeline of the other modules.

1. Parse (`pipeline`) and split into paragraphs, telling body from headings and furniture
   (`boilerplate`); the article is analysed once (`analysis`).
2. Find the quotations between quotation marks (`marks`).
3. Index the people the article names (`names`) and follow who is mentioned (`speakers`).
4. Attribute each direct quotation to a speaker (`attribution`; its last step is the learned
   speaker ranker, `ranker`).
5. Find reported speech outside quotation marks (`reported`).
6. Transcript and interview turns (`transcripts`): a paragraph opened by a speaker label
   (`MORROW:`, `Q:`/`A:`) is a quotation of that speaker, and replaces whatever steps 2-5 found
   in its paragraph.
"""

from spacy.language import Language

from service.extraction.analysis import analyse
from service.extraction.attribution import DirectAttributor
from service.extraction.marks import QuoteSpan
from service.extraction.pipeline import load_pipeline
from service.extraction.quotation import Quotation
from service.extraction.ranker import load_ranker, pipeline_identity
from service.extraction.reported import ReportedSpeech, find_reported_speech
from service.extraction.speakers import Speaker
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
    article = analyse(text, nlp)
    spans = article.spans
    ranker = load_ranker(*pipeline_identity(nlp))
    attributions = DirectAttributor(article, ranker).attribute()
    reported = find_reported_speech(
        article.doc, article.sentences, article.resolver, article.in_quote, article.body
    )
    mixed = [(r.start, r.end) for r in reported if r.mixed]
    quotes = [
        _quotation(text, doc, span, attribution.speaker, attribution.cue, direct=True)
        for span, attribution in zip(spans, attributions, strict=True)
        if attribution.speaker is not None or _long_enough(text[span.start : span.end])
        if not any(start <= span.start and span.end <= end + 2 for start, end in mixed)
    ]
    quotes += [
        _quotation(text, doc, speech, speech.speaker, speech.cue, direct=False)
        for speech in reported
    ]
    turns = find_turns(text, article.paragraphs, article.doc, article.names, article.resolver)
    quotes = without_turns(quotes, turns) + [
        _quotation(text, doc, turn, turn.speaker, turn.cue, direct=True) for turn in turns
    ]
    return sorted(quotes, key=lambda q: (q.start, q.end))


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
        speaker_type=speaker.kind if speaker else None,
        cue=cue,
        direct=direct,
    )
