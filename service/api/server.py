"""Production serving: gunicorn with the model loaded once per worker, SIGHUP reloads it.

Signals to the master process:
  SIGTERM  graceful shutdown: workers finish in-flight requests, then exit 0.
  SIGHUP   every worker reloads and verifies its bundle in the background and swaps it in
           atomically; requests keep being served by the old model meanwhile, and a bundle that
           fails verification is not swapped in. (Gunicorn's own SIGHUP would restart workers.)
Metrics are aggregated across workers through a PROMETHEUS_MULTIPROC_DIR created here.
Workers read each request whole before a thread runs it, so slow clients hold no thread
(`service.api.worker`).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, replace

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from service.api.config import ServiceConfig
from service.api.worker import BufferingWorker, ReadLimits

log = logging.getLogger(__name__)
_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class ServeOptions:
    """How gunicorn runs the app."""

    bind: str = "127.0.0.1:8000"
    workers: int = 2
    threads: int = 8
    timeout: int = 120
    graceful_timeout: int = 30
    access_log: bool = False
    pin_cores: bool = True  # each worker on its own share of the cores (when there are enough)
    read_timeout: float = 30.0  # seconds a client has to send a whole request (then 408)


def encoder_threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Encoder threads per worker so that all workers together use each core once."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, workers))


def worker_core_sets(workers: int, cores: list[int]) -> list[set[int]] | None:
    """The cores of each worker slot: `cores` split evenly, or None if workers outnumber them.

    A worker kept on its own cores keeps its caches: 2 workers on 2 cores served about 6% more
    requests/s pinned than left to the scheduler (benchmarks/bench_service.py).
    """
    if not cores or workers > len(cores):
        return None
    share = len(cores) // workers
    return [set(cores[slot * share : (slot + 1) * share]) for slot in range(workers)]


class ModelReloadArbiter(Arbiter):
    """Gunicorn's master, except that SIGHUP reloads the model in place in every worker."""

    def handle_hup(self) -> None:
        self.log.info("SIGHUP: reloading the model in %d worker(s)", len(self.WORKERS))
        self.kill_workers(signal.SIGHUP)


class StanceServer(BaseApplication):
    """A gunicorn application serving `create_app(config)` with buffering gthread workers."""

    def __init__(self, config: ServiceConfig, options: ServeOptions):
        self.config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": self.options.bind,
            "workers": self.options.workers,
            "threads": self.options.threads,
            "worker_class": BufferingWorker,
            "timeout": self.options.timeout,
            "graceful_timeout": self.options.graceful_timeout,
            "preload_app": False,  # each worker loads its own model after the fork
            "accesslog": "-" if self.options.access_log else None,
            "pre_fork": _pre_fork,
            "post_fork": _post_fork,
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
            "proc_name": "stance",
            "control_socket_disable": True,  # several servers may run side by side
        }
        if os.path.isdir("/dev/shm"):  # heartbeat files in RAM: no stalls on slow container disks
            settings["worker_tmp_dir"] = "/dev/shm"
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        """Build the app in the worker, with the model verified and loaded before it serves."""
        from service.api.app import configure_encoder, create_app
        from training import load_bundle

        configure_encoder(self.config)
        bundle = load_bundle(self.config.model, root=self.config.models_dir)
        return create_app(self.config, bundle=bundle)

    def run(self) -> None:
        ModelReloadArbiter(self).run()

    @property
    def read_limits(self) -> ReadLimits:
        """What each worker buffers of a request before a thread runs it (see worker.py)."""
        return ReadLimits(self.config.max_body_bytes, self.options.read_timeout)

    @property
    def core_sets(self) -> list[set[int]] | None:
        if not self.options.pin_cores or not hasattr(os, "sched_setaffinity"):
            return None
        return worker_core_sets(self.options.workers, sorted(os.sched_getaffinity(0)))


def serve(config: ServiceConfig, options: ServeOptions) -> None:
    """Run gunicorn in the foreground until SIGTERM/SIGINT."""
    if config.encoder_threads is None:
        config = replace(config, encoder_threads=encoder_threads_per_worker(options.workers))
    # A micro-batch holds a few quotes: the tokenizer's own thread pool only adds threads that
    # compete with the workers for the cores (single-quote p50 6.3 -> 4.8 ms without it).
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    created, master = None, os.getpid()
    if not os.environ.get(_MULTIPROC):
        created = tempfile.mkdtemp(prefix="stance-metrics-")
        os.environ[_MULTIPROC] = created
    try:
        StanceServer(config, options).run()
    finally:
        # Forked workers unwind through here too when they exit; only the master cleans up.
        if created and os.getpid() == master:
            shutil.rmtree(created, ignore_errors=True)


def serve_dev(config: ServiceConfig, host: str, port: int) -> None:
    """Flask's development server (one process, threaded, model loaded before serving)."""
    from service.api.app import configure_encoder, create_app
    from training import load_bundle

    configure_encoder(config)
    bundle = load_bundle(config.model, root=config.models_dir)
    create_app(config, bundle=bundle).run(host=host, port=port, threaded=True, use_reloader=False)


def _state(worker):
    return worker.wsgi.extensions["stance"]


def _pre_fork(server, worker) -> None:
    """In the master: give the new worker the first core set no live worker holds."""
    taken = [getattr(w, "cores", None) for w in server.WORKERS.values()]
    free = [cores for cores in server.app.core_sets or [] if cores not in taken]
    worker.cores = free[0] if free else None


def _post_fork(server, worker) -> None:
    if worker.cores is not None:
        os.sched_setaffinity(0, worker.cores)


def _post_worker_init(worker) -> None:
    state = _state(worker)
    # The model's objects live as long as the worker: keep them out of every garbage collection
    # (2% more requests/s under load).
    gc.freeze()

    def reload_on_hup(signum, frame) -> None:
        state.holder.reload_in_background()

    signal.signal(signal.SIGHUP, reload_on_hup)
    signal.siginterrupt(signal.SIGHUP, False)


def _worker_exit(server, worker) -> None:
    wsgi = getattr(worker, "wsgi", None)
    if wsgi is not None:
        _state(worker).batcher.stop()


def _child_exit(server, worker) -> None:
    if os.environ.get(_MULTIPROC):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
