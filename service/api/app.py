"""The Flask application factory: configuration in, a ready-to-serve WSGI app out."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, request

from service.actors import read_aliases
from service.api.analysis import analysis
from service.api.batching import MicroBatcher
from service.api.config import ServiceConfig
from service.api.errors import register_error_handlers
from service.api.metrics import ServiceMetrics
from service.api.model_holder import ModelHolder
from service.api.routes import api
from service.web import web
from training import Bundle
from training.encoders import set_encoder_threads

EXTENSION = "stance"


@dataclass
class ServiceState:
    """What the routes need, kept in `app.extensions["stance"]` (no module globals)."""

    config: ServiceConfig
    holder: ModelHolder
    batcher: MicroBatcher
    metrics: ServiceMetrics
    aliases: dict[str, str]
    extract_quotes: Callable | None


def create_app(config: ServiceConfig | None = None, bundle: Bundle | None = None) -> Flask:
    """The service app; loads `config.model` in the background unless `bundle` is given."""
    config = config or ServiceConfig.from_env()
    configure_encoder(config)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False
    metrics = ServiceMetrics()
    if bundle is not None:
        holder = ModelHolder.serving(bundle)
        metrics.model_changed(None, bundle, None)
    else:
        holder = ModelHolder.from_directory(config.models_dir, config.model)
    holder.listeners.append(metrics.model_changed)
    state = ServiceState(
        config=config,
        holder=holder,
        batcher=MicroBatcher(
            config.batch_max_size, config.batch_max_wait_ms, metrics.batch_size.observe
        ),
        metrics=metrics,
        aliases=read_aliases(config.actor_aliases),
        extract_quotes=find_quote_extractor(),
    )
    app.extensions[EXTENSION] = state
    register_error_handlers(app)
    app.register_blueprint(api)
    app.register_blueprint(analysis)
    app.register_blueprint(web)
    _count_requests(app, metrics)
    if bundle is None:
        holder.reload_in_background()
    return app


def configure_encoder(config: ServiceConfig) -> None:
    """Apply `config.encoder_threads` to this process's encoder (None: every core it may use)."""
    if config.encoder_threads:
        set_encoder_threads(config.encoder_threads)


def service_state(app: Flask) -> ServiceState:
    """The service state of an app made by `create_app`."""
    return app.extensions[EXTENSION]


def find_quote_extractor() -> Callable | None:
    """`service.extraction.extract_quotes` when quote extraction is installed, else None.

    Imported on first use: spaCy costs ~80 MB per worker that only article mode needs.
    """
    if importlib.util.find_spec("service.extraction") is None:
        return None

    def extract_quotes(text: str) -> list:
        from service.extraction import extract_quotes as extract

        return extract(text)

    return extract_quotes


def _count_requests(app: Flask, metrics: ServiceMetrics) -> None:
    @app.before_request
    def start_clock() -> None:
        g.stance_started = time.perf_counter()

    @app.after_request
    def count(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        started = g.get("stance_started")
        if started is not None:
            metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response
