"""Fine-tuning the encoder (`stance train --fine-tune-encoder`): the stored weights delta, and a
bundle with a fine-tuned encoder trained, verified and scored by real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from training.fine_tuning import FineTuningError, WeightsDelta

ROOT = Path(__file__).resolve().parents[1]


def test_the_weights_delta_keeps_each_weight_within_half_a_quantisation_step(tmp_path):
    generator = torch.Generator().manual_seed(0)
    stock = {
        "embeddings.word_embeddings.weight": torch.randn(50, 8, generator=generator),
        "encoder.layer.0.attention.self.query.weight": torch.randn(8, 8, generator=generator),
        "encoder.layer.0.attention.self.query.bias": torch.randn(8, generator=generator),
    }
    tuned = {
        name: w + 0.01 * torch.randn(w.shape, generator=generator) for name, w in stock.items()
    }
    tuned["encoder.layer.0.attention.self.query.weight"][3] = stock[
        "encoder.layer.0.attention.self.query.weight"
    ][3]  # a row fine-tuning left alone stays exactly as it was

    delta = WeightsDelta.between(stock, tuned)
    delta.save(tmp_path / "delta.npz")
    restored = WeightsDelta.load(tmp_path / "delta.npz").applied(stock)

    name = "encoder.layer.0.attention.self.query.weight"
    step = np.abs((tuned[name] - stock[name]).numpy()).max(axis=1) / 127
    error = np.abs((restored[name] - tuned[name]).numpy()).max(axis=1)
    assert (error <= step / 2 + 1e-6).all()
    assert torch.equal(restored[name][3], stock[name][3])
    bias = "encoder.layer.0.attention.self.query.bias"
    assert torch.allclose(restored[bias], tuned[bias], atol=1e-6)
    # Only the transformer layers are fine-tuned: the token embeddings are the stock ones.
    assert torch.equal(
        restored["embeddings.word_embeddings.weight"], stock["embeddings.word_embeddings.weight"]
    )


def test_a_file_that_is_not_a_weights_delta_is_refused_by_name(tmp_path):
    path = tmp_path / "delta.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(FineTuningError, match=r"delta\.npz is not a weights delta"):
        WeightsDelta.load(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(FineTuningError, match="cannot read the weights delta"):
        WeightsDelta.load(path)


def test_pickling_a_model_leaves_it_its_embedder():
    from training.model import StanceModel

    model = StanceModel(embedder="an embedder")
    state = model.__getstate__()
    assert state["embedder"] is None and model.embedder == "an embedder"


def stance(*args, models: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"STANCE_MODELS_DIR": str(models)}
    command = [sys.executable, "-m", "service.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def fine_tuned_bundle(tmp_path_factory, small_seed_csv) -> Path:
    """A bundle trained by `stance train --fine-tune-encoder` in its own process."""
    models = tmp_path_factory.mktemp("models")
    args = ["train", str(small_seed_csv), "--fine-tune-encoder", "--cv", "2"]
    result = stance(
        *args, "--min-per-class", "5", "--name", "tuned", "--out", models, models=models
    )
    assert result.returncode == 0, result.stderr
    return models / "tuned"


def test_a_fine_tuned_bundle_records_its_delta_and_its_fine_tuned_cross_validation(
    fine_tuned_bundle, default_bundle
):
    manifest = json.loads((fine_tuned_bundle / "manifest.json").read_text())
    recorded = manifest["embedding"]["fine_tuned"]
    delta = fine_tuned_bundle / recorded["file"]
    assert delta.stat().st_size < 12e6  # int8: six layers of MiniLM-L6 in about 10 MB
    # Another encoder than the stock one: its own fingerprint, so neither the stock encoder's
    # embedding cache nor its OpenVINO conversion is ever used for it.
    assert (
        manifest["embedding"]["fingerprint"] != default_bundle.manifest["embedding"]["fingerprint"]
    )
    assert manifest["metrics"]["fine_tuned_encoder"] is True
    assert manifest["metrics"]["folds"] == 2
    assert recorded["file"] in (fine_tuned_bundle / "card.md").read_text()


def test_a_fine_tuned_bundle_scores_in_a_fresh_process_as_it_does_when_loaded_here(
    fine_tuned_bundle,
):
    from training import load_bundle

    text = "We must spend more on defence, and we will."
    result = stance("predict", text, "--model", "tuned", "--json", models=fine_tuned_bundle.parent)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)["stance"]
    loaded = load_bundle("tuned", root=fine_tuned_bundle.parent).model.score([text])[0]
    for target, score in loaded.stances.items():
        assert printed[target]["probabilities"] == pytest.approx(score.probabilities, abs=1e-6)


def test_a_modified_weights_delta_is_refused_naming_the_file(fine_tuned_bundle, tmp_path):
    import shutil

    copy = tmp_path / "models" / "tuned"
    shutil.copytree(fine_tuned_bundle, copy)
    with open(copy / "encoder-delta.npz", "r+b") as stream:
        stream.seek(2000)
        byte = stream.read(1)
        stream.seek(2000)
        stream.write(bytes([byte[0] ^ 1]))
    result = stance("predict", "Spend more.", "--model", "tuned", models=copy.parent)
    assert result.returncode == 2
    assert "encoder-delta.npz does not match its manifest" in result.stderr


def test_stance_encoder_builds_the_bundles_fine_tuned_encoder_too(fine_tuned_bundle):
    result = stance("encoder", "--model", "tuned", models=fine_tuned_bundle.parent)
    assert result.returncode == 0, result.stderr
    entries = [line for line in result.stdout.splitlines() if line.startswith("entry: ")]
    assert len(entries) == 2 and entries[0] != entries[1]
    assert "fine-tuned by" in result.stdout
    listed = stance("models", models=fine_tuned_bundle.parent).stdout
    assert "tuned" in listed and "fine-tuned" in listed


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_fine_tuning_a_directory_that_is_no_model_exits_2_naming_it(tmp_path, small_seed_csv, kind):
    directory = tmp_path / "not-a-model"
    if kind == "empty":
        directory.mkdir()
    args = ["train", str(small_seed_csv), "--fine-tune-encoder", "--cv", "0"]
    result = stance(*args, "--embedding-model", directory, models=tmp_path / "models")
    assert result.returncode == 2, result.stderr
    expected = "is not a directory" if kind == "missing" else "has no model.safetensors"
    assert str(directory) in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_stance_score_says_it_scored_with_the_fine_tuned_encoder(fine_tuned_bundle, tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("text,actor\nWe must spend more on defence.,a minister\n")
    args = ["score", str(quotes), "-o", str(tmp_path / "scored.csv"), "--model", "tuned"]
    result = stance(*args, models=fine_tuned_bundle.parent)
    assert result.returncode == 0, result.stderr
    assert "fine-tuned encoder" in result.stdout + result.stderr
