"""Load benchmark of the HTTP service: real gunicorn servers on loopback ports, bounded in time.

    python benchmarks/bench_service.py            # full run (~7 min, includes 2 min error phase)
    python benchmarks/bench_service.py --quick    # ~2 min smoke run

Three servers in one run, one after another, each with the same workers and threads:
- before: this service at an earlier revision (default: the last one whose scoring path ran
  PyTorch), checked out into a temporary worktree;
- plain peer: Flask + `SentenceTransformer.encode` + the bundle's scikit-learn heads, one
  encode per request (benchmarks/peers/plain_flask_stance.py);
- after: this checkout's `stance serve`.
For each: seconds from the process start to a 200 on /ready, single-quote p50/p99 latency at
concurrency 1, requests/s at 16 concurrent single-quote clients, resident memory per worker.
Ratios: our 16-client requests/s against the peer's and against our own batch path (`score` over
the same texts in one process). For ours also: quotes per micro-batch under load, worker CPU per
request and how busy the workers are, what the HTTP path alone costs (the same requests refused
before scoring), and errors during a sustained phase. Loopback only; servers stop with SIGTERM.

Targets (issue 15): 16-client requests/s >= 2x the peer and >= 0.5x our batch path; resident
memory <= 300 MiB per worker; p50 no worse than before. Exit code 1 when one is missed.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from revisions import BEFORE_RUNTIME_ENCODER, ROOT, checkout

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MAX_WORKER_MIB = 300


def quote_texts() -> list[str]:
    """Distinct quote texts from the seed training data."""
    with open(ROOT / "seeds" / "quotes.csv", newline="", encoding="utf-8") as stream:
        return list(dict.fromkeys(row["text"] for row in csv.DictReader(stream)))


def batch_throughput(texts: list[str], repeats: int) -> tuple[float, str]:
    """Best quotes/s of `score` on all texts at once (our batch path) and the encoder."""
    from training import load_bundle

    model = load_bundle().model
    model.score(texts[:64])  # warm up
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        model.score(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best, str(model.embedder.encoder)


class Server:
    """A server on a free loopback port, stopped with SIGTERM on exit: `stance serve` of the
    tree `tree`, or (tree None) the plain peer under gunicorn."""

    def __init__(self, workers: int, threads: int, tree: Path | None):
        self.port = free_port()
        bind = f"127.0.0.1:{self.port}"
        if tree is None:
            command = [sys.executable, "-m", "gunicorn", "-b", bind, "-k", "gthread"]
            command += ["-w", str(workers), "--threads", str(threads)]
            command += ["--chdir", str(ROOT / "benchmarks" / "peers"), "plain_flask_stance:app"]
            tree = ROOT
        else:
            command = [sys.executable, "-m", "service.cli", "serve", "--bind", bind]
            command += ["--workers", str(workers), "--threads", str(threads)]
        env = os.environ | {"PYTHONPATH": str(tree)}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=tree, stderr=subprocess.DEVNULL, env=env)

    def __enter__(self) -> Server:
        wait_ready(self.port)
        self.ready_after = time.perf_counter() - self.started
        time.sleep(2)  # let every worker finish loading
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        print(f"server stopped with SIGTERM, exit code {code}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """One keep-alive connection to the server."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, body: dict) -> int:
        payload = json.dumps(body)
        headers = {"Content-Type": "application/json"}
        try:
            self.connection.request("POST", "/stance", payload, headers)
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise


def wait_ready(port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def latency(port: int, texts: list[str], count: int) -> list[float]:
    session = Session(port)
    for text in texts[:20]:
        session.post({"text": text})
    times = []
    for i in range(count):
        started = time.perf_counter()
        status = session.post({"text": texts[i % len(texts)], "actor": "Speaker"})
        times.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"latency phase got HTTP {status}")
    return times


