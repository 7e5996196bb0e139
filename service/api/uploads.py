"""Uploaded files, read by the readers of `stance score` (quotes) and `stance extract` (articles).

The web page never parses a file itself: it uploads it here and gets plain rows back, each
checked against the quote schema of POST /stance, so every usable row can be scored as it is.
An upload is written to a private temporary directory (the readers stream from paths) and
deleted when the request ends; nothing is kept.
"""

from __future__ import annotations

import lzma
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import zstandard
from werkzeug.datastructures import FileStorage

from service.api.config import ServiceConfig
from service.api.schema import quote_schema, validate
from service.batch.errors import BatchError
from service.dates import InvalidDate, normalise_date
from training.texts import text_problem

ARTICLE_SUFFIXES = (".txt", ".jsonl")
_CHUNK_ROWS = 1_000
# What a broken file can raise inside the readers (decoders, decompressors, Arrow).
_READ_ERRORS = (BatchError, ValueError, OSError, EOFError, lzma.LZMAError, zstandard.ZstdError)
# The readers speak to the command line; the upload form has fields of the same meaning.
_FORM_WORDS = {
    "--text-column": "the text_column field",
    "--actor-column": "the actor_column field",
    "--id-column": "the id_column field",
    "--date-column": "the date_column field",
    "--weight-column": "the weight_column field",
    "--format": "the format field",
}


class UnreadableUpload(ValueError):
    """The uploaded file cannot be read; the message names the file as the client called it."""


class TooManyRows(ValueError):
    """The uploaded file holds more quotes than `max_file_quotes`."""

    def __init__(self, name: str, limit: int):
        self.limit = limit
        super().__init__(
            f"{name} holds more than {limit} quotes, the service's limit for one file "
            "(STANCE_MAX_FILE_QUOTES); split it, or score it with `stance score`"
        )


def read_quote_upload(
    upload: FileStorage,
    config: ServiceConfig,
    columns: dict[str, str] | None = None,
    fmt: str | None = None,
) -> dict:
    """The rows of an uploaded quotes file (any format `stance score` reads), checked as /stance
    checks quotes. `columns`: the column roles (`ColumnOptions` fields) the form named."""
    # The readers bring pandas and pyarrow (about 110 MiB): a worker loads them with its first
    # upload, not at start (docs/service.md, memory per worker).
    from service.batch.job import plan_inputs, reading_notes
    from service.batch.readers import ColumnOptions, read_chunks

    name = display_name(upload)
    with tempfile.TemporaryDirectory(prefix="stance-upload-") as folder:
        path = Path(folder) / _local_name(name)
        upload.save(path)
        try:
            roles_asked = ColumnOptions(**(columns or {}))
            ((source, roles, names),) = plan_inputs([str(path)], roles_asked, fmt)
            reading = _QuoteRows(name, config)
            quotes = list(reading.rows(read_chunks([(source, roles)], _CHUNK_ROWS)))
            notes = [_for_the_form(note, str(path), name) for note in reading_notes(source)]
        except TooManyRows:
            raise
        except _READ_ERRORS as error:
            raise UnreadableUpload(_for_the_form(str(error), str(path), name)) from error
    return {
        "file": {
            "name": name,
            "format": source.format,
            "compression": source.compression,
            "columns": [str(column) for column in names],
            "roles": {role: getattr(roles, role) for role in ("text", "actor", "id", "date")},
        },
        "rows": len(quotes),
        "usable": sum(quote["error"] is None for quote in quotes),
        "warnings": notes,
        "quotes": quotes,
    }


