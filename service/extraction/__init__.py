"""Quote extraction: direct and reported quotations in news text, attributed to their speakers.

quotes = extract_quotes(text, doc="article-1")     # -> list[Quotation], offsets into text
nlp = load_pipeline()                              # $STANCE_SPACY_MODEL or the packaged model
for article in read_articles(["a.txt", "b.jsonl"]):
    extract_quotes(article.text, doc=article.id, nlp=nlp)
"""

from service.extraction.articles import ArticleFormatError, article_quotations, read_articles
from service.extraction.extractor import extract_quotes
from service.extraction.pipeline import PipelineError, load_pipeline
from service.extraction.quotation import Article, Quotation

__all__ = [
    "Article",
    "ArticleFormatError",
    "PipelineError",
    "Quotation",
    "article_quotations",
    "extract_quotes",
    "load_pipeline",
    "read_articles",
]
