"""Shared fixtures: the real embedding model and spaCy pipeline, the default bundle, ../shared
data, and a real `stance serve` process on a free loopback port (with the helpers to wait for
it)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STANCE_SHARED", ROOT.parent / "shared"))
SEEDS = ROOT / "seeds"
SEED_ARTICLE = SEEDS / "000_110a16ce1dc0950b.txt"


@pytest.fixture(scope="session")
def embedder():
    """The real default embedding model, loaded once per test session."""
    from training import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def default_bundle(embedder):
    """The committed default bundle (models/default), verified and loaded."""
    from training import load_bundle

    return load_bundle("default", root=ROOT / "models", embedder=embedder)


@pytest.fixture(scope="session")
def nlp():
    """The real spaCy pipeline of quote extraction, loaded once per test session."""
    from service.extraction import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (benchmarks, archives); tests that need it skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    return SHARED


@pytest.fixture(scope="session")
def small_seed_csv(tmp_path_factory) -> Path:
    """About 130 seed quotes (15 per stance label and target, 24 per sentiment): fast to train."""
    import pandas as pd

    seeds = pd.read_csv(SEEDS / "quotes.csv")
    chosen = set(seeds.groupby(["target", "stance"]).head(15)["id"])
    chosen |= set(seeds.groupby("sentiment").head(24)["id"])
    path = tmp_path_factory.mktemp("seeds") / "small.csv"
    seeds[seeds["id"].isin(chosen)].to_csv(path, index=False)
    return path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], object], timeout: float = 90, what: str = "condition"
) -> None:
    """Poll `predicate` until it is true; connection errors count as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:  # includes urllib's URLError: the server is not listening yet
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class StanceServer:
    """A running `stance serve` process and where it listens."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _ready(server: StanceServer) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(
            f"stance serve exited with {server.process.returncode}:\n{server.log_tail()}"
        )
    try:
        with urllib.request.urlopen(server.url + "/ready", timeout=5) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return False


@contextlib.contextmanager
def running_stance_server(
    log: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[StanceServer]:
    """`stance serve` on a free port until /ready answers 200; killed after, its log on stderr.

    pytest shows a test's stderr when it fails, so the server's log comes with every failure.
    """
    port = free_port()
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"} | (env or {})
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "service.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [*command, *args], env=environment, stdout=sink, stderr=sink, cwd=ROOT
        )
    server = StanceServer(process, port, log)
    try:
        wait_until(lambda: _ready(server), timeout=120, what=f"{server.url}/ready")
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        sys.stderr.write(f"--- stance serve log ({log}) ---\n{server.log_tail()}\n")


@pytest.fixture(scope="session")
def stance_server():
    """Start a real `stance serve`: `with stance_server(log, env, args) as server: ...`."""
    return running_stance_server


@pytest.fixture(scope="session", name="wait_until")
def wait_until_fixture():
    """`wait_until(predicate, timeout, what)`: poll until true, else fail naming `what`."""
    return wait_until


@pytest.fixture(scope="session", name="free_port")
def free_port_fixture():
    """`free_port()`: a loopback port nobody listens on."""
    return free_port
