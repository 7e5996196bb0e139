"""How quotes are encoded when scoring: the converted OpenVINO model, or PyTorch for reference.

Bundles are trained and fingerprinted on the reference encoding (sentence-transformers on
PyTorch in float32, `Embedder.encode_reference`). Scoring uses one of:

- `openvino` (the default): the sentence-transformers module (transformer, pooling,
  normalisation) converted once to an OpenVINO model on disk (`training.encoder_cache`) and
  tokenised with the `tokenizers` library from the model's own `tokenizer.json`. Importing it
  loads neither PyTorch nor transformers. OpenVINO computes in bfloat16 where the CPU has BF16
  instructions and in float32 elsewhere (`EncoderInfo` records which): several times the
  reference's throughput with the same TweetEval F_avg (`benchmarks/bench_batch.py`).
- `torch`: the float32 reference itself, one text per call (slow; for comparison).

`STANCE_ENCODER` (or the `encoder` argument) picks one; `auto`, the default, takes OpenVINO and
falls back to torch with a warning when OpenVINO cannot convert or compile the model here.

The OpenVINO encoder pads each text to its token count rounded up to a multiple of
`PAD_TO_MULTIPLE` and embeds texts of equal padded length together, so each row's embedding is
bit-identical whatever else shares its batch: a score is a function of the text alone, and
de-duplication, micro-batches, resumed jobs and Dask workers never change it. The rounding lets
the few quotes of an API micro-batch share a few inference calls instead of one per length.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np

ENCODERS = ("auto", "openvino", "torch")
PAD_TO_MULTIPLE = 8


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


def encoder_threads() -> int:
    """Inference threads of this process: $STANCE_ENCODER_THREADS, else $OMP_NUM_THREADS (which
    Dask sets for its workers), else the cores it may use."""
    configured = os.environ.get("STANCE_ENCODER_THREADS", "").strip()
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not configured and omp.isdigit() and int(omp) > 0:
        return int(omp)
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise EncoderError(
                f"STANCE_ENCODER_THREADS must be a positive integer, not {configured!r}"
            )
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def set_encoder_threads(threads: int) -> None:
    """Give encoders loaded later in this process `threads` inference threads."""
    os.environ["STANCE_ENCODER_THREADS"] = str(threads)


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

    The same arithmetic as sklearn's `normalize` (identical bits), without its input checks.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    norms[norms < 10 * np.finfo(vectors.dtype).eps] = 1.0
    vectors /= norms[:, np.newaxis]
    return vectors


def release_mapped_pages(directory: Path) -> int:
    """Unmap this process's resident pages of read-only file mappings under `directory`.

    Returns the bytes of the mappings advised. OpenVINO maps the compiled model's cache blob (86
    MiB of float32 weights for MiniLM-L6) and reads all of it while loading, then computes with
    its own repacked copy; the mapped pages stayed resident and counted in every worker's memory
    (docs/service.md). `madvise(MADV_DONTNEED)` on a read-only shared file mapping only removes
    the pages from this process's page tables: the file's bytes stay in the page cache (shared,
    reclaimable), and a page the runtime touches again is faulted back in from the file with the
    same bytes, so embeddings do not change (tests/test_encoders.py). Writable mappings are left
    alone. Linux only: elsewhere (no /proc/self/maps) nothing is done and 0 is returned.
    """
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as stream:
            lines = stream.read().splitlines()
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    inside = str(Path(directory).resolve()) + os.sep
    released = 0
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith(inside) or "w" in fields[1]:
            continue
        start, end = (int(address, 16) for address in fields[0].split("-"))
        if madvise(start, end - start, _MADV_DONTNEED) == 0:
            released += end - start
    return released


_MADV_DONTNEED = 4  # Linux <sys/mman.h>


def import_openvino():
    """The `openvino` module, imported without its usage telemetry.

    Importing openvino imports its model converter, which (openvino 2026 with openvino-telemetry
    2025.2, when ~/intel holds no consent file) sends a usage event to Google Analytics on every
    import, from a process forked for the purpose (`openvino_telemetry.backend.backend_ga4`,
    seen here with a traced `os.fork`). A scoring service must not send anything anywhere, and
    must not fork behind its own back. With `openvino_telemetry` made unimportable, the converter
    uses its own no-op stub (`openvino.tools.ovc.telemetry_stub`, its fallback when the package is
    missing). Importing `openvino_telemetry` in the same process fails afterwards.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # None: `import` raises ImportError
    import openvino

    return openvino


