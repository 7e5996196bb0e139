"""`stance suggest`: the unlabeled quotes most worth labeling next, as a labeling CSV.

    stance suggest pool.jsonl -n 50 --exclude labeled.csv -o to_label.csv

Inputs are read exactly as `stance score` reads them (`service.batch` readers and column
options); `--exclude` files are read by the labeled-CSV reader (`training.read_labeled_csv`).
The selection is `training.suggest` (uncertainty sampling plus diversity). The output is in the
labeled-CSV contract, one row per quote and target, with empty `stance` and `sentiment` cells for
the annotator and the model's guess beside them; `stance train` reads it as soon as some rows
are labeled (rows still without a stance are left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click
import pandas as pd

from service.batch.cli import BadBatchInput, input_options, inputs_and_output
from service.batch.errors import BatchError
from service.batch.job import plan_inputs
from service.batch.readers import ColumnOptions, read_chunks
from service.batch.scorer import text_problem
from service.batch.writers import write_atomically
from service.cli import errors
from training import (
    Bundle,
    Suggestion,
    check_languages,
    load_bundle,
    read_labeled_csv,
    suggest,
    text_key,
)

LABEL_COLUMNS = ["id", "text", "target", "stance", "sentiment", "actor", "date", "source"]
GUESS_COLUMNS = [
    "rank",
    "uncertainty",
    "guess",
    "guess_probability",
    "sentiment_guess",
    "sentiment_guess_probability",
]
_ROLES = ("id", "actor", "date")  # column roles kept from the input under these names


@dataclass
class Pool:
    """The unlabeled quotes read from the inputs, one record per usable row."""

    rows: list[dict] = field(default_factory=list)  # text, and id/actor/date/source if present
    present: set[str] = field(default_factory=set)  # which of id/actor/date/source some file has
    read: int = 0
    without_text: int = 0
    with_error: int = 0  # rows `stance score` would mark with an error (a bad date, a bad record)
    first_error: str = ""


def read_pool(
    inputs: list[str],
    columns: ColumnOptions,
    input_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Pool:
    """Every row of `inputs` with a text and no error; BatchError names the file (and line) of
    input that cannot be read at all. Rows `stance score` would mark with an error (a bad date,
    an unreadable record) are left out and counted, as rows without text are."""
    pool = Pool()
    plans = plan_inputs(inputs, columns, input_format, encoding, delimiter)
    planned = [(source, roles) for source, roles, _ in plans]
    for chunk in read_chunks(planned, 10_000):
        names = {role: getattr(chunk.roles, role) for role in _ROLES}
        names["source"] = _column(chunk.frame.columns, "source")
        kept = {role: name for role, name in names.items() if name is not None}
        values = {role: chunk.frame[name].tolist() for role, name in kept.items()}
        pool.present.update(kept)
        for i, text in enumerate(chunk.texts):
            pool.read += 1
            if chunk.problems[i] is not None:
                pool.with_error += 1
                pool.first_error = pool.first_error or f"{chunk.source}: {chunk.problems[i]}"
                continue
            if text_problem(text) is not None:
                pool.without_text += 1
                continue
            pool.rows.append({"text": text} | {role: _cell(v[i]) for role, v in values.items()})
    return pool


def excluded_keys(paths: list[str]) -> set[str]:
    """The texts (as `text_key`) of labeled CSVs, labeled rows and rows still to label alike."""
    if not paths:
        return set()
    quotes = read_labeled_csv(paths, require_min=False, deduplicate=False, require_labels=False)
    texts = [*quotes.frame["text"], *quotes.unlabeled["text"]]
    return {text_key(text) for text in texts}


def candidate_rows(pool: Pool, excluded: set[str]) -> tuple[list[int], dict[str, int]]:
    """The pool rows `suggest` may choose from, and how many were left out for each reason.

    Left out: texts of the --exclude files, repeats of an earlier text (`text_key`), and texts
    in a language the model does not read (`suggest` would pass over them too; counted here).
    """
    rows, seen, counts = [], set(), {"excluded": 0, "repeated": 0, "language": 0}
    for index, row in enumerate(pool.rows):
        key = text_key(row["text"])
        if key in excluded:
            counts["excluded"] += 1
        elif key in seen:
            counts["repeated"] += 1
        else:
            seen.add(key)
            rows.append(index)
    checks = check_languages([pool.rows[i]["text"] for i in rows])
    readable = [i for i, check in zip(rows, checks, strict=True) if check.supported]
    counts["language"] = len(rows) - len(readable)
    return readable, counts


def labeling_frame(
    pool: Pool, suggestions: list[Suggestion], pool_rows: list[int], targets: list[str]
) -> pd.DataFrame:
    """One row per suggested quote and target in the labeled-CSV contract, guesses prefilled.

    `pool_rows[i]` is the pool row of the i-th text given to `suggest`.
    """
    records = []
    for rank, suggestion in enumerate(suggestions, start=1):
        row = pool.rows[pool_rows[suggestion.index]]
        sentiment = suggestion.score.sentiment
        for target in targets:
            stance = suggestion.score.stances[target]
            records.append(
                {
                    **{name: row.get(name) for name in LABEL_COLUMNS},
                    "target": target,
                    "stance": None,
                    "sentiment": None,
                    "rank": rank,
                    "uncertainty": suggestion.uncertainty,
                    "guess": stance.label,
                    "guess_probability": stance.probabilities[stance.label],
                    "sentiment_guess": sentiment.label if sentiment else None,
                    "sentiment_guess_probability": (
                        sentiment.probabilities[sentiment.label] if sentiment else None
                    ),
                }
            )
    always = ("text", "target", "stance", "sentiment")
    kept = [c for c in LABEL_COLUMNS if c in always or c in pool.present]
    return pd.DataFrame(records, columns=LABEL_COLUMNS + GUESS_COLUMNS)[kept + GUESS_COLUMNS]


@click.command(name="suggest")
@inputs_and_output("Labeling file to write (.csv, the labeled-CSV contract).")
@click.option("-n", "count", required=True, type=click.IntRange(1), help="How many quotes.")
@click.option(
    "--exclude",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Labeled CSV whose texts are never suggested (repeatable; rows still to label count).",
)
@click.option("--seed", default=0, show_default=True, help="Seed of ties and clustering.")
@click.option("--targets", help="Comma-separated subset of the model's targets.")
@click.option("--model", "bundle_name", envvar="STANCE_MODEL", help="Bundle name or path.")
@click.option("--force", is_flag=True, help="Overwrite an existing output.")
@input_options
def suggest_command(
    inputs,
    output,
    count,
    exclude,
    seed,
    targets,
    bundle_name,
    force,
    columns,
    input_format,
    encoding,
    delimiter,
):
    """Pick the N unlabeled quotes most worth labeling next (active learning).

    INPUT is any file `stance score` reads. The quotes whose labels would teach the model most
    (the most uncertain, yet different from each other) are written to OUTPUT, one row per
    quote and target, with empty stance/sentiment columns to fill in and the model's guess
    beside them. Label them, then `stance train` your labeled CSVs with it, and suggest again.
    """
    output_path = Path(output)
    try:
        _check_output(output_path, list(inputs) + list(exclude), force)
        pool = read_pool(list(inputs), columns, input_format, encoding, delimiter)
    except BatchError as error:
        raise BadBatchInput(str(error)) from error
    excluded = excluded_keys(list(exclude))
    wanted = [t.strip() for t in targets.split(",")] if targets else None
    bundle: Bundle = load_bundle(bundle_name)
    targets_used = bundle.model.check_targets(wanted)
    rows, left_out = candidate_rows(pool, excluded)
    texts = [pool.rows[i]["text"] for i in rows]
    with errors.status(f"embedding and scoring {len(texts)} quotes…"):
        picks = suggest(bundle.model, texts, count, seed=seed, targets=targets_used)
    frame = labeling_frame(pool, picks, rows, targets_used)
    write_atomically(output_path, lambda tmp: frame.to_csv(tmp, index=False))
    errors_read = (
        f"{pool.with_error} with an error (first: {pool.first_error}), " if pool.with_error else ""
    )
    click.echo(
        f"{pool.read} rows: {pool.without_text} without text, {errors_read}"
        f"{left_out['repeated']} repeated, "
        f"{left_out['excluded']} already in --exclude files, {left_out['language']} not in a "
        "language the model reads "
        f"→ {len(texts)} candidates; {len(picks)} suggested ({len(frame)} rows, one per target) "
        f"→ {output_path}",
        err=True,
    )


def _check_output(output: Path, inputs: list[str], force: bool) -> None:
    if output.suffix.lower() != ".csv":
        raise BatchError(f"{output}: the labeling file is a CSV; name it *.csv")
    if any(Path(p).resolve() == output.resolve() for p in inputs if Path(p).exists()):
        raise BatchError(f"{output} is also an input or --exclude file; choose another output")
    if output.exists() and not force:
        raise BatchError(
            f"{output} exists (labels in it would be lost); pass --force to replace it"
        )


def _column(columns, name: str) -> str | None:
    return next((c for c in columns if str(c).lower() == name), None)


def _cell(value: object) -> object:
    return None if value is None or (isinstance(value, float) and value != value) else value
