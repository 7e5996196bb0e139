"""The Dask engine: a real LocalCluster gives the local engine's bytes, one model per worker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.batch import score_files
from training import load_bundle

ROOT = Path(__file__).resolve().parents[1]
QUOTES = [
    "NATO allies must finally spend two percent of GDP on defence.",
    "We should cut the military budget and invest in schools instead.",
    "It is time to talk to Moscow and bring Russia back into the G8.",
    "Sanctions on Russia must stay until Crimea is returned.",
    "The weather in Brussels was grey on Thursday.",
    "Europe has to pay for its own security now.",
    "",
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, embedder):
    """A private copy of the default bundle, so retraining models/default cannot disturb us."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "models" / "default", root / "default")
    return load_bundle("default", root=root, embedder=embedder)


@pytest.mark.slow
def test_dask_local_cluster_writes_the_local_engines_bytes(bundle, tmp_path):
    from distributed import Client, LocalCluster

    source = tmp_path / "quotes.jsonl"
    rows = [{"id": i, "text": QUOTES[i % len(QUOTES)], "actor": "Obama"} for i in range(40)]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    options = {"bundle": bundle, "chunk_size": 6, "batch_size": 4, "progress": False}
    local = score_files([str(source)], tmp_path / "local.parquet", engine="local", **options)

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = score_files(
            [str(source)],
            tmp_path / "dask.parquet",
            scheduler=cluster.scheduler_address,
            actors=tmp_path / "actors.csv",
            **options,
        )
        with Client(cluster) as client:
            loads = client.run(
                lambda: __import__(
                    "service.batch.engines", fromlist=["_worker_state"]
                )._worker_state.cache_info()
            )
    assert (dask.rows, dask.errors) == (local.rows, local.errors) == (40, 5)
    assert (tmp_path / "dask.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()
    assert len(loads) == 2
    assert all(info.misses == 1 for info in loads.values())  # the model loaded once per worker
    assert sum(info.hits for info in loads.values()) == 7 - 2  # 7 chunks on 2 workers


@pytest.mark.slow
def test_dask_engine_starts_and_stops_its_own_local_cluster(bundle, tmp_path):
    source = tmp_path / "quotes.csv"
    source.write_text("text\n" + "\n".join(q or '""' for q in QUOTES) + "\n")
    result = score_files(
        [str(source)],
        tmp_path / "out.jsonl",
        engine="dask",
        workers=1,
        bundle=bundle,
        progress=False,
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert result.rows == len(QUOTES) == len(lines)
    assert lines[-1]["error"] == "text is empty"
    assert lines[0]["nato_spending_stance"] in {"favor", "against", "none"}