class OpenVinoEncoder:
    """The converted sentence encoder (an OpenVINO IR directory) with its own tokenizer.

    `directory` holds `model.xml`/`model.bin`, `tokenizer.json` and `encoder.json` (input names,
    sequence limit, padding ids, dimension), as written by `training.encoder_cache`.
    """

    def __init__(self, directory: Path, settings: dict, threads: int):
        from tokenizers import Tokenizer

        ov = import_openvino()

        self.directory = Path(directory)
        self.inputs: list[str] = settings["inputs"]
        self.max_length: int = settings["max_seq_length"]
        self.dimension: int = settings["dimension"]
        self._pads = defaultdict(int, settings["pad_ids"])
        self._lower = bool(settings.get("do_lower_case"))
        self.tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        core = ov.Core()
        # The compiled model is cached next to the IR: a rebuilt entry never meets an old blob.
        core.set_property({"CACHE_DIR": str(self.directory / "compiled")})
        # With several threads, one stream of one thread each: the equal-length batches of a
        # call run side by side, each on its own core, which embeds 6,000 texts in 10.8 s
        # instead of 13.3 s on two cores, with identical bits. With one thread (a service
        # worker on its core) one synchronous request: a queue's callbacks cost a single-quote
        # call several milliseconds (docs/batch.md). No pinning: every process would pin its
        # threads to the same first cores (two service workers measured 100 requests/s pinned,
        # 280 not).
        config = {
            "PERFORMANCE_HINT": "THROUGHPUT" if threads > 1 else "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
            "ENABLE_CPU_PINNING": False,
        }
        if threads > 1:
            config["NUM_STREAMS"] = threads
        self.compiled = core.compile_model(str(self.directory / "model.xml"), "CPU", config)
        self._request = self.compiled.create_infer_request() if threads == 1 else None
        self._requests = ov.AsyncInferQueue(self.compiled, threads) if threads > 1 else None
        self._lock = threading.Lock()
        self.info = EncoderInfo(
            "openvino",
            metadata.version("openvino"),
            self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string(),
        )
        # The runtime finishes loading the weights on its first inference; then the mapped
        # float32 pages are no longer needed in this process.
        self.encode(["warm-up"], 1)
        release_mapped_pages(self.directory)

    def tokenize(self, texts: list[str]) -> list:
        """The model's tokens of each text (special tokens in, truncated to the limit)."""
        prepared = [t.strip().lower() if self._lower else t.strip() for t in texts]
        return self.tokenizer.encode_batch(prepared)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens of each text before truncation, special tokens included."""
        prepared = [t.strip().lower() if self._lower else t.strip() for t in texts]
        return [len(e.ids) for e in self._untruncated.encode_batch(prepared)]

    @cached_property
    def _untruncated(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return tokenizer

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """L2-normalised float32 embeddings of `texts`, in order."""
        encodings = self.tokenize(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
        }
        lengths = [len(ids) for ids in columns["input_ids"]]
        padded = [padded_length(n, self.max_length) for n in lengths]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)

        def batches() -> Iterator[tuple[list[int], list[np.ndarray]]]:
            for indices in equal_length_batches(padded, batch_size):
                arrays = []
                for name in self.inputs:
                    array = np.full((len(indices), padded[indices[0]]), self._pads[name], np.int64)
                    for row, i in enumerate(indices):
                        array[row, : lengths[i]] = columns[name][i]
                    arrays.append(array)
                yield indices, arrays

        def finished(request, indices: list[int]) -> None:
            out[indices] = request.get_output_tensor(0).data

        # The arrays are built for each call alone: OpenVINO may read them without a copy.
        with self._lock:  # one request (or queue of requests) per encoder, one call at a time
            if self._requests is None:
                for indices, arrays in batches():
                    out[indices] = self._request.infer(arrays, share_inputs=True)[0]
            else:
                self._requests.set_callback(finished)
                inputs = []  # kept alive until every request is done
                for indices, arrays in batches():
                    inputs.append(arrays)
                    self._requests.start_async(arrays, indices, share_inputs=True)
                self._requests.wait_all()
        return unit_rows(out)


class TorchEncoder:
    """The float32 reference (sentence-transformers on PyTorch), one text per call so that each
    row is bit-identical however texts are batched."""

    def __init__(self, model):
        self.model = model
        self.dimension = int(model.get_embedding_dimension())
        self.max_length = int(model.max_seq_length)
        self.info = EncoderInfo("torch", metadata.version("torch"), "f32")

    def token_counts(self, texts: list[str]) -> list[int]:
        tokenizer = self.model.tokenizer
        return [len(tokenizer(t.strip())["input_ids"]) for t in texts]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return unit_rows(out)
