"""The bundle a worker serves, swapped atomically on reload; a failed reload keeps the old one."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from training import Bundle, load_bundle

log = logging.getLogger(__name__)


class ModelNotReady(RuntimeError):
    """No bundle is loaded yet (still loading, or the first load failed)."""


class ModelHolder:
    """Holds the served `Bundle`; requests read it once, reloads replace it in one assignment.

    A request that started on the old bundle finishes on it: bundles are immutable and the swap
    is a single reference assignment, so nothing is dropped and nothing sees a half-loaded model.
    """

    def __init__(self, loader: Callable[[str | None], Bundle], name: str | None = None):
        self._loader = loader
        self.name = name
        self._bundle: Bundle | None = None
        self._reload_lock = threading.Lock()
        self._attempted = threading.Event()
        self.load_error: str | None = None
        self.listeners: list[Callable[[Bundle | None, Bundle | None, str | None], None]] = []

    @classmethod
    def from_directory(cls, models_dir: Path | None, name: str | None) -> ModelHolder:
        """A holder loading verified bundles from `models_dir` (the default models directory)."""
        return cls(lambda n: load_bundle(n, root=models_dir), name)

    @classmethod
    def serving(cls, bundle: Bundle) -> ModelHolder:
        """A holder already serving `bundle` (reloads read from the bundle's directory)."""
        holder = cls(lambda n: load_bundle(n or bundle.path, root=bundle.path.parent))
        holder.name = str(bundle.path)
        holder._bundle = bundle
        holder._attempted.set()
        return holder

    @property
    def bundle(self) -> Bundle | None:
        """The bundle being served, or None before the first successful load."""
        return self._bundle

    @property
    def attempted(self) -> bool:
        """True once the first load has finished, successfully or not."""
        return self._attempted.is_set()

    def require(self) -> Bundle:
        """The served bundle, or ModelNotReady."""
        bundle = self._bundle
        if bundle is None:
            state = "failed to load: " + self.load_error if self.load_error else "is loading"
            raise ModelNotReady(f"the model {state}")
        return bundle

    def reload(self, name: str | None = None) -> Bundle:
        """Load and verify `name` (default: the current one), then swap it in; raises on failure."""
        with self._reload_lock:
            wanted = name or self.name
            old = self._bundle
            try:
                bundle = self._loader(wanted)
            except Exception as error:
                if old is None:
                    self.load_error = str(error)
                log.error("model load of %s failed, serving %s: %s", wanted, _v(old), error)
                self._notify(old, None, str(error))
                raise
            finally:
                self._attempted.set()
            self._bundle, self.name, self.load_error = bundle, wanted, None
            log.info("serving model %s (was %s)", bundle.version, _v(old))
            self._notify(old, bundle, None)
            return bundle

    def reload_in_background(self, name: str | None = None) -> threading.Thread:
        """Start `reload` in a daemon thread (errors are logged and kept in `load_error`)."""

        def run() -> None:
            with contextlib.suppress(Exception):  # reload logs it and keeps it in load_error
                self.reload(name)

        thread = threading.Thread(target=run, name="stance-model-load", daemon=True)
        thread.start()
        return thread

    def _notify(self, old: Bundle | None, new: Bundle | None, error: str | None) -> None:
        for listener in self.listeners:
            listener(old, new, error)


def _v(bundle: Bundle | None) -> str:
    return bundle.version if bundle else "nothing"
