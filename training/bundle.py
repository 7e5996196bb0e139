"""Model bundles on disk: written atomically with a manifest, verified before they are read.

A bundle holds the fitted scikit-learn model (`model.joblib`, for retraining and inspection) and
the same heads as arrays (`heads.npz`, `training.heads`), which is what loading reads: scoring
never unpickles anything, and imports neither scikit-learn nor PyTorch. Bundles written before
`heads.npz` existed are loaded from `model.joblib` (after its SHA-256 check) and exported.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from training.directories import staged_directory
from training.embedding import Embedder, FineTunedWeights, get_embedder
from training.encoder_cache import PROBE, PROBE_TOLERANCE, probe_distance
from training.heads import Heads, HeadsFormatError
from training.scorer import StanceScorer
from training.scores import SENTIMENT_LABELS, STANCE_LABELS

if TYPE_CHECKING:
    from training.data import LabeledQuotes
    from training.model import StanceModel

MODEL_FILE = "model.joblib"
HEADS_FILE = "heads.npz"
ENCODER_DELTA_FILE = "encoder-delta.npz"  # a fine-tuned encoder's weights delta
MANIFEST_FILE = "manifest.json"
DEFAULT_BUNDLE = "default"
TARGET_DESCRIPTIONS = {
    "nato_spending": "Raising NATO / European defence spending",
    "russia_rapprochement": "Normalising relations with Russia: dialogue, G7/G8 return, "
    "sanctions relief",
}
_PROBE_QUOTE = "Allies must spend more on defence, and talks with Moscow should resume."
_VERSIONED = (
    "scikit-learn",
    "sentence-transformers",
    "torch",
    "openvino",
    "numpy",
    "joblib",
    "quote-stance",
)


class BundleError(RuntimeError):
    """A bundle that is missing, outside the models directory, tampered with or incompatible."""


@dataclass(frozen=True)
class Bundle:
    """A verified, loaded model with its manifest."""

    path: Path
    manifest: dict
    model: StanceScorer

    @property
    def version(self) -> str:
        return self.manifest["version"]


def models_dir() -> Path:
    """The configured models directory: $STANCE_MODELS_DIR, else the project's `models/`."""
    configured = os.environ.get("STANCE_MODELS_DIR")
    if configured:
        return Path(configured).resolve()
    project = Path(__file__).resolve().parents[1] / "models"
    return project if project.is_dir() else Path.cwd().resolve() / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_bundle(
    model: StanceModel,
    quotes: LabeledQuotes,
    metrics: dict | None,
    out_dir: Path | None = None,
    name: str | None = None,
    *,
    replace: bool = False,
) -> Path:
    """Write `model` as `out_dir/name` through a temporary directory renamed into place."""
    import joblib

    from training.card import write_card

    out_dir = Path(out_dir or models_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    name = name or f"stance-{created:%Y%m%d-%H%M%S}-{quotes.sha256[:8]}"
    final = out_dir / name
    if final.exists() and not replace:
        raise BundleError(f"{final} exists; choose another --name or pass --force to replace it")
    fine_tuned = model._embedder().fine_tuned
    with staged_directory(final) as staging:
        joblib.dump(model, staging / MODEL_FILE, compress=3)
        model.scorer().heads.save(staging / HEADS_FILE)
        files = [MODEL_FILE, HEADS_FILE]
        if fine_tuned is not None:
            shutil.copyfile(fine_tuned.delta, staging / ENCODER_DELTA_FILE)
            files.append(ENCODER_DELTA_FILE)
        digests = {f: sha256_file(staging / f) for f in files}
        manifest = _manifest(model, quotes, metrics, name, created, digests)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        write_card(staging, manifest)
    return final


def _manifest(model, quotes, metrics, name, created, digests: dict[str, str]) -> dict:
    counts = quotes.counts()
    return {
        "version": name,
        "created_at": created.isoformat(timespec="seconds"),
        "targets": [
            {
                "id": t,
                "description": TARGET_DESCRIPTIONS.get(t, ""),
                "labels": list(STANCE_LABELS),
                "training_counts": counts[t],
            }
            for t in model.targets_
        ],
        "sentiment_labels": list(SENTIMENT_LABELS) if model.sentiment_head_ is not None else [],
        "embedding": {
            "name": model.embedding_.name,
            "dimension": model.embedding_.dimension,
            "fingerprint": model.embedding_.fingerprint,
            # The reference's embeddings of the probe sentences: loading checks the scoring
            # encoder against them (within the tolerance) without loading the reference.
            "probe": {
                "sentences": list(PROBE),
                "vectors": model._embedder().reference_probe.round(6).tolist(),
                "tolerance": PROBE_TOLERANCE,
            },
        }
        | _fine_tuning(digests),
        "recipe": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in model.get_params().items()
            if k not in ("embedder", "n_jobs")
        },
        "data": {
            "sha256": quotes.sha256,
            "files": [Path(f).name for f in quotes.files],
            "rows": len(quotes.frame),
            "quotes": int(quotes.frame["text"].nunique()),
            "sentiment_rows": len(quotes.sentiment_rows()),
        },
        "metrics": metrics,
        "versions": {"python": platform.python_version()}
        | {package: _version(package) for package in _VERSIONED},
        "model_sha256": digests[MODEL_FILE],
        "heads_sha256": digests[HEADS_FILE],
    }


