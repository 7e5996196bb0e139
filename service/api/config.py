"""Service configuration as data: one frozen dataclass, read from STANCE_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the HTTP service can be told; each field has a STANCE_<FIELD> variable."""

    models_dir: Path | None = None  # default: training.models_dir()
    model: str | None = None  # bundle name or path inside models_dir; default "default"
    api_token: str | None = None  # when set, /stance, /model and /admin/* need a bearer token
    actor_aliases: Path | None = None  # CSV alias,canonical
    max_body_bytes: int = 1_000_000
    max_quotes: int = 1000
    max_text_chars: int = 5000
    max_article_chars: int = 100_000
    max_file_quotes: int = 10_000  # rows of one uploaded quotes file (POST /files/quotes)
    batch_max_size: int = 64
    batch_max_wait_ms: float = 2.0
    request_timeout_s: float = 120.0  # how long a request waits for its micro-batch
    encoder_threads: int | None = None  # None: every core this process may use

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> ServiceConfig:
        """Read STANCE_* variables (empty ones count as unset); keyword overrides win."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in fields(cls):
            raw = environ.get(f"STANCE_{spec.name.upper()}", "").strip()
            if raw:
                values[spec.name] = _parse(spec.name, spec.type, raw)
        config = cls(**values)
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

    def __post_init__(self) -> None:
        limits = ("max_body_bytes", "max_quotes", "max_text_chars", "max_article_chars")
        limits += ("max_file_quotes",)
        for name in (*limits, "batch_max_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.batch_max_wait_ms < 0:
            raise ConfigError(f"batch_max_wait_ms must be >= 0, not {self.batch_max_wait_ms}")
        if self.encoder_threads is not None and self.encoder_threads < 1:
            raise ConfigError(f"encoder_threads must be at least 1, not {self.encoder_threads}")


def _parse(name: str, annotation: str, raw: str):
    variable = f"STANCE_{name.upper()}"
    try:
        if annotation.startswith("int"):
            return int(raw)
        if annotation.startswith("float"):
            return float(raw)
    except ValueError:
        kind = "an integer" if annotation.startswith("int") else "a number"
        raise ConfigError(f"{variable} must be {kind}, got {raw!r}") from None
    if annotation.startswith("Path"):
        return Path(raw)
    return raw
