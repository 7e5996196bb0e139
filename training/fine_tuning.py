"""Fine-tuning the sentence encoder on labeled quotes, stored as a small delta of its weights.

The recipe (`fine_tune`), measured against the stock encoder by `benchmarks/compare_finetuning.py`
on folds of the real news train split (docs/training.md, "Fine-tuning the encoder"): every
transformer layer of the encoder (token and position embeddings frozen) is fitted, together
with a linear layer per target and one for sentiment over the normalised mean-pooled embedding
(scaled by `LOGIT_SCALE`), to the sum of their cross-entropies: AdamW at `LEARNING_RATE`,
batches of `BATCH_SIZE` quotes of similar length, `EPOCHS` epochs, texts cut at `MAX_TOKENS`
tokens. Where the CPU has bfloat16 instructions the forward pass runs in bfloat16 autocast
(about 30% faster here; the weights and the optimiser stay float32). The classification layers
are thrown away: the default heads (`training.model.StanceModel`) are then fitted on the new
encoder's embeddings, as on the stock encoder's.

A fine-tuned encoder is kept as `WeightsDelta`: the changed tensors minus the stock ones,
matrices as int8 with a float32 scale per row (symmetric, round to nearest), vectors in float32:
10 MB (compressed) for MiniLM-L6's six layers instead of 43 MB of float32 weights. The
fine-tuned model is always the stock model plus the dequantised delta, in training and in
scoring alike, so the heads are fitted on exactly the encoder that scores. `materialise`
writes it as a sentence-transformers directory in the cache (`$STANCE_CACHE_DIR/fine-tuned/
<sha>`), which the scoring path converts to OpenVINO and verifies like any other model
directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from training.directories import staged_directory
from training.embedding import (
    Embedder,
    EmbeddingError,
    FineTunedWeights,
    get_embedder,
    resolve_model_path,
)
from training.encoder_cache import cache_dir, locked
from training.scores import SENTIMENT_LABELS, STANCE_LABELS

EPOCHS = 2
LEARNING_RATE = 5e-5
BATCH_SIZE = 16
MAX_TOKENS = 128
LOGIT_SCALE = 10.0
WEIGHTS_FILE = "model.safetensors"
DELTA_FILE = "weights-delta.npz"
FINE_TUNED_DIR = "fine-tuned"
KEPT_DIRECTORIES = 4  # fine-tuned model directories kept in the cache (90 MB each)
_TUNED = "encoder.layer."  # the parameters fine-tuning changes (the transformer layers)
_IGNORED = -100  # a quote without a label for a classification layer (cross-entropy's default)
_DELTA_FORMAT = 1


class FineTuningError(EmbeddingError):
    """A weights delta that cannot be read or does not fit the stock model."""


def fine_tune(
    base_path: str | Path,
    frame: pd.DataFrame,
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
):
    """The sentence-transformers model at `base_path` fitted to classify `frame`'s quotes.

    `frame`: one row per (quote, target) with columns text, target, stance and sentiment (empty
    or NaN when absent). Returns the fitted SentenceTransformer in eval mode (PyTorch, CPU).
    `seed` fixes the classification layers' initial weights and the order of the batches;
    `progress(done, total)` is called after each optimiser step. Raises FineTuningError when
    `base_path` is not a model directory with a weights file.
    """
    stock_weights(base_path)  # a clear error, not one from deep inside the loading
    import torch

    from training.encoder_cache import load_sentence_transformer

    torch.manual_seed(seed)
    model = load_sentence_transformer(base_path)
    model.max_seq_length = MAX_TOKENS
    encoder = model[0].auto_model
    for name, parameter in encoder.named_parameters():
        parameter.requires_grad = name.startswith(_TUNED)
    targets = sorted(frame["target"].unique())
    names = [*targets, "sentiment"]
    dimension = model.get_embedding_dimension()
    layers = torch.nn.ModuleDict({n: torch.nn.Linear(dimension, 3) for n in names})
    trained = [p for p in encoder.parameters() if p.requires_grad] + list(layers.parameters())
    optimiser = torch.optim.AdamW(trained, lr=LEARNING_RATE)
    gold = _gold_labels(frame, names)
    batches = _length_batches(list(gold), seed)
    bfloat16 = _has_bfloat16_instructions(torch)
    order = random.Random(seed)
    total, done = epochs * len(batches), 0
    model.train()
    for _ in range(epochs):
        order.shuffle(batches)
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
                pooled = model(model.preprocess(batch))["sentence_embedding"].float()
            pooled = torch.nn.functional.normalize(pooled, dim=1) * LOGIT_SCALE
            loss = torch.zeros(())
            for index, name in enumerate(names):
                labels = torch.tensor([gold[text][index] for text in batch])
                if (labels != _IGNORED).any():
                    loss = loss + torch.nn.functional.cross_entropy(layers[name](pooled), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            done += 1
            if progress is not None:
                progress(done, total)
    model.eval()
    return model


def _has_bfloat16_instructions(torch) -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), as PyTorch reports it
    (private helpers of torch.cpu: absent ones count as no)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _gold_labels(frame: pd.DataFrame, names: list[str]) -> dict[str, list[int]]:
    """Each distinct quote's label index per classification layer (_IGNORED where unlabeled)."""
    gold: dict[str, list[int]] = {}
    for text, target, stance, sentiment in frame[
        ["text", "target", "stance", "sentiment"]
    ].itertuples(index=False):
        labels = gold.setdefault(text, [_IGNORED] * len(names))
        labels[names.index(target)] = STANCE_LABELS.index(stance)
        if isinstance(sentiment, str) and sentiment:
            labels[-1] = SENTIMENT_LABELS.index(sentiment)
    return gold


