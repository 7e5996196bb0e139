"""The on-disk embedding cache of training: exact vectors, one model and encoder per file."""

from __future__ import annotations

import numpy as np
import pytest

from training.embedding_cache import EmbeddingCache

TEXTS = [
    "Allies must spend more on defence.",
    "Talks with Moscow should resume next month.",
    "The weather in the capital was grey.",
    "Two percent is a floor, not a ceiling.",
]


@pytest.fixture
def cache(embedder, tmp_path) -> EmbeddingCache:
    spec = embedder.scoring_spec
    return EmbeddingCache(f"{spec.fingerprint}|{embedder.encoder}", spec.dimension, root=tmp_path)


def test_a_cached_embedding_equals_a_fresh_one_bit_for_bit(embedder, cache, monkeypatch):
    monkeypatch.setitem(embedder.__dict__, "_cache", cache)
    first = embedder.vectors(TEXTS)  # computed, then stored
    assert len(cache) == len(TEXTS)
    again = embedder.vectors(list(reversed(TEXTS)))  # read back
    alone = {t: embedder.encode([t])[0] for t in TEXTS}  # fresh, one text per call
    for text in TEXTS:
        assert again[text].dtype == np.float32
        assert again[text].tobytes() == first[text].tobytes() == alone[text].tobytes()


def test_only_new_texts_are_embedded_on_a_second_run(embedder, cache, monkeypatch):
    monkeypatch.setitem(embedder.__dict__, "_cache", cache)
    embedder.vectors(TEXTS[:2])
    assert embedder.cached_count(TEXTS) == 2
    embedder.vectors(TEXTS)
    assert embedder.cached_count(TEXTS) == len(TEXTS) == len(cache)


def test_a_cache_written_by_another_embedding_model_is_never_used(embedder, cache, tmp_path):
    cache.put(dict(zip(TEXTS, embedder.encode(TEXTS), strict=True)))
    other = EmbeddingCache(
        f"0000000000000000|{embedder.encoder}", cache.dimension, root=tmp_path
    )  # another fingerprint: another model
    assert other.path != cache.path
    assert other.get(TEXTS) == {}
    another_encoder = EmbeddingCache(
        f"{embedder.scoring_spec.fingerprint}|torch 2.13.0 (f32, padded to x8)",
        cache.dimension,
        root=tmp_path,
    )
    assert another_encoder.get(TEXTS) == {}


def test_the_cache_stays_within_its_bound_dropping_the_least_recently_used(tmp_path):
    cache = EmbeddingCache("model|encoder", 4, root=tmp_path, max_entries=3)
    vectors = {f"text {i}": np.full(4, i, dtype=np.float32) for i in range(3)}
    cache.put(vectors)
    cache.get(["text 0"])  # used again: newer than texts 1 and 2
    cache.put({"text 3": np.full(4, 3, dtype=np.float32)})
    assert len(cache) == 3
    kept = set(cache.get([*vectors, "text 3"]))
    assert len(kept) == 3 and {"text 0", "text 3"} <= kept  # text 1 or 2 made room


def test_the_cache_can_be_turned_off(embedder, monkeypatch, tmp_path):
    monkeypatch.setenv("STANCE_EMBEDDING_CACHE", "off")
    assert embedder.cached_count(TEXTS) == 0
    vectors = embedder.vectors(TEXTS)
    assert set(vectors) == set(TEXTS)
