"""`stance serve`: the HTTP service under gunicorn, or Flask's server with --dev."""

from __future__ import annotations

import os
from dataclasses import replace

import click

from service.api.config import ConfigError, ServiceConfig
from service.api.server import ServeOptions, encoder_threads_per_worker, serve_dev
from service.api.server import serve as serve_gunicorn
from service.cli import FiniteFloatRange


@click.command()
@click.option(
    "--bind",
    default="127.0.0.1:8000",
    show_default=True,
    envvar="STANCE_BIND",
    help="host:port to listen on [env STANCE_BIND].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default=True,
    envvar="STANCE_WORKERS",
    help="Worker processes, each with its own model [env STANCE_WORKERS].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    envvar="STANCE_THREADS",
    help="Request threads per worker; their texts share micro-batches [env STANCE_THREADS].",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=120,
    show_default=True,
    envvar="STANCE_TIMEOUT",
    help="Seconds before a silent worker is restarted [env STANCE_TIMEOUT].",
)
@click.option(
    "--read-timeout",
    type=FiniteFloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    envvar="STANCE_READ_TIMEOUT",
    help="Seconds a client has to send a whole request, head and body; then 408 "
    "[env STANCE_READ_TIMEOUT].",
)
@click.option("--model", help="Bundle name or path in the models directory [env STANCE_MODEL].")
@click.option(
    "--encoder-threads",
    type=click.IntRange(min=1),
    help="Encoder threads per worker (default: cores // workers) [env STANCE_ENCODER_THREADS].",
)
@click.option(
    "--pin-cores/--no-pin-cores",
    default=True,
    show_default=True,
    envvar="STANCE_PIN_CORES",
    help="Keep each worker on its own share of the cores when there are at least as many "
    "cores as workers [env STANCE_PIN_CORES].",
)
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option("--dev", is_flag=True, help="Run Flask's development server instead of gunicorn.")
def serve(
    bind,
    workers,
    threads,
    timeout,
    read_timeout,
    model,
    encoder_threads,
    pin_cores,
    access_log,
    dev,
):
    """Serve the HTTP API (POST /stance, /model, /health, /ready, /metrics, /docs)."""
    try:
        config = ServiceConfig.from_env(model=model, encoder_threads=encoder_threads)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected host:port, got {bind!r}", param_hint="--bind")
    from training.bundle import check_bundle

    # A missing or modified bundle is the user's to fix: one message and exit 2 here, not a
    # traceback from every worker that fails to boot.
    check_bundle(config.model, root=config.models_dir)
    if dev:
        if config.encoder_threads is None:
            config = replace(config, encoder_threads=encoder_threads_per_worker(1))
        serve_dev(config, host, int(port))
        return
    options = ServeOptions(
        bind=bind,
        workers=workers,
        threads=threads,
        timeout=timeout,
        access_log=access_log,
        pin_cores=pin_cores,
        read_timeout=read_timeout,
    )
    serve_gunicorn(config, options)