def _length_batches(texts: list[str], seed: int) -> list[list[str]]:
    """`texts` in batches of BATCH_SIZE of similar length (less padding: about a third faster
    here), ties in a seeded random order."""
    texts = sorted(texts)
    random.Random(seed).shuffle(texts)
    texts.sort(key=len)
    return [texts[i : i + BATCH_SIZE] for i in range(0, len(texts), BATCH_SIZE)]


class WeightsDelta:
    """Fine-tuned weights as a quantised difference from the stock model's.

    `arrays` maps "q:<name>" (int8, shape of the weight), "scale:<name>" (float32, one per row)
    and "v:<name>" (float32 vectors) for each changed tensor `<name>` of the transformer.
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    @classmethod
    def between(cls, stock: dict, tuned: dict) -> WeightsDelta:
        """The delta of the `tuned` state dict from `stock` (tensors by name) over the layers."""
        arrays: dict[str, np.ndarray] = {}
        for name, weight in tuned.items():
            if not name.startswith(_TUNED):
                continue
            delta = weight.detach().float().numpy() - stock[name].detach().float().numpy()
            if delta.ndim == 2:
                scale = np.abs(delta).max(axis=1) / 127
                scale[scale == 0] = 1.0
                arrays[f"q:{name}"] = np.round(delta / scale[:, None]).astype(np.int8)
                arrays[f"scale:{name}"] = scale.astype(np.float32)
            else:
                arrays[f"v:{name}"] = delta.astype(np.float32)
        return cls(arrays)

    def applied(self, stock: dict) -> dict:
        """`stock` (a state dict of float32 tensors) with the delta added: a new dict."""
        import torch

        state = dict(stock)
        for key, values in self.arrays.items():
            kind, name = key.split(":", 1)
            if name not in stock:
                raise FineTuningError(f"the weights delta changes {name}, which the model lacks")
            if kind == "q":
                change = values.astype(np.float32) * self.arrays[f"scale:{name}"][:, None]
            elif kind == "v":
                change = values
            else:
                continue
            if change.shape != tuple(stock[name].shape):
                raise FineTuningError(f"the weights delta of {name} has shape {change.shape}")
            state[name] = stock[name] + torch.from_numpy(np.ascontiguousarray(change))
        return state

    def save(self, path: Path) -> None:
        np.savez_compressed(path, format=np.int64(_DELTA_FORMAT), **self.arrays)

    @classmethod
    def load(cls, path: Path) -> WeightsDelta:
        """Raises FineTuningError when `path` is not a weights delta of this format."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {k: stored[k] for k in stored.files}
        except (OSError, ValueError) as error:
            raise FineTuningError(f"cannot read the weights delta {path}: {error}") from error
        if int(arrays.pop("format", -1)) != _DELTA_FORMAT:
            raise FineTuningError(f"{path} is not a weights delta of format {_DELTA_FORMAT}")
        return cls(arrays)


