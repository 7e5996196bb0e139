"""One article, analysed once: the parse and every structure the extraction steps share.

`analyse` is the first step of `extract_quotes` and of fitting the speaker ranker on annotated
news, so both see an article exactly the same way.
"""

from bisect import bisect_left
from dataclasses import dataclass

from spacy.attrs import IDX
from spacy.language import Language
from spacy.tokens import Doc, Token

from service.extraction.boilerplate import Paragraph, ParagraphKind, split_paragraphs
from service.extraction.cues import InQuote
from service.extraction.marks import QuoteSpan, find_quote_spans
from service.extraction.names import NameIndex
from service.extraction.pipeline import Sentences, common_nouns, parse
from service.extraction.speakers import SpeakerResolver


@dataclass
class ArticleAnalysis:
    """An article's text, parse, paragraphs, quotation marks, names and speaker resolver."""

    text: str
    doc: Doc
    paragraphs: list[Paragraph]
    spans: list[QuoteSpan]  # direct quotations: text between quotation marks
    sentences: Sentences
    in_quote: InQuote
    body: set[int]  # numbers of the sentences in body paragraphs
    names: NameIndex
    resolver: SpeakerResolver


def analyse(text: str, nlp: Language) -> ArticleAnalysis:
    """Parse `text` and build what the extraction steps need."""
    doc = parse(text, nlp)
    paragraphs = split_paragraphs(text)
    spans = find_quote_spans(text, paragraphs)
    sentences = Sentences(doc)
    in_quote = quote_mask(doc, spans)
    skip = [(p.start, p.end) for p in paragraphs if p.kind is ParagraphKind.BOILERPLATE]
    body = _body_sentences(sentences, paragraphs)
    names = NameIndex(doc, skip, common_nouns(nlp))
    resolver = SpeakerResolver(doc, sentences, names, in_quote, body)
    return ArticleAnalysis(text, doc, paragraphs, spans, sentences, in_quote, body, names, resolver)


def quote_mask(doc: Doc, spans: list[QuoteSpan]) -> InQuote:
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
