"""Where chunks are scored: in this process, or on a Dask cluster with one model per worker."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from service.batch.readers import Chunk
from service.batch.scorer import ScoreCache, score_texts
from training import Bundle, load_bundle


@dataclass(frozen=True)
class ScoringTask:
    """What a worker needs to score one chunk: the values and read problems, nothing else."""

    values: list
    problems: list[str | None]


class LocalEngine:
    """Scores chunks one after another in this process, with one cross-chunk cache.

    The encoder uses every core this process may use ($STANCE_ENCODER_THREADS changes it); for
    more throughput across machines use `--engine dask`.
    """

    def __init__(self, bundle: Bundle, targets: list[str], batch_size: int = 64):
        self.bundle, self.targets, self.batch_size = bundle, targets, batch_size
        self.cache = ScoreCache()

    def score(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Each chunk with its score columns, in order."""
        for chunk in chunks:
            yield (
                chunk,
                score_texts(
                    self.bundle.model,
                    chunk.texts,
                    self.targets,
                    problems=chunk.problems,
                    cache=self.cache,
                    batch_size=self.batch_size,
                ),
            )

    def close(self) -> None:
        """Nothing to release."""


class DaskEngine:
    """Scores chunks on a Dask cluster: `scheduler` address, or a LocalCluster of `workers`."""

    def __init__(
        self,
        bundle: Bundle,
        targets: list[str],
        batch_size: int = 64,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
    ):
        from distributed import Client, LocalCluster

        self.targets, self.batch_size = targets, batch_size
        self.bundle_path = str(bundle.path)
        self.models_root = str(Path(bundle.path).parent)
        self.expected = _model_identity(bundle)
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self.cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
        self.window = 2 * max(1, len(self.client.scheduler_info()["workers"]))

    def score(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Each chunk with its score columns, in order; at most 2 chunks per worker in flight."""
        pending: deque = deque()
        for chunk in chunks:
            pending.append((chunk, self._submit(chunk)))
            if len(pending) >= self.window:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def _submit(self, chunk: Chunk):
        task = ScoringTask(chunk.texts, chunk.problems)
        return self.client.submit(
            score_on_worker,
            self.bundle_path,
            self.models_root,
            self.expected,
            task,
            self.targets,
            self.batch_size,
            pure=False,
        )

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster when this engine started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _model_identity(bundle: Bundle) -> dict:
    """What must be equal on every worker for scores to be equal: bundle bytes and encoder."""
    sha256 = bundle.manifest.get("heads_sha256") or bundle.manifest["model_sha256"]
    return {"sha256": sha256, "encoder": bundle.model.embedder.encoder.to_dict()}


def score_on_worker(
    bundle_path: str,
    models_root: str,
    expected: dict,
    task: ScoringTask,
    targets: list[str],
    batch_size: int,
) -> pd.DataFrame:
    """Runs on a worker: the model and the cache are loaded once per worker process."""
    model, score_cache, identity = _worker_state(bundle_path, models_root)
    if identity["sha256"] != expected["sha256"]:
        raise RuntimeError(
            f"the worker loaded a different model from {bundle_path} (SHA-256 "
            f"{identity['sha256'][:12]}…, expected {expected['sha256'][:12]}…): "
            "the bundle changed during the run"
        )
    if identity["encoder"] != expected["encoder"]:
        raise RuntimeError(
            f"the worker encodes with {identity['encoder']}, the client with "
            f"{expected['encoder']}: install the same versions and STANCE_ENCODER on both"
        )
    return score_texts(
        model,
        task.values,
        targets,
        problems=task.problems,
        cache=score_cache,
        batch_size=batch_size,
    )


@cache
def _worker_state(bundle_path: str, models_root: str):
    bundle = load_bundle(bundle_path, root=Path(models_root))
    return bundle.model, ScoreCache(), _model_identity(bundle)


def make_engine(
    name: str,
    bundle: Bundle,
    targets: list[str],
    batch_size: int,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
):
    """The engine called `name` ("local" or "dask")."""
    if name == "dask" or scheduler:
        return DaskEngine(bundle, targets, batch_size, scheduler=scheduler, workers=workers)
    return LocalEngine(bundle, targets, batch_size)