def load(
    port: int, texts: list[str], clients: int, seconds: float, refused_target: str | None = None
) -> tuple[int, int, list]:
    """Requests done and errors (broken connections or unexpected statuses) by `clients` threads
    posting single quotes; with `refused_target`, a target the model lacks, every request asks
    for it and is expected to be refused after parsing (422)."""
    extra, expected = ({"targets": [refused_target]}, 422) if refused_target else ({}, 200)
    done, errors, samples = [0] * clients, [0] * clients, []
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        session = Session(port)
        i = n * 97
        while time.monotonic() < stop:
            i += 1
            try:
                quote = {"text": texts[i % len(texts)], "actor": f"Speaker {n}"}
                status = session.post(quote | extra)
            except (OSError, http.client.HTTPException) as error:
                errors[n] += 1
                samples.append(repr(error))
                continue
            done[n] += 1
            if status != expected:
                errors[n] += 1
                samples.append(f"HTTP {status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), sum(errors), samples[:5]


def batch_totals(port: int) -> tuple[float, float]:
    """Texts and micro-batches encoded so far, from /metrics (all workers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    totals = {}
    for line in connection.getresponse().read().decode().splitlines():
        name, _, value = line.partition(" ")
        if name in ("stance_encode_batch_size_sum", "stance_encode_batch_size_count"):
            totals[name.rsplit("_", 1)[1]] = float(value)
    return totals["sum"], totals["count"]


def worker_memory(master_pid: int) -> list[float]:
    """Resident set size (MiB) of each worker: what the target is measured on."""
    import psutil

    return [c.memory_info().rss / 2**20 for c in psutil.Process(master_pid).children()]


def worker_pss(master_pid: int) -> list[float]:
    """Proportional set size (MiB) of each worker: pages shared with other processes (the mapped
    libraries and encoder weights) counted in fractions, so the sum is what the workers cost."""
    import psutil

    return [c.memory_full_info().pss / 2**20 for c in psutil.Process(master_pid).children()]


def worker_cpu(master_pid: int) -> float:
    """CPU seconds the server's workers have used so far."""
    import psutil

    return sum(sum(c.cpu_times()[:2]) for c in psutil.Process(master_pid).children())


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(server: Server, texts: list[str], latency_count: int, seconds: float) -> dict:
    """Ready time, single-quote latency, 16-client requests/s and worker memory of a server."""
    times = latency(server.port, texts, latency_count)
    done, errors, _ = load(server.port, texts, 16, seconds)
    return {
        "ready": server.ready_after,
        "p50": percentile(times, 50) * 1000,
        "p99": percentile(times, 99) * 1000,
        "rps": done / seconds,
        "errors": errors,
        "memory": worker_memory(server.process.pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--before", default=BEFORE_RUNTIME_ENCODER, help="git revision")
    args = parser.parse_args()
    latency_count, load_seconds, error_seconds = (100, 10, 15) if args.quick else (400, 30, 120)

    texts = quote_texts()
    print(f"{len(texts)} distinct quotes; {os.cpu_count()} cores; workers={args.workers}")
    best, encoder = batch_throughput(texts, repeats=1 if args.quick else 3)
    print(f"our batch path ({encoder}): {best:.1f} quotes/s")

    results = {}
    with checkout(args.before) as old:
        if old is not None:
            with Server(args.workers, args.threads, old) as server:
                results["before"] = measure(server, texts, latency_count, load_seconds)
    with Server(args.workers, args.threads, None) as server:
        results["plain peer"] = measure(server, texts, latency_count, load_seconds)
    with Server(args.workers, args.threads, ROOT) as server:
        texts_before, batches_before = batch_totals(server.port)
        cpu_before = worker_cpu(server.process.pid)
        results["after"] = ours = measure(server, texts, latency_count, load_seconds)
        cpu = worker_cpu(server.process.pid) - cpu_before
        texts_after, batches_after = batch_totals(server.port)
        requests = latency_count + ours["rps"] * load_seconds
        per_batch = (texts_after - texts_before) / (batches_after - batches_before)
        print(
            f"after, under load: {per_batch:.1f} quotes per micro-batch; "
            f"{1000 * cpu / requests:.2f} ms of worker CPU per request"
        )
        cpu_before = worker_cpu(server.process.pid)
        done, errors, _ = load(server.port, texts, 16, load_seconds / 3, refused_target="climate")
        cpu = worker_cpu(server.process.pid) - cpu_before
        print(f"HTTP alone, 16 clients, requests refused before scoring (422): "
              f"{1000 * cpu / done:.2f} ms of worker CPU per request, {errors} errors")  # fmt: skip
        done, errors, samples = load(server.port, texts, 16, error_seconds)
        print(f"sustained 16 clients for {error_seconds} s: {done} requests, {errors} errors")
        for sample in samples:
            print(f"  error: {sample}")
        ours["memory"] = worker_memory(server.process.pid)
        ours["pss"] = worker_pss(server.process.pid)
    report(results, best)


def report(results: dict, batch: float) -> None:
    print(f"{'server':12s}{'ready s':>9s}{'p50 ms':>8s}{'p99 ms':>8s}{'16 cl. req/s':>14s}"
          f"{'errors':>8s}  resident MiB per worker")  # fmt: skip
    for name, r in results.items():
        memory = ", ".join(f"{m:.0f}" for m in r["memory"])
        print(f"{name:12s}{r['ready']:9.1f}{r['p50']:8.1f}{r['p99']:8.1f}{r['rps']:14.1f}"
              f"{r['errors']:8d}  {memory}")  # fmt: skip
    ours, peer = results["after"], results["plain peer"]
    if "pss" in ours:
        print("after, proportional set size per worker (shared pages split): "
              + ", ".join(f"{m:.0f}" for m in ours["pss"]) + " MiB")  # fmt: skip
    checks = {
        "16-client req/s / plain peer's (>= 2)": (ours["rps"] / peer["rps"], 2.0),
        "16-client req/s / our batch path's (>= 0.5)": (ours["rps"] / batch, 0.5),
    }
    failed = []
    for name, (value, target) in checks.items():
        print(f"{name}: {value:.2f}")
        if value < target:
            failed.append(name)
    if max(ours["memory"]) > MAX_WORKER_MIB:
        failed.append(f"worker memory above {MAX_WORKER_MIB} MiB")
    if "before" in results:
        before = results["before"]
        print(f"p50 before/after: {before['p50']:.1f} / {ours['p50']:.1f} ms; ready before/after:"
              f" {before['ready']:.1f} / {ours['ready']:.1f} s")  # fmt: skip
        if ours["p50"] > before["p50"] * 1.1:
            failed.append("p50 worse than before")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if failed:
        sys.exit("missed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
