"""The `stance` command line: train, evaluate, predict, list models (and the service commands).

Exit codes: 0 ok, 2 bad input (data, bundle, options), 1 internal failure.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from service.quiet import quiet_third_party


def _console(stderr: bool = False) -> Console:
    """A console for stdout or stderr. Not on a terminal (pipes, CI logs) it is 120 columns
    wide, so that target names in tables are never cut, and messages are not wrapped
    (soft_wrap), so that each stays on one line for grep."""
    terminal = (sys.stderr if stderr else sys.stdout).isatty()
    width = None if terminal else 120
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=not terminal)


console, errors = _console(), _console(stderr=True)


class BadInput(click.ClickException):
    exit_code = 2


class FiniteFloatRange(click.FloatRange):
    """`click.FloatRange` that also refuses NaN and infinities: NaN compares false with every
    bound, so the range check alone lets it through to fail later with a traceback."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def bad_input_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the user's input is wrong (exit code 2, no traceback)."""
    from training.bundle import BundleError
    from training.data import DataError
    from training.embedding import EmbeddingError
    from training.encoders import EncoderError
    from training.model import TooFewExamples
    from training.scorer import UnknownTargetError

    return (
        DataError,
        TooFewExamples,
        BundleError,
        EmbeddingError,
        EncoderError,
        UnknownTargetError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
    )