def _fine_tuning(digests: dict[str, str]) -> dict:
    """The manifest's record of a fine-tuned encoder (`training.fine_tuning`), else nothing."""
    if ENCODER_DELTA_FILE not in digests:
        return {}
    from training import fine_tuning

    recipe = {
        "epochs": fine_tuning.EPOCHS,
        "learning_rate": fine_tuning.LEARNING_RATE,
        "batch_size": fine_tuning.BATCH_SIZE,
        "max_tokens": fine_tuning.MAX_TOKENS,
    }
    return {
        "fine_tuned": {
            "file": ENCODER_DELTA_FILE,
            "sha256": digests[ENCODER_DELTA_FILE],
            "recipe": recipe,
        }
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def resolve_bundle(name_or_path: str | Path | None = None, root: Path | None = None) -> Path:
    """The bundle directory for a name or path, which must lie inside the models directory."""
    root = (root or models_dir()).resolve()
    name_or_path = name_or_path or os.environ.get("STANCE_MODEL") or DEFAULT_BUNDLE
    candidate = Path(name_or_path)
    path = candidate if candidate.is_absolute() or candidate.exists() else root / candidate
    path = path.resolve()
    if not path.is_relative_to(root):
        raise BundleError(
            f"refusing to load {path}: bundles are only loaded from the models directory {root}, "
            f"so that no file from elsewhere is ever trusted; set STANCE_MODELS_DIR={path.parent} "
            "to use the bundles there"
        )
    if not (path / MANIFEST_FILE).is_file():
        raise BundleError(
            f"no bundle at {path} (missing {MANIFEST_FILE}); `stance models` lists them"
        )
    return path


def read_manifest(path: Path) -> dict:
    try:
        return json.loads((path / MANIFEST_FILE).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise BundleError(f"unreadable manifest in {path}: {error}") from error


def load_bundle(
    name_or_path: str | Path | None = None,
    *,
    root: Path | None = None,
    embedder: Embedder | None = None,
) -> Bundle:
    """Verify the SHA-256 of what is read and the embedding model, then load the heads.

    Raises BundleError when the bundle is missing, outside the models directory, modified, or
    was trained on another embedding model than the one that would score it.
    """
    path = resolve_bundle(name_or_path, root)
    manifest = read_manifest(path)
    heads_file, expected = _heads_source(path, manifest)
    if heads_file.name == HEADS_FILE:
        heads = _read_heads(heads_file, expected)
    else:
        heads = Heads.from_model(_unpickle(heads_file, expected))
    embedder = embedder or get_embedder(
        manifest["embedding"]["name"], fine_tuned=_fine_tuned_weights(path, manifest)
    )
    _check_embedding(manifest, embedder, path)
    model = StanceScorer(heads, embedder)
    _check_scores(model, path)
    return Bundle(path=path, manifest=manifest, model=model)


def _fine_tuned_weights(path: Path, manifest: dict) -> FineTunedWeights | None:
    """The bundle's verified encoder weights delta, if its encoder was fine-tuned."""
    recorded = manifest["embedding"].get("fine_tuned")
    if not recorded:
        return None
    delta = path / recorded["file"]
    _verified_file(delta, recorded["sha256"])
    return FineTunedWeights(delta, recorded["sha256"])


def check_bundle(name_or_path: str | Path | None = None, *, root: Path | None = None) -> Path:
    """The bundle's directory, after checking that it lies in the models directory and that the
    files loading reads match the manifest's SHA-256 — without loading the encoder or the heads
    (what `stance serve` checks before it starts workers). Raises BundleError like load_bundle.
    """
    path = resolve_bundle(name_or_path, root)
    manifest = read_manifest(path)
    _verified_file(*_heads_source(path, manifest))
    _fine_tuned_weights(path, manifest)
    return path


def _heads_source(path: Path, manifest: dict) -> tuple[Path, str | None]:
    """The file loading reads the heads from, and its recorded SHA-256: `heads.npz`, or
    `model.joblib` in bundles written before it existed."""
    if manifest.get("heads_sha256"):
        return path / HEADS_FILE, manifest["heads_sha256"]
    return path / MODEL_FILE, manifest.get("model_sha256")


def load_estimator(bundle: Bundle) -> StanceModel:
    """The bundle's fitted scikit-learn model (unpickled after its SHA-256 check)."""
    model = _unpickle(bundle.path / MODEL_FILE, bundle.manifest.get("model_sha256"))
    model.embedder = bundle.model.embedder
    return model


def _verified_file(path: Path, expected: str | None) -> None:
    if not path.is_file():
        raise BundleError(f"{path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        raise BundleError(
            f"{path} does not match its manifest (SHA-256 {actual[:12]}… expected "
            f"{str(expected)[:12]}…): the bundle was modified; retrain or restore it"
        )


def _read_heads(path: Path, expected: str) -> Heads:
    _verified_file(path, expected)
    try:
        return Heads.load(path)
    except HeadsFormatError as error:
        raise BundleError(f"{error}; retrain the bundle with this version") from error


def _unpickle(path: Path, expected: str | None):
    _verified_file(path, expected)
    import joblib

    return joblib.load(path)


def _check_embedding(manifest: dict, embedder: Embedder, path: Path) -> None:
    """The scoring encoder must be the model the heads were trained on (no PyTorch needed)."""
    recorded = manifest["embedding"]
    spec = embedder.scoring_spec
    mismatch = (spec.fingerprint, spec.dimension) != (
        recorded["fingerprint"],
        recorded["dimension"],
    )
    probe = recorded.get("probe")
    distance = 0.0
    if not mismatch and probe:
        distance = probe_distance(embedder.probe_vectors(), probe["vectors"])
        mismatch = distance > probe["tolerance"]
    if mismatch:
        raise BundleError(
            f"embedding model mismatch: bundle {path.name} was trained on {recorded['name']!r} "
            f"(fingerprint {recorded['fingerprint']}, dim {recorded['dimension']}) but "
            f"{spec.name!r} gives fingerprint {spec.fingerprint}, dim {spec.dimension}"
            + (f", probe distance {distance:.4f}" if distance else "")
        )


def _check_scores(model: StanceScorer, path: Path) -> None:
    """Score one probe quote, so a bundle that loads but cannot score is refused at load time."""
    try:
        model.score([_PROBE_QUOTE])
    except Exception as error:
        raise BundleError(
            f"bundle {path.name} loads but cannot score ({error!r}); it was probably written by "
            "an incompatible version of this package: retrain it"
        ) from error


def list_bundles(root: Path | None = None) -> list[dict]:
    """Manifests of every bundle in the models directory, newest first."""
    root = root or models_dir()
    manifests = []
    for manifest_path in sorted(root.glob(f"*/{MANIFEST_FILE}")):
        if manifest_path.parent.name.startswith("."):
            continue
        manifest = read_manifest(manifest_path.parent)
        manifest["path"] = str(manifest_path.parent)
        manifests.append(manifest)
    return sorted(manifests, key=lambda m: m.get("created_at", ""), reverse=True)
