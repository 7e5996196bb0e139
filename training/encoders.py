"""How quotes are encoded when scoring: OpenVINO compiled for this CPU, or PyTorch.

Bundles are trained and fingerprinted on the reference encoding (sentence-transformers in
float32, see `Embedder.encode_reference`). Scoring uses the fastest encoder that works here:

- `openvino`: the same sentence-transformers module (transformer, pooling, normalisation)
  converted in memory and compiled by OpenVINO for this CPU. It computes in bfloat16 where the
  CPU has BF16 instructions and in float32 elsewhere (OpenVINO chooses; `EncoderInfo` records
  which). Several times the reference's throughput, the same TweetEval F_avg
  (`benchmarks/bench_batch.py` prints both).
- `torch`: sentence-transformers on PyTorch in float32, one intra-op thread.

`STANCE_ENCODER` (or the `encoder` argument) picks one; `auto`, the default, takes OpenVINO and
falls back to torch when OpenVINO is missing or cannot compile the model.

Both encoders pad each text to its token count rounded up to a multiple of `PAD_TO_MULTIPLE`
and embed texts of equal padded length together. A text is padded the same way whatever else
is encoded with it, and each row's embedding is bit-identical whatever else shares its batch: a
score is a function of the text alone, so de-duplication, caches, micro-batches, resumed jobs
and Dask workers never change it. The rounding lets the few quotes of an API micro-batch share
a few transformer calls instead of making one call per distinct length.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import metadata

import numpy as np

ENCODERS = ("auto", "openvino", "torch")
PAD_TO_MULTIPLE = 8
log = logging.getLogger(__name__)


class EncoderError(RuntimeError):
    """The requested encoder cannot run here."""


@dataclass(frozen=True)
class EncoderInfo:
    """Which encoder computes the embeddings: recorded with batch outputs, shown by /model.

    Thread counts are not part of it: they do not change a single embedding.
    """

    backend: str
    version: str
    precision: str
    pad_to_multiple: int = PAD_TO_MULTIPLE

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        padding = f"padded to x{self.pad_to_multiple}"
        return f"{self.backend} {self.version} ({self.precision}, {padding})"


def requested_encoder(encoder: str | None = None) -> str:
    """The encoder asked for by argument or $STANCE_ENCODER (default auto), validated."""
    name = (encoder or os.environ.get("STANCE_ENCODER") or "auto").strip().lower()
    if name not in ENCODERS:
        source = "encoder" if encoder else "STANCE_ENCODER"
        raise EncoderError(f"{source} must be one of {', '.join(ENCODERS)}, not {name!r}")
    return name


def padded_length(tokens: int, limit: int | None) -> int:
    """The length a text of `tokens` tokens is padded to: the next multiple of PAD_TO_MULTIPLE,
    but never past the model's sequence limit, if it has one (texts are truncated to it)."""
    rounded = -(-tokens // PAD_TO_MULTIPLE) * PAD_TO_MULTIPLE
    return rounded if limit is None else min(rounded, max(tokens, limit))


def equal_length_batches(lengths: list[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped by equal token count, shortest first, at most `batch_size` per batch."""
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, length in enumerate(lengths):
        by_length[length].append(index)
    for length in sorted(by_length):
        group = by_length[length]
        for start in range(0, len(group), batch_size):
            yield group[start : start + batch_size]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """`vectors` scaled in place to unit L2 norm per row, rows of zeros left as they are.

    The same arithmetic as sklearn's `normalize` (identical bits), without its input checks,
    which cost more than the arithmetic on the few rows of an API micro-batch.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    norms[norms < 10 * np.finfo(vectors.dtype).eps] = 1.0
    vectors /= norms[:, np.newaxis]
    return vectors


# The model's own tokenisation, without padding: `_Encoder.encode` pads each text itself.
_UNPADDED = {"text": {"padding": False}, "common": {"return_tensors": None}}


class _Encoder:
    """Embeds texts in equal-length batches; subclasses embed one batch of token arrays."""

    info: EncoderInfo

    def __init__(self, model):
        self.model = model

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """L2-normalised float32 embeddings of `texts`, in order."""
        tokens = self.model.preprocess(texts, processing_kwargs=_UNPADDED)
        columns = {name: rows for name, rows in tokens.items() if isinstance(rows, list)}
        lengths = [len(ids) for ids in columns["input_ids"]]
        padded = [padded_length(n, self.model.max_seq_length) for n in lengths]
        out = np.zeros((len(texts), self.model.get_embedding_dimension()), dtype=np.float32)
        for indices in equal_length_batches(padded, batch_size):
            arrays = {}
            for name, rows in columns.items():
                array = np.full((len(indices), padded[indices[0]]), self._pads[name], np.int64)
                for row, i in enumerate(indices):
                    array[row, : lengths[i]] = rows[i]
                arrays[name] = array
            out[indices] = self._batch(arrays)
        return unit_rows(out)

    @cached_property
    def _pads(self) -> dict[str, int]:
        """The padding value of each model input (0 for the others: attention mask)."""
        tokenizer = self.model.tokenizer
        return defaultdict(
            int, input_ids=tokenizer.pad_token_id, token_type_ids=tokenizer.pad_token_type_id
        )

    def _batch(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class TorchEncoder(_Encoder):
    """sentence-transformers on PyTorch, float32, on one thread (bit-identical per row)."""

    def __init__(self, model):
        super().__init__(model)
        self.info = EncoderInfo("torch", metadata.version("torch"), "f32")

    def _batch(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        features = {name: torch.from_numpy(array) for name, array in arrays.items()}
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                return self.model(features)["sentence_embedding"].numpy()
        finally:
            torch.set_num_threads(before)


def _traceable(model, names: list[str]):
    """The sentence-transformers `model` as a module of positional tensors named `names`."""
    import torch

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    return SentenceEmbedding().eval()


class OpenVinoEncoder(_Encoder):
    """The sentence-transformers module compiled by OpenVINO for this CPU."""

    def __init__(self, model, threads: int):
        super().__init__(model)
        import openvino as ov
        import torch

        # Trace on a padded pair so the attention mask's path is part of the graph.
        example = model.preprocess(["Allies must spend more on defence.", "No."])
        self.inputs = [k for k, v in example.items() if isinstance(v, torch.Tensor)]
        with torch.no_grad(), warnings.catch_warnings():
            # Tracing fixes shape checks that are constant for this encoder-only model.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            converted = ov.convert_model(
                _traceable(model, self.inputs),
                example_input=tuple(example[k] for k in self.inputs),
            )
        # No pinning: every process would pin its threads to the same first cores (two service
        # workers measured 100 requests/s pinned, 280 not).
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
            "ENABLE_CPU_PINNING": False,
        }
        self.compiled = ov.Core().compile_model(converted, "CPU", config)
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()
        self.info = EncoderInfo(
            "openvino",
            metadata.version("openvino"),
            self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string(),
        )

    def _batch(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        inputs = [arrays[name] for name in self.inputs]
        with self._lock:  # one infer request; OpenVINO already uses every thread it was given
            # The arrays are built for this call alone: OpenVINO may read them without a copy.
            return self._request.infer(inputs, share_inputs=True)[0].copy()


def make_encoder(model, encoder: str | None = None) -> _Encoder:
    """The encoder asked for (see module doc) for a loaded sentence-transformers `model`."""
    import torch

    name = requested_encoder(encoder)
    if name == "torch":
        return TorchEncoder(model)
    try:
        return OpenVinoEncoder(model, threads=torch.get_num_threads())
    except Exception as error:  # ImportError, conversion or compilation failures
        if name == "openvino":
            raise EncoderError(f"OpenVINO cannot run the embedding model here: {error}") from error
        log.warning("OpenVINO unavailable (%s); encoding with PyTorch", error)
        return TorchEncoder(model)
