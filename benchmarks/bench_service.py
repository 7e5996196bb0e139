"""Load benchmark of the HTTP service: a real gunicorn on a loopback port, bounded in time.

    python benchmarks/bench_service.py            # full run (~4 min, includes 2 min error phase)
    python benchmarks/bench_service.py --quick    # ~1 min smoke run

Prints: single-quote p50/p99 latency at concurrency 1, first with the PyTorch encoder
(STANCE_ENCODER=torch, the service before OpenVINO) and then with the default encoder;
throughput at 16 concurrent clients as a ratio of the batch-encode throughput (`model.score`
over the same texts in one process, same encoder) measured in the same run; errors during the
sustained phase; resident memory per worker; quotes per micro-batch under load, with the worker
CPU each request costs and how busy the workers are, and what the HTTP path alone costs (the
same requests refused before scoring). Loopback only; servers stop with SIGTERM.
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

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def quote_texts() -> list[str]:
    """Distinct quote texts from the seed training data."""
    with open(ROOT / "seeds" / "quotes.csv", newline="", encoding="utf-8") as stream:
        return list(dict.fromkeys(row["text"] for row in csv.DictReader(stream)))


def batch_throughput(texts: list[str], repeats: int) -> tuple[float, float, str]:
    """Best quotes/s of `model.score` on all texts at once (our batch path), of one plain
    `SentenceTransformer.encode` call + the heads, and the encoder that ran."""
    from training import QuoteBatch, load_bundle

    model = load_bundle().model
    transformer = model.embedder.sentence_transformer
    model.score(texts[:64])  # warm up

    def plain() -> None:
        vectors = transformer.encode(texts, batch_size=64, normalize_embeddings=True)
        model.score(texts, batch=QuoteBatch(texts, vectors))

    best = {}
    for name, run in (("ours", lambda: model.score(texts)), ("plain", plain)):
        best[name] = 0.0
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    return best["ours"], best["plain"], str(model.embedder.encoder)


class Server:
    """`stance serve` on a free loopback port, stopped with SIGTERM on exit."""

    def __init__(self, workers: int, threads: int, encoder: str | None = None):
        self.port = free_port()
        command = [sys.executable, "-m", "service.cli", "serve", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), "--threads", str(threads)]
        env = {**os.environ, **({"STANCE_ENCODER": encoder} if encoder else {})}
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, env=env)

    def __enter__(self) -> Server:
        wait_ready(self.port)
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
    import psutil

    return [c.memory_info().rss / 2**20 for c in psutil.Process(master_pid).children()]


def worker_cpu(master_pid: int) -> float:
    """CPU seconds the server's workers have used so far."""
    import psutil

    return sum(sum(c.cpu_times()[:2]) for c in psutil.Process(master_pid).children())


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases (about a minute)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    latency_count, load_seconds, error_seconds = (100, 10, 15) if args.quick else (400, 30, 120)

    texts = quote_texts()
    print(f"{len(texts)} distinct quotes; {os.cpu_count()} cores; workers={args.workers}")
    best, plain, encoder = batch_throughput(texts, repeats=1 if args.quick else 3)
    print(f"batch encode+score throughput ({encoder}): {best:.1f} quotes/s; "
          f"plain SentenceTransformer.encode + heads: {plain:.1f} quotes/s")  # fmt: skip

    with Server(args.workers, args.threads, encoder="torch") as server:
        times = latency(server.port, texts, latency_count)
        before = percentile(times, 50) * 1000
        print(f"before, PyTorch encoder: latency, 1 client, 1 quote: p50 {before:.1f} ms  "
              f"p99 {percentile(times, 99) * 1000:.1f} ms  (n={len(times)})")  # fmt: skip

    with Server(args.workers, args.threads) as server:
        times = latency(server.port, texts, latency_count)
        p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
        print(f"latency, 1 client, 1 quote: p50 {p50:.1f} ms  p99 {p99:.1f} ms  (n={len(times)}); "
              f"p50 before {before:.1f} ms, {before / p50:.1f}x faster")  # fmt: skip

        texts_before, batches_before = batch_totals(server.port)
        cpu_before = worker_cpu(server.process.pid)
        done, errors, _ = load(server.port, texts, 16, load_seconds)
        cpu = worker_cpu(server.process.pid) - cpu_before
        texts_after, batches_after = batch_totals(server.port)
        rate = done / load_seconds
        print(
            f"throughput, 16 clients: {rate:.1f} quotes/s = {rate / best:.2f} x batch throughput "
            f"({best:.1f} quotes/s; {rate / plain:.2f} x the plain encode's {plain:.1f}) "
            f"over {load_seconds} s, {errors} errors; "
            f"{(texts_after - texts_before) / (batches_after - batches_before):.1f} quotes "
            f"per micro-batch; {1000 * cpu / done:.2f} ms of worker CPU per request, workers "
            f"{cpu / (load_seconds * args.workers):.0%} busy"
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
        memory = worker_memory(server.process.pid)
        listed = ", ".join(f"{m:.0f}" for m in memory)
        print(f"resident memory per worker: {listed} MiB")


if __name__ == "__main__":
    main()
