"""Shared fixtures: the real embedding model and spaCy pipeline, the default bundle, ../shared."""

from __future__ import annotations

import os
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
