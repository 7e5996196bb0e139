"""`stance score`: batch-score quote files into one output file, with an actor summary."""

from __future__ import annotations

import dataclasses
import functools

import click

from service.batch.articles import score_articles
from service.batch.errors import BatchError
from service.batch.formats import FORMAT_NAMES
from service.batch.job import DEFAULT_CHUNK_SIZE, score_files
from service.batch.readers import ColumnOptions


class BadBatchInput(click.ClickException):
    """Bad input or output state: exit code 2, like every other `stance` command."""

    exit_code = 2


def input_options(command):
    """The column, format, encoding and delimiter options of every command that reads quote
    files (score, suggest): one reading rule. The command receives `columns` (ColumnOptions),
    `input_format`, `encoding` and `delimiter`.
    """
    options = [
        click.option(
            "--text-column", help="Quote text (default: text, quotation, quote, tweet, ...)."
        ),
        click.option("--actor-column", help="Who said it (default: actor, speaker, author)."),
        click.option("--id-column", help="Row id (default: id, quoteID)."),
        click.option(
            "--date-column", help="Date: ISO string or epoch milliseconds (default: date)."
        ),
        click.option(
            "--format",
            "input_format",
            type=click.Choice(FORMAT_NAMES),
            help="Input format, when file extensions do not say.",
        ),
        click.option(
            "--encoding", help="Text encoding of CSV/JSON inputs (default: UTF-8, else detected)."
        ),
        click.option("--delimiter", help="CSV delimiter: ',', ';', tab, '|' (default: detected)."),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args, text_column, actor_column, id_column, date_column, **kwargs):
        kwargs["columns"] = ColumnOptions(text_column, actor_column, id_column, date_column)
        return command(*args, **kwargs)

    return wrapper


def inputs_and_output(output_help: str):
    """The INPUT... argument and the required -o/--output option of score and suggest."""

    def decorate(command):
        command = click.option(
            "-o", "--output", required=True, type=click.Path(dir_okay=False), help=output_help
        )(command)
        return click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)(command)

    return decorate


@click.command()
@inputs_and_output("Scored file: .csv, .jsonl or .parquet.")
@click.option(
    "--actors", type=click.Path(dir_okay=False), help="Per-actor summary: .csv, .json or .jsonl."
)
@click.option("--by", type=click.Choice(["month", "year"]), help="Add a per-period time series.")
@click.option("--plot", type=click.Path(dir_okay=False), help="PNG of the top actors' net stance.")
@input_options
@click.option("--weight-column", help="Weight quotes in the summary (e.g. numOccurrences).")
@click.option("--resume", is_flag=True, help="Finish an interrupted run of the same job.")
@click.option("--force", is_flag=True, help="Overwrite an existing output, discard old parts.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", help="Dask scheduler address (implies --engine dask).")
@click.option("--workers", type=click.IntRange(1), help="LocalCluster workers (--engine dask).")
@click.option(
    "--batch-size", type=click.IntRange(1), default=64, show_default=True, help="Texts per encode."
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1),
    default=DEFAULT_CHUNK_SIZE,
    show_default=True,
    help="Rows per resumable part.",
)
@click.option("--model", "bundle_name", envvar="STANCE_MODEL", help="Bundle name or path.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@click.option(
    "--articles",
    is_flag=True,
    help="Inputs are articles (.txt, or .jsonl with id, text, date, url): extract quotations "
    "and their speakers, then score them.",
)
@click.option("--spacy-model", envvar="STANCE_SPACY_MODEL", help="spaCy pipeline for --articles.")
def score(
    inputs,
    output,
    actors,
    by,
    plot,
    columns,
    weight_column,
    input_format,
    encoding,
    delimiter,
    resume,
    force,
    engine,
    scheduler,
    workers,
    batch_size,
    chunk_size,
    bundle_name,
    progress,
    articles,
    spacy_model,
):
    """Score quotes in CSV/TSV, JSONL, JSON or Parquet files (compressed, globs, directories).

    Every input row gives one output row: the input columns, the score columns and `error`.
    Quotebank files need no column options. With --articles the inputs are articles: each
    extracted quotation becomes a row (kept in OUTPUT.quotations.jsonl) scored with its speaker.
    """
    columns = dataclasses.replace(columns, weight=weight_column)
    if articles and (columns != ColumnOptions() or input_format or encoding or delimiter):
        raise click.UsageError("--articles takes no column, --format, --encoding or --delimiter")
    try:
        if articles:
            run = functools.partial(score_articles, spacy_model=spacy_model)
        else:
            run = functools.partial(
                score_files,
                columns=columns,
                input_format=input_format,
                encoding=encoding,
                delimiter=delimiter,
            )
        result = run(
            list(inputs),
            output,
            resume=resume,
            force=force,
            engine=engine,
            scheduler=scheduler,
            workers=workers,
            batch_size=batch_size,
            chunk_size=chunk_size,
            actors=actors,
            by=by,
            plot=plot,
            bundle=bundle_name,
            progress=progress,
        )
    except BatchError as error:
        raise BadBatchInput(str(error)) from error
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.already_complete:
        click.echo(f"{output} is already complete; nothing to resume", err=True)
        return
    resumed = f", {result.resumed_chunks} parts reused" if result.resumed_chunks else ""
    click.echo(
        f"{result.rows} rows from {len(result.files)} file(s) → {output} "
        f"({result.errors} with an error{resumed}); encoder {result.encoder}",
        err=True,
    )
    if actors:
        click.echo(f"{result.summary_rows} summary rows → {actors}", err=True)
    if plot:
        click.echo(f"plot → {plot}", err=True)
