"""Read articles for extraction: a .txt file is one article, a .jsonl file holds many."""

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from service.extraction.quotation import Article


class ArticleFormatError(ValueError):
    """An input file is not a readable article source; the message names file and line."""


def read_articles(paths: Iterable[str | Path]) -> Iterator[Article]:
    """Articles from .txt files (id = file stem) and .jsonl files ("id", "text"; "date", "url")."""
    for path in map(Path, paths):
        if path.suffix.lower() == ".jsonl":
            yield from _read_jsonl(path)
        elif path.suffix.lower() == ".txt":
            yield Article(path.stem, _read_text(path))
        else:
            raise ArticleFormatError(f"{path}: expected a .txt or .jsonl file")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleFormatError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _read_jsonl(path: Path) -> Iterator[Article]:
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArticleFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise ArticleFormatError(f"{path}:{number}: expected an object with id and text")
        missing = [field for field in ("id", "text") if field not in record]
        if missing:
            raise ArticleFormatError(f"{path}:{number}: missing field {', '.join(missing)}")
        if not isinstance(record["text"], str):
            raise ArticleFormatError(f"{path}:{number}: field text must be a string")
        date, url = record.get("date"), record.get("url")
        yield Article(
            str(record["id"]),
            record["text"],
            None if date is None else str(date),
            None if url is None else str(url),
        )


def article_quotations(articles: Iterable[Article], nlp=None) -> Iterator[dict]:
    """One flat record per quotation: its fields plus the article's date and url."""
    from service.extraction.extractor import extract_quotes

    for article in articles:
        for quotation in extract_quotes(article.text, doc=article.id, nlp=nlp):
            yield quotation.to_dict() | {"date": article.date, "url": article.url}
