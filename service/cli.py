"""The `stance` command line: train, evaluate, predict, list models (and the service commands).

Exit codes: 0 ok, 2 bad input (data, bundle, options), 1 internal failure.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
import traceback
from typing import ClassVar

import click
from rich.console import Console
from rich.table import Table

from training import (
    POOLED,
    BundleError,
    ColumnMapping,
    DataError,
    EmbeddingError,
    StanceModel,
    UnknownTargetError,
    check_language,
    cross_validate,
    evaluate,
    get_embedder,
    list_bundles,
    load_bundle,
    read_labeled_csv,
    write_bundle,
)

BAD_INPUT = (
    DataError,
    BundleError,
    EmbeddingError,
    UnknownTargetError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
)
# Not on a terminal (pipes, CI logs): wide enough that target names are never cut.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 120)


class BadInput(click.ClickException):
    exit_code = 2


class StanceGroup(click.Group):
    """Turns domain errors into exit code 2 and unexpected ones into exit code 1.

    The service commands are imported when invoked, so `stance predict` does not pay for
    Flask, Dask and spaCy, and `stance serve` sets up metrics before prometheus_client loads.
    """

    lazy_commands: ClassVar[dict[str, str]] = {
        "extract": "service.extraction.cli:extract",
        "score": "service.batch.cli:score",
        "serve": "service.api.cli:serve",
        "suggest": "service.suggest:suggest_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BAD_INPUT as error:
            raise BadInput(str(error)) from error
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            raise click.ClickException(f"internal failure: {error!r}") from error


@click.group(cls=StanceGroup)
@click.version_option(package_name="quote-stance")
def main() -> None:
    """Stance and sentiment of news quotes, per actor."""


def labeled_csv_options(command):
    """The CSV... argument and the reading options of every command that reads labeled CSVs."""
    options = [
        click.argument(
            "csv_files",
            metavar="CSV...",
            nargs=-1,
            required=True,
            type=click.Path(exists=True, dir_okay=False),
        ),
        click.option("--text-column", help="Column with the quote text (default: text/Tweet)."),
        click.option("--target-column", help="Column with the target (default: target)."),
        click.option("--stance-column", help="Column with the stance (default: stance/label)."),
        click.option("--sentiment-column", help="Column with the sentiment (optional)."),
        click.option("--target", "fixed_target", help="Every row is about this target."),
        click.option("--encoding", help="File encoding (default: UTF-8, else detected)."),
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
@click.option("--cv", default=5, show_default=True, help="Cross-validation folds (0: skip).")
@click.option("--seed", default=0, show_default=True, help="Seed of the fold assignment.")
@click.option(
    "--min-per-class",
    default=10,
    show_default=True,
    help="Minimum examples per stance label and target.",
)
@click.option(
    "--embedding-model",
    envvar="STANCE_EMBEDDING_MODEL",
    help="sentence-transformers directory or name [env STANCE_EMBEDDING_MODEL].",
)
@click.option(
    "--C",
    "regularisation",
    default=1.0,
    show_default=True,
    help="Inverse regularisation strength of the heads.",
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
    mapping,
    encoding,
    strict,
):
    """Train stance and sentiment heads on labeled CSVs and write a bundle."""
    quotes = read_labeled_csv(
        csv_files,
        mapping,
        encoding=encoding,
        min_per_class=min_per_class,
        strict_duplicates=strict,
    )
    for warning in quotes.warnings:
        errors.print(f"warning: {warning}")
    model = StanceModel(embedder=get_embedder(embedding_model), C=regularisation)
    metrics = None
    if cv > 1:
        with errors.status(f"cross-validating ({cv} folds)…"):
            metrics = cross_validate(model, quotes, folds=cv, seed=seed)
        print_metrics(metrics, f"{cv}-fold cross-validation")
    with errors.status("fitting on all data…"):
        model.fit(quotes)
    path = write_bundle(model, quotes, metrics, out, name, replace=force)
    console.print(f"bundle: {path}")


@main.command(name="evaluate")
@click.option("--model", "bundle_name", envvar="STANCE_MODEL", help="Bundle name or path.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@labeled_csv_options
def evaluate_command(bundle_name, csv_files, as_json, mapping, encoding, strict):
    """Metrics of a bundle on held-out labeled CSVs."""
    quotes = read_labeled_csv(
        csv_files,
        mapping,
        encoding=encoding,
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
    if not text.strip():
        raise BadInput("TEXT is empty")
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
def models():
    """List bundles in the models directory with their headline metrics."""
    table = Table()
    for column in ("version", "created", "targets", "CV F_avg (pooled)", "sentiment macro-F1"):
        table.add_column(column)
    for manifest in list_bundles():
        metrics = manifest.get("metrics") or {}
        pooled = (metrics.get("stance") or {}).get(POOLED)
        sentiment = metrics.get("sentiment")
        table.add_row(
            manifest["version"],
            manifest["created_at"],
            ", ".join(t["id"] for t in manifest["targets"]),
            f"{pooled['f_avg'] * 100:.1f}" if pooled else "–",
            f"{sentiment['macro_f1'] * 100:.1f}" if sentiment else "–",
        )
    console.print(table)


def print_metrics(metrics: dict, title: str) -> None:
    """The metrics table printed by `train` and `evaluate` (scores ×100)."""
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
