"""`stance score --articles`: extract attributed quotations from articles, then score them.

The quotations are written once to `<output>.quotations.jsonl` (atomically) and scored as an
ordinary quote file — text `quote`, actor `speaker`, date `date` — so resuming, the actor
summary and the Dask engine work exactly as for quote archives. With `--resume` an existing
quotations file is reused, which keeps the job identical to the interrupted one.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path

from service.batch.errors import BatchError
from service.batch.job import JobResult, score_files
from service.batch.readers import ColumnOptions
from service.batch.writers import write_atomically

ARTICLE_SUFFIXES = (".txt", ".jsonl")
QUOTATION_COLUMNS = ColumnOptions(text="quote", actor="speaker", id=None, date="date")


def quotations_path(output: str | Path) -> Path:
    """Where the extracted quotations of a job are kept, next to its output."""
    output = Path(output)
    return output.with_name(f"{output.name}.quotations.jsonl")


def article_files(patterns: list[str]) -> list[Path]:
    """Article files named by paths, globs or directories (.txt and .jsonl), in order."""
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(pattern, recursive=True))
            if not matches:
                raise BatchError(f"{pattern}: no such file, directory or glob match")
            found += [m for m in matches if m.is_file()]
    unknown = [p for p in found if p.suffix.lower() not in ARTICLE_SUFFIXES]
    if unknown:
        raise BatchError(f"{unknown[0]}: --articles reads .txt and .jsonl article files")
    return found


def score_articles(
    inputs: list[str], output: str | Path, *, spacy_model: str | None = None, **options
) -> JobResult:
    """Extract quotations from article files and score them with `score_files` options."""
    from service.extraction import (
        ArticleFormatError,
        PipelineError,
        article_quotations,
        load_pipeline,
        read_articles,
    )

    quotations = quotations_path(output)
    if not (options.get("resume") and quotations.is_file()):
        try:
            articles = list(read_articles(article_files(inputs)))
            records = article_quotations(articles, nlp=load_pipeline(spacy_model))
            _write_jsonl_atomically(records, quotations)
        except (ArticleFormatError, PipelineError) as error:
            raise BatchError(str(error)) from error
    return score_files([str(quotations)], output, columns=QUOTATION_COLUMNS, **options)


def _write_jsonl_atomically(records, path: Path) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as sink:
            for record in records:
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")

    write_atomically(path, write)