def quantised(model, base_path: str | Path) -> WeightsDelta:
    """The delta of a fine-tuned `model` from the stock weights at `base_path`; `model`'s own
    weights are replaced by stock + dequantised delta, so it embeds as the stored delta will."""
    from safetensors.torch import load_file

    encoder = model[0].auto_model
    stock = load_file(Path(base_path) / WEIGHTS_FILE)
    delta = WeightsDelta.between(stock, encoder.state_dict())
    encoder.load_state_dict(delta.applied(stock), strict=False)
    return delta


def fine_tuned_embedder(
    embedder: Embedder, frame: pd.DataFrame, *, seed: int = 0, progress=None
) -> Embedder:
    """An embedder of `embedder`'s model fine-tuned on `frame` (`fine_tune`), its weights delta
    stored in the cache (`store`); same scoring encoder."""
    base = resolve_model_path(embedder.name)
    tuned = fine_tune(base, frame, seed=seed, progress=progress)
    weights = store(quantised(tuned, base), base, cache_dir())
    return get_embedder(embedder.name, embedder.requested_encoder, weights)


def stock_weights(base_path: str | Path) -> Path:
    """The weights file of the model directory `base_path`; FineTuningError when there is none."""
    if not Path(base_path).is_dir():
        raise FineTuningError(
            f"embedding model {base_path} is not a directory: nothing to fine-tune"
        )
    path = Path(base_path) / WEIGHTS_FILE
    if not path.is_file():
        raise FineTuningError(
            f"{base_path} has no {WEIGHTS_FILE}: only such models can be fine-tuned"
        )
    return path


def training_steps(quotes: int, epochs: int = EPOCHS) -> int:
    """Optimiser steps of `fine_tune` on `quotes` distinct quotes."""
    return epochs * -(-quotes // BATCH_SIZE)


def store(delta: WeightsDelta, base_path: str | Path, cache_root: Path) -> FineTunedWeights:
    """`delta` saved into its own fine-tuned model directory (`materialise`): the weights an
    `Embedder` loads and a bundle copies."""
    import tempfile

    root = Path(cache_root) / FINE_TUNED_DIR
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tmp-delta-", dir=root) as scratch:
        path = Path(scratch) / DELTA_FILE
        delta.save(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        directory = materialise(base_path, FineTunedWeights(path, digest), cache_root)
    return FineTunedWeights(directory / DELTA_FILE, digest)


def materialise(base_path: str | Path, weights: FineTunedWeights, cache_root: Path) -> Path:
    """A sentence-transformers directory of the stock model at `base_path` plus the delta of
    `weights` (whose SHA-256 the caller verified): `cache_root/fine-tuned/<sha[:16]>`, built once
    (in a staging directory renamed into place) and reused; it keeps a copy of the delta. The
    least recently used of more than `KEPT_DIRECTORIES` such directories are removed, with their
    OpenVINO conversions (a bundle whose directory was removed rebuilds it when loaded).

    Raises FineTuningError for a delta that does not fit the model, OSError when the cache
    cannot be written.
    """
    root = Path(cache_root) / FINE_TUNED_DIR
    final = root / weights.sha256[:16]
    if (final / DELTA_FILE).is_file():  # the directory appears whole (staged_directory)
        os.utime(final)  # recently used
        return final
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / f".{final.name}.lock"):  # concurrent workers build it once
        if not (final / DELTA_FILE).is_file():
            _build(Path(base_path), weights, final)
    _remove_least_recent(root, Path(cache_root))
    return final


def _build(base_path: Path, weights: FineTunedWeights, final: Path) -> None:
    from safetensors.torch import load_file, save_file

    stock = load_file(stock_weights(base_path))
    state = WeightsDelta.load(weights.delta).applied(stock)
    with staged_directory(final) as staging:
        for path in base_path.rglob("*"):
            if path.is_file() and path.name != WEIGHTS_FILE:
                target = staging / path.relative_to(base_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        tensors = {name: tensor.contiguous() for name, tensor in state.items()}
        save_file(tensors, staging / WEIGHTS_FILE, metadata={"format": "pt"})
        shutil.copyfile(weights.delta, staging / DELTA_FILE)


def _remove_least_recent(root: Path, cache_root: Path) -> None:
    directories = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for directory in directories[KEPT_DIRECTORIES:]:
        for settings in (cache_root / "encoders").glob("*/encoder.json"):
            try:
                source = json.loads(settings.read_text()).get("source")
            except (OSError, ValueError):
                continue
            if source == str(directory.resolve()):
                shutil.rmtree(settings.parent, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)
