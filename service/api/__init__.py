"""The HTTP service: a Flask app factory, micro-batched scoring and a gunicorn launcher.

app = create_app(ServiceConfig.from_env())     # STANCE_* variables; model loads in background
app = create_app(config, bundle=load_bundle()) # serve an already loaded bundle
`stance serve` runs it under gunicorn; `stance serve --dev` under Flask's server.

Exports are resolved lazily so that importing the CLI does not import Flask or
prometheus_client before `stance serve` sets up multi-process metrics.
"""

from __future__ import annotations

__all__ = ["ServiceConfig", "create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from service.api.app import create_app

        return create_app
    if name == "ServiceConfig":
        from service.api.config import ServiceConfig

        return ServiceConfig
    raise AttributeError(f"module 'service.api' has no attribute {name!r}")