def read_article_upload(upload: FileStorage, config: ServiceConfig) -> dict:
    """The articles of an uploaded .txt (one article) or .jsonl file (id, text, date, url)."""
    from service.extraction.articles import ArticleFormatError, read_articles

    name = display_name(upload)
    if Path(name).suffix.lower() not in ARTICLE_SUFFIXES:
        raise UnreadableUpload(
            f"{name}: articles are read from .txt (one article) or .jsonl files "
            '(one {"id", "text", "date", "url"} object per line)'
        )
    with tempfile.TemporaryDirectory(prefix="stance-upload-") as folder:
        path = Path(folder) / _local_name(name)
        upload.save(path)
        try:
            articles = list(read_articles([path]))
        except (ArticleFormatError, OSError) as error:
            raise UnreadableUpload(_for_the_form(str(error), str(path), name)) from error
    one = Path(name).suffix.lower() == ".txt"  # a .txt article is named after its file
    return {
        "file": {"name": name},
        "articles": [
            {
                "id": Path(name).stem if one else article.id,
                "text": article.text,
                "date": day(article.date),
                "url": article.url,
                "error": _article_problem(article.text, config.max_article_chars),
            }
            for article in articles
        ],
    }


def _article_problem(text: str, limit: int) -> str | None:
    if not text.strip():
        return "text is empty"
    if len(text) > limit:
        return f"text has {len(text)} characters; the limit is {limit}"
    return None


def _local_name(name: str) -> str:
    """A safe file name with the upload's suffixes (they tell the format and compression)."""
    suffixes = [s for s in Path(name).suffixes if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", s)]
    return "upload" + "".join(suffixes)


def display_name(upload: FileStorage) -> str:
    """The file name the client gave, without its folders."""
    return Path((upload.filename or "upload").replace("\\", "/")).name or "upload"


def day(value: object) -> str | None:
    """The YYYY-MM-DD day of a date value by the one date rule (`service.dates`), or None when
    it has none or is not a date (the reader reports that as the row's error)."""
    try:
        normalised = normalise_date(value)
    except InvalidDate:
        return None
    return normalised[:10] if normalised else None


class _QuoteRows:
    """Turns reader chunks into quote rows: id, text, actor, date and why a row is unusable."""

    def __init__(self, name: str, config: ServiceConfig):
        self.name, self.limit = name, config.max_file_quotes
        self.schema = quote_schema(config)

    def rows(self, chunks) -> Iterator[dict]:
        for chunk in chunks:
            frame, roles = chunk.frame, chunk.roles
            values = zip(
                frame.index,
                *(_column(frame, name) for name in (roles.text, roles.actor, roles.id, roles.date)),
                chunk.problems,
                strict=True,
            )
            for index, text, actor, quote_id, date, problem in values:
                row = int(index) + 1
                if row > self.limit:
                    raise TooManyRows(self.name, self.limit)
                yield self._row(row, _plain(text), actor, quote_id, date, problem)

    def _row(self, row: int, text, actor, quote_id, date, problem: str | None) -> dict:
        actor, quote_id, date = _plain(actor), _plain(quote_id), _plain(date)
        when = day(date)
        quote = {
            "row": row,
            "id": row if quote_id in (None, "") else _identifier(quote_id),
            "text": text,
            "actor": None if actor in (None, "") else str(actor),
            "date": when,
        }
        error = problem or text_problem(text)
        if error is None:
            fields = {key: quote[key] for key in ("text", "actor", "id", "date")}
            problems = validate(fields, self.schema)
            error = f"{problems[0].path}: {problems[0].message}" if problems else None
        return quote | {"error": error}


def _column(frame, name: str | None) -> list:
    return frame[name].tolist() if name else [None] * len(frame)


def _plain(value: object) -> object:
    """A JSON value for a cell: numpy scalars unwrapped, NaN and NaT as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if value is not None and type(value).__name__ == "NaTType":
        return None
    return value


def _identifier(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


def _for_the_form(message: str, path: str, name: str) -> str:
    """A reader's message with the upload's own name and the form's words for CLI options."""
    message = message.replace(path, name)
    for flag, field in _FORM_WORDS.items():
        message = message.replace(flag, field)
    return message
