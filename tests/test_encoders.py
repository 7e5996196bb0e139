"""Scoring encoders: OpenVINO and PyTorch, row-deterministic, close to the float32 reference."""

from __future__ import annotations

import numpy as np
import pytest

from training.encoders import (
    EncoderError,
    equal_length_batches,
    padded_length,
    requested_encoder,
    unit_rows,
)

TEXTS = [
    "Quote one about NATO.",
    "Quote two about NATO.",
    "Quote six about NATO.",
    "NATO allies must finally spend two percent of GDP on defence.",
    "It is time to talk to Moscow and bring Russia back into the G8.",
    "No.",
]


@pytest.fixture(scope="module", params=["openvino", "torch"])
def encoder_embedder(request, embedder):
    """An embedder on the named encoder, sharing the session's loaded model."""
    return embedder.with_encoder(request.param)


def test_equal_length_batches_group_indices_by_length_shortest_first():
    batches = list(equal_length_batches([5, 3, 5, 5, 3, 9], batch_size=2))
    assert batches == [[1, 4], [0, 2], [3], [5]]


def test_texts_are_padded_to_a_multiple_of_8_within_the_sequence_limit():
    assert [padded_length(n, 256) for n in (1, 8, 9, 17, 250, 256)] == [8, 8, 16, 24, 256, 256]
    assert padded_length(75, 77) == 77 and padded_length(75, None) == 80


def test_rows_are_scaled_to_unit_norm_exactly_as_sklearn_does():
    from sklearn.preprocessing import normalize

    vectors = np.random.default_rng(0).standard_normal((5, 384)).astype(np.float32)
    vectors[2] = 0.0
    assert np.array_equal(unit_rows(vectors.copy()), normalize(vectors))
    assert not unit_rows(vectors.copy())[2].any()


def test_each_text_is_embedded_exactly_as_if_alone(encoder_embedder):
    together = encoder_embedder.encode(TEXTS)
    alone = np.vstack([encoder_embedder.encode([text]) for text in TEXTS])
    in_pairs = np.vstack([encoder_embedder.encode(TEXTS[i : i + 2], 1) for i in range(0, 6, 2)])
    assert np.array_equal(together, alone)
    assert np.array_equal(together, in_pairs)


def test_encoders_stay_close_to_the_float32_reference(encoder_embedder):
    vectors = encoder_embedder.encode(TEXTS)
    reference = encoder_embedder.encode_reference(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.999


def test_the_encoder_that_ran_is_recorded(encoder_embedder):
    info = encoder_embedder.encoder
    assert info.backend == encoder_embedder.requested_encoder
    assert info.precision in {"bf16", "f32"}
    assert set(info.to_dict()) == {"backend", "version", "precision", "pad_to_multiple"}


def test_the_fingerprint_does_not_depend_on_the_encoder(encoder_embedder, embedder):
    assert encoder_embedder.spec == embedder.spec


def test_auto_prefers_openvino_here(embedder):
    pytest.importorskip("openvino")
    assert embedder.requested_encoder == "auto"
    assert embedder.encoder.backend == "openvino"


def test_an_unknown_encoder_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("STANCE_ENCODER", "tpu")
    with pytest.raises(EncoderError, match="STANCE_ENCODER must be one of auto, openvino, torch"):
        requested_encoder()
