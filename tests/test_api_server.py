"""A real gunicorn process: scores, reloads (HTTP and SIGHUP), survives a bad bundle, stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service.api.server import worker_core_sets

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token"
pytestmark = pytest.mark.slow


class Client:
    """Tiny JSON client for the server under test."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {TOKEN}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, kind = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers
        if kind.get_content_type() == "application/json":
            return status, json.loads(raw)
        return status, raw.decode()

    def version(self) -> str:
        status, body = self.call("GET", "/model")
        assert status == 200, body
        return body["version"]


def _set_version(bundle: Path, version: str) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["version"] = version
    (bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def models(tmp_path) -> Path:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / "default", models / "default")
    return models


@pytest.fixture
def server(models, tmp_path, stance_server):
    env = {"STANCE_MODELS_DIR": str(models), "STANCE_MODEL": "default", "STANCE_API_TOKEN": TOKEN}
    args = ("--workers", "1", "--threads", "4")
    with stance_server(tmp_path / "server.log", env, args) as running:
        yield running.process, Client(running.port)


def test_gunicorn_scores_reloads_and_stops_gracefully(server, models, wait_until):
    process, client = server
    quote = {"text": "NATO allies must spend more on defence.", "actor": "President Trump"}
    status, body = client.call("POST", "/stance", quote)
    assert status == 200, body
    assert body["quotes"][0]["actor"] == "Trump"
    assert body["model"]["version"] == "default"

    # Reload through the API while requests keep flowing: none of them fails.
    shutil.copytree(models / "default", models / "v2")
    _set_version(models / "v2", "v2")
    statuses: list[int | str] = []
    stop = threading.Event()

    def keep_scoring() -> None:
        while not stop.is_set():
            try:
                statuses.append(client.call("POST", "/stance", quote)[0])
            except OSError as error:  # a dropped connection counts as a failure
                statuses.append(repr(error))

    traffic = threading.Thread(target=keep_scoring)
    traffic.start()
    try:
        time.sleep(0.3)
        status, body = client.call("POST", "/admin/reload", {"model": "v2"})
        time.sleep(0.3)
    finally:
        stop.set()
        traffic.join(30)
    assert status == 200, body
    assert body == {"model": {"version": "v2"}, "previous": {"version": "default"}}
    assert statuses and set(statuses) == {200}
    assert client.version() == "v2"

    # SIGHUP to the master reloads the served bundle from disk.
    _set_version(models / "v2", "v3")
    process.send_signal(signal.SIGHUP)
    wait_until(lambda: client.version() == "v3", what="SIGHUP reload to v3")

    # A tampered bundle fails verification; the old model keeps serving (HTTP and SIGHUP).
    with open(models / "v2" / "heads.npz", "r+b") as stream:
        stream.seek(64)
        stream.write(b"tampered!")
    status, body = client.call("POST", "/admin/reload", {})
    assert status == 409, body
    assert body["error"]["code"] == "reload_failed"
    assert body["error"]["details"]["serving"] == "v3"
    process.send_signal(signal.SIGHUP)
    wait_until(
        lambda: (
            'stance_model_loads_total{outcome="failed"} 2.0' in client.call("GET", "/metrics")[1]
        ),
        what="the failed SIGHUP reload in /metrics",
    )
    status, body = client.call("POST", "/stance", quote)
    assert status == 200 and body["model"]["version"] == "v3"
    assert process.poll() is None

    # A worker that dies is replaced; metrics survive it and cover every worker.
    metrics = client.call("GET", "/metrics")[1]
    (worker,) = {
        line.split('pid="')[1].split('"')[0]
        for line in metrics.splitlines()
        if line.startswith("stance_model_info{")
    }
    os.kill(int(worker), signal.SIGKILL)
    wait_until(
        lambda: (
            f'pid="{worker}"' not in client.call("GET", "/metrics")[1]
            and client.call("GET", "/ready")[0] == 200
        ),
        what="a replacement worker",
    )
    served = 'stance_http_requests_total{method="POST",route="/stance",status="200"}'
    assert served in client.call("GET", "/metrics")[1]

    # SIGTERM while a long request is in flight: it completes, then the server exits 0.
    many = {
        "quotes": [{"text": f"Quote {i} about NATO budgets.", "actor": "A"} for i in range(300)]
    }
    in_flight: list = []
    slow = threading.Thread(target=lambda: in_flight.append(client.call("POST", "/stance", many)))
    slow.start()
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    slow.join(60)
    assert process.wait(timeout=60) == 0
    status, body = in_flight[0]
    assert status == 200 and len(body["quotes"]) == 300


@pytest.mark.parametrize("bundle", ["default", "missing"])
def test_serve_refuses_a_tampered_or_missing_bundle_with_one_message_and_exit_2(
    models, tmp_path, free_port, bundle
):
    with open(models / "default" / "heads.npz", "r+b") as stream:
        stream.seek(64)
        stream.write(b"tampered!")
    env = os.environ | {"STANCE_MODELS_DIR": str(models), "HF_HUB_OFFLINE": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "service.cli", "serve", "--workers", "1", "--model", bundle]
    result = subprocess.run(
        [*command, "--bind", f"127.0.0.1:{free_port()}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    expected = "does not match its manifest" if bundle == "default" else "no bundle at"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_workers_get_disjoint_even_shares_of_the_cores():
    assert worker_core_sets(2, [0, 1]) == [{0}, {1}]
    assert worker_core_sets(2, [0, 1, 2, 3, 4]) == [{0, 1}, {2, 3}]
    assert worker_core_sets(1, [3, 5]) == [{3, 5}]
    assert worker_core_sets(3, [0, 1]) is None  # more workers than cores: left to the scheduler