class StanceGroup(click.Group):
    """Turns domain errors into exit code 2 and unexpected ones into exit code 1.

    Commands and what they need are imported when invoked: `stance --help` and `stance models`
    load neither the encoder, nor scikit-learn, nor spaCy; `stance predict` does not pay for
    Flask, Dask and spaCy; `stance serve` sets up metrics before prometheus_client loads.
    """

    lazy_commands: ClassVar[dict[str, tuple[str, str]]] = {
        "extract": ("service.extraction.cli:extract", "Extract quotations and their speakers."),
        "score": ("service.batch.cli:score", "Batch-score quote files (CSV, JSONL, Parquet, ...)."),
        "serve": ("service.api.cli:serve", "Serve the HTTP API (POST /stance, /model, ...)."),
        "suggest": (
            "service.suggest:suggest_command",
            "Pick the unlabeled quotes most worth labeling next (active learning).",
        ),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module, attribute = self.lazy_commands[name][0].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `stance --help`, without importing the lazy commands."""
        rows = [
            (name, self.lazy_commands[name][1])
            if name in self.lazy_commands
            else (name, self.commands[name].get_short_help_str(formatter.width))
            for name in self.list_commands(ctx)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        quiet_third_party()
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C: the shell's convention, 128 + SIGINT
            errors.print("interrupted")
            raise click.exceptions.Exit(130) from None
        except Exception as error:
            if isinstance(error, bad_input_errors()):
                raise BadInput(str(error)) from error
            traceback.print_exc(file=sys.stderr)
            raise click.ClickException(f"internal failure: {error!r}") from error


@click.group(cls=StanceGroup)
@click.version_option(package_name="quote-stance")
def main() -> None:
    """Stance and sentiment of news quotes, per actor."""


def labeled_csv_options(command):
    """The FILE... argument and the reading options of every command that reads labeled data."""
    options = [
        click.argument(
            "csv_files",
            metavar="FILE...",
            nargs=-1,
            required=True,
            type=click.Path(exists=True, dir_okay=False),
        ),
        click.option("--text-column", help="Column with the quote text (default: text/Tweet)."),
        click.option("--target-column", help="Column with the target (default: target)."),
        click.option("--stance-column", help="Column with the stance (default: stance/label)."),
        click.option("--sentiment-column", help="Column with the sentiment (optional)."),
        click.option("--target", "fixed_target", help="Every row is about this target."),
        click.option(
            "--encoding", help="Text encoding (default: UTF-8, else detected, cp1252 first)."
        ),
        click.option("--delimiter", help="CSV delimiter: ',', ';', tab, '|' (default: detected)."),
        click.option(
            "--strict", is_flag=True, help="Conflicting duplicate rows are errors, not warnings."
        ),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(
        *args, text_column, target_column, stance_column, sentiment_column, fixed_target, **kwargs
    ):
        from training.data import ColumnMapping

        kwargs["mapping"] = ColumnMapping(
            text=text_column,
            target=target_column,
            stance=stance_column,
            sentiment=sentiment_column,
            fixed_target=fixed_target,
        )
        return command(*args, **kwargs)

    return wrapper


@main.command()
@click.option("--out", type=click.Path(file_okay=False), help="Models directory to write into.")
@click.option("--name", help="Bundle name (default: stance-<time>-<data hash>).")
@click.option("--force", is_flag=True, help="Replace an existing bundle of the same name.")
@click.option(
    "--cv",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Cross-validation folds, 2 or more (0: skip).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of the fold assignment (and of fine-tuning's batch order).",
)
@click.option(
    "--fine-tune-encoder",
    is_flag=True,
    help="Fine-tune the sentence encoder on the labeled quotes before fitting the heads (and "
    "in each cross-validation fold). Minutes instead of seconds, a 10 MB bigger bundle; on our "
    "real news it raised sentiment but lowered stance F_avg (docs/training.md): compare on your "
    "held-out data.",
)
@click.option(
    "--min-per-class",
    type=int,  # the least accepted depends on the calibration: checked in `train`
    default=10,
    show_default=True,
    help="Minimum examples per stance label and target (at least 5: the heads calibrate on 5 "
    "folds).",
)
@click.option(
    "--embedding-model",
    envvar="STANCE_EMBEDDING_MODEL",
    help="sentence-transformers directory or name [env STANCE_EMBEDDING_MODEL].",
)
@click.option(
    "--C",
    "regularisation",
    type=FiniteFloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Inverse regularisation strength of the heads.",
)
@click.option(
    "--position-share",
    type=FiniteFloatRange(0, 1, min_open=True, max_open=True),
    help="The share of the quotes you will score that take a position (favor or against) on a "
    "target, when it differs from the training data's: the stance probabilities are corrected "
    "to it (label shift; favor and against keep their training proportion). Default: the "
    "training data's share.",
)
@click.option(
    "--embedding-cache/--no-embedding-cache",
    default=None,
    help="Keep quote embeddings on disk so a retrain embeds only new quotes (default: on, "
    "unless STANCE_EMBEDDING_CACHE=off).",
)
@labeled_csv_options
def train(
    csv_files,
    out,
    name,
    force,
    cv,
    seed,
    min_per_class,
    embedding_model,
    regularisation,
    embedding_cache,
    fine_tune_encoder,
    position_share,
    mapping,
    encoding,
    delimiter,
    strict,
):
    """Train stance and sentiment heads on labeled data and write a bundle.

    FILE: CSV/TSV, JSON Lines, JSON or Parquet, one row per (quote, target).
    """
    from training import (
        StanceModel,
        cross_validate,
        cross_validate_fine_tuned,
        get_embedder,
        read_labeled_csv,
        write_bundle,
    )
    from training.fine_tuning import fine_tuned_embedder, training_steps

    model = StanceModel(C=regularisation, position_share=position_share)
    if cv == 1:
        raise click.BadParameter(
            "use 0 to skip cross-validation, or 2 folds or more", param_hint="--cv"
        )
    if min_per_class < model.min_examples_per_class:
        raise click.BadParameter(
            f"{min_per_class} is below {model.min_examples_per_class}, the fewest examples of a "
            f"label the calibrated heads can learn from ({model.min_examples_per_class}-fold "
            "calibration); add examples or leave the thin target out of the file",
            param_hint="--min-per-class",
        )
    quotes = read_labeled_csv(
        csv_files,
        mapping,
        encoding=encoding,
        delimiter=delimiter,
        min_per_class=min_per_class,
        strict_duplicates=strict,
    )
    for warning in quotes.warnings:
        errors.print(f"warning: {warning}")
    embedder = get_embedder(embedding_model)
    model.set_params(embedder=embedder)
    texts = quotes.frame["text"].unique().tolist()
    metrics = None
    with training_phases() as phase:
        if fine_tune_encoder:
            if cv > 1:
                folds = phase(f"{cv}-fold CV, fine-tuning steps", None)
                metrics = cross_validate_fine_tuned(model, quotes, cv, seed, progress=folds)
            tuning = phase("fine-tuning on all data, steps", training_steps(len(texts)))
            embedder = fine_tuned_embedder(embedder, quotes.frame, seed=seed, progress=tuning)
            model.set_params(embedder=embedder)
        cached = embedder.cached_count(texts) if embedding_cache is not False else 0
        embedding = phase(f"embedding quotes, {cached} cached", len(texts))
        vectors = embedder.vectors(texts, cache=embedding_cache, progress=embedding)
        embedding(len(texts), len(texts))  # complete even when every quote was cached
        if cv > 1 and not fine_tune_encoder:  # the final fit runs in the same pool as the folds
            folds = phase(f"{cv}-fold cross-validation + final fit", cv + 1)
            metrics = cross_validate(
                model, quotes, folds=cv, seed=seed, vectors=vectors, progress=folds, refit=True
            )
        else:
            fitting = phase("fitting on all data", 1)
            model.fit(quotes, vectors)
            fitting(1, 1)
    if metrics is not None:
        print_metrics(metrics, f"{cv}-fold cross-validation")
    path = write_bundle(model, quotes, metrics, out, name, replace=force)
    console.print(f"bundle: {path}")


@main.command(name="evaluate")
@click.option("--model", "bundle_name", envvar="STANCE_MODEL", help="Bundle name or path.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@labeled_csv_options
def evaluate_command(bundle_name, csv_files, as_json, mapping, encoding, delimiter, strict):
    """Metrics of a bundle on held-out labeled data (CSV/TSV, JSON Lines, JSON or Parquet)."""
    from training import evaluate, load_bundle, read_labeled_csv

    quotes = read_labeled_csv(
        csv_files,
        mapping,
        encoding=encoding,
        delimiter=delimiter,
        require_min=False,
        strict_duplicates=strict,
        deduplicate=False,
    )
    bundle = load_bundle(bundle_name)
    metrics = evaluate(bundle.model, quotes)
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    print_metrics(metrics, f"{bundle.version} on {', '.join(csv_files)}")
    if metrics["skipped_targets"]:
        errors.print(f"warning: targets not in the model: {', '.join(metrics['skipped_targets'])}")


@main.command()
@click.argument("text")
@click.option("--actor", help="Who said it (shown in the output).")
@click.option("--model", "bundle_name", envvar="STANCE_MODEL", help="Bundle name or path.")
@click.option("--targets", help="Comma-separated subset of targets.")
@click.option("--json", "as_json", is_flag=True, help="Print the score as JSON.")
def predict(text, actor, bundle_name, targets, as_json):
    """Score one quote."""
    from training.bundle import load_bundle
    from training.language import check_language
    from training.texts import blank_text_problem

    problem = blank_text_problem(text)
    if problem:
        raise BadInput(f"TEXT: {problem}")
    bundle = load_bundle(bundle_name)
    wanted = bundle.model.check_targets(
        [t.strip() for t in targets.split(",")] if targets else None
    )
    language = check_language(text)  # a quote the model cannot read gets no score
    score = bundle.model.score([text], wanted)[0] if language.supported else None
    if as_json:
        body = {"actor": actor, "text": text, "language": language.language}
        scores = score.to_dict() if score else {"stance": None, "sentiment": None}
        click.echo(json.dumps(body | scores | {"error": language.to_error()}, indent=2))
        return
    title = f"{actor + ': ' if actor else ''}{text}"
    caption = f"language: {language.language or 'not determined (short or unsure)'}"
    if score is None:
        console.print(title)
        console.print(f"{caption}\nnot scored: {language.error}")
        return
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for column in ("head", "label", "probabilities"):
        table.add_column(column)
    for target, stance in score.stances.items():
        table.add_row(target, stance.label, _probabilities(stance.probabilities))
    if score.sentiment:
        table.add_row(
            "sentiment", score.sentiment.label, _probabilities(score.sentiment.probabilities)
        )
    console.print(table)


@main.command()
@click.option(
    "--embedding-model",
    envvar="STANCE_EMBEDDING_MODEL",
    help="sentence-transformers directory or name [env STANCE_EMBEDDING_MODEL].",
)
@click.option(
    "--model",
    "bundle_name",
    envvar="STANCE_MODEL",
    help="Bundle whose fine-tuned encoder to build as well (default: the default bundle).",
)
def encoder(embedding_model, bundle_name):
    """Build (once) and check the sentence encoder converted for scoring; print its entry.

    Scoring runs the embedding model converted to OpenVINO and cached in $STANCE_CACHE_DIR
    (default ~/.cache/quote-stance). A bundle trained with --fine-tune-encoder scores with its
    own encoder (the model plus the bundle's weights delta), built and converted here too when
    the bundle exists. `make install-runtime` and the Docker build run this command; otherwise
    the first scoring command converts the model.
    """
    from training.bundle import BundleError, load_bundle, read_manifest, resolve_bundle
    from training.embedding import get_embedder

    embedders = [get_embedder(embedding_model, "openvino")]
    try:
        path = resolve_bundle(bundle_name)
    except BundleError:
        if bundle_name:
            raise
        path = None  # no default bundle (yet): the stock encoder only
    if path is not None and read_manifest(path)["embedding"].get("fine_tuned"):
        embedders.append(load_bundle(path).model.embedder)
    for embedder in embedders:
        spec = embedder.scoring_spec
        tuned = f", fine-tuned by {embedder.fine_tuned.delta}" if embedder.fine_tuned else ""
        console.print(f"encoder: {embedder.encoder}")
        console.print(
            f"model: {spec.name}{tuned} (dimension {spec.dimension}, fingerprint "
            f"{spec.fingerprint})"
        )
        console.print(f"entry: {embedder.entry_directory}")


@main.command()
def models():
    """List bundles in the models directory with their headline metrics."""
    from training.bundle import list_bundles
    from training.scores import POOLED

    table = Table(caption="bundle: the name --model takes (its directory)", caption_justify="left")
    columns = ("bundle", "created", "targets", "encoder", "CV F_avg (pooled)", "sentiment macro-F1")
    for column in columns:
        table.add_column(column)
    for manifest in list_bundles():
        metrics = manifest.get("metrics") or {}
        pooled = (metrics.get("stance") or {}).get(POOLED)
        sentiment = metrics.get("sentiment")
        table.add_row(
            Path(manifest["path"]).name,
            manifest["created_at"],
            ", ".join(t["id"] for t in manifest["targets"]),
            "fine-tuned" if manifest["embedding"].get("fine_tuned") else "stock",
            f"{pooled['f_avg'] * 100:.1f}" if pooled else "–",
            f"{sentiment['macro_f1'] * 100:.1f}" if sentiment else "–",
        )
    console.print(table)


@contextmanager
def training_phases():
    """`phase(description, total)` -> `update(done, total)`: a progress bar per phase of
    training with elapsed and remaining time on a terminal (within 80 columns; a total of None
    until the phase knows it); nothing when stderr is not one."""
    if not errors.is_terminal:
        yield lambda description, total: lambda done, total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors) as progress:

        def phase(description: str, total: int | None):
            task = progress.add_task(description, total=total)
            return lambda done, total: progress.update(task, completed=done, total=total)

        yield phase


def print_metrics(metrics: dict, title: str) -> None:
    """The metrics table printed by `train` and `evaluate` (scores ×100)."""
    from training.scores import POOLED

    caption = "pooled: all targets together (the official TweetEval F_avg)"
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for column in (
        "head",
        "n",
        "F_avg",
        "macro-F1",
        "accuracy",
        "F1 favor",
        "F1 against",
        "F1 none",
    ):
        table.add_column(column, justify="right" if column != "head" else "left")
    for head, m in metrics["stance"].items():
        f1 = {label: m["per_class"][label]["f1"] for label in m["per_class"]}
        table.add_row(
            "pooled" if head == POOLED else head,
            str(m["n"]),
            _pct(m["f_avg"]),
            _pct(m["macro_f1"]),
            _pct(m["accuracy"]),
            _pct(f1["favor"]),
            _pct(f1["against"]),
            _pct(f1["none"]),
        )
    if metrics.get("sentiment"):
        m = metrics["sentiment"]
        table.add_row(
            "sentiment", str(m["n"]), "–", _pct(m["macro_f1"]), _pct(m["accuracy"]), "", "", ""
        )
    console.print(table)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def _probabilities(probabilities: dict[str, float]) -> str:
    return "  ".join(f"{label} {p:.2f}" for label, p in probabilities.items())


if __name__ == "__main__":
    main()
