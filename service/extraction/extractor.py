"""Extract attributed quotations from one article: the pipeline of the other modules."""

from spacy.language import Language

from service.extraction.analysis import analyse
from service.extraction.attribution import DirectAttributor
from service.extraction.marks import QuoteSpan
from service.extraction.pipeline import load_pipeline
from service.extraction.quotation import Quotation
from service.extraction.ranker import load_ranker, pipeline_identity
from service.extraction.reported import ReportedSpeech, find_reported_speech
from service.extraction.speakers import Speaker

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
    return sorted(quotes, key=lambda q: (q.start, q.end))


def _long_enough(quote: str) -> bool:
    return len(quote.split()) >= MIN_UNATTRIBUTED_WORDS


def _quotation(
    text: str,
    doc: str | None,
    span: QuoteSpan | ReportedSpeech,
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
