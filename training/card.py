"""The human-readable model card (`card.md`) with confusion-matrix plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _fine_tuning(manifest: dict) -> list[str]:
    tuned = manifest["embedding"].get("fine_tuned")
    if not tuned:
        return []
    recipe = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in tuned["recipe"].items())
    return [
        "",
        f"The encoder was fine-tuned on the training quotes ({recipe}); its changed weights are "
        f"`{tuned['file']}` (SHA-256 `{tuned['sha256'][:16]}…`).",
    ]


def _position_share(manifest: dict) -> list[str]:
    share = manifest["recipe"].get("position_share")
    if share is None:
        return []
    trained = []
    for target in manifest["targets"]:
        counts = target["training_counts"]
        positions = (counts["favor"] + counts["against"]) / max(sum(counts.values()), 1)
        trained.append(f"{target['id']} {positions:.0%}")
    return [
        "",
        f"Stance probabilities assume that {share:.0%} of the quotes scored take a position on a "
        f"target (in the training rows: {', '.join(trained)}), favor and against keeping their "
        "training odds: corrected from the training rows' frequencies by the label shift "
        "correction of Saerens et al. (2002). The cross-validated metrics below are scored on "
        "folds of the training rows, with the correction.",
    ]


def write_card(directory: Path, manifest: dict) -> None:
    """Write card.md and one confusion-matrix PNG per evaluated head into `directory`."""
    metrics = manifest.get("metrics") or {}
    lines = [
        f"# Model card: {manifest['version']}",
        "",
        f"Created {manifest['created_at']}. Embedding model `{manifest['embedding']['name']}` "
        f"(dimension {manifest['embedding']['dimension']}, fingerprint "
        f"`{manifest['embedding']['fingerprint']}`), heads: logistic regression over the embedding "
        "fused with word and character n-gram TF-IDF, calibrated "
        f"({manifest['recipe'].get('calibration')}).",
        *_fine_tuning(manifest),
        *_position_share(manifest),
        "",
        "## Data",
        "",
        f"{manifest['data']['quotes']} distinct quotes, {manifest['data']['rows']} labeled rows "
        f"from {', '.join(manifest['data']['files'])} "
        f"(SHA-256 `{manifest['data']['sha256'][:16]}…`).",
        "",
        "| target | description | favor | against | none |",
        "| --- | --- | --- | --- | --- |",
    ]
    for target in manifest["targets"]:
        counts = target["training_counts"]
        lines.append(
            f"| {target['id']} | {target['description']} | {counts['favor']} | "
            f"{counts['against']} | {counts['none']} |"
        )
    lines += ["", "## Cross-validated metrics", ""]
    if metrics:
        lines += [
            f"{metrics.get('folds')}-fold cross-validation, folds grouped by quote text.",
            "",
            "| head | F_avg | macro-F1 | accuracy | n |",
            "| --- | --- | --- | --- | --- |",
        ]
        for head, m in (metrics.get("stance") or {}).items():
            lines.append(
                f"| {head} | {m['f_avg']:.3f} | {m['macro_f1']:.3f} | {m['accuracy']:.3f} "
                f"| {m['n']} |"
            )
        if metrics.get("sentiment"):
            m = metrics["sentiment"]
            lines.append(
                f"| sentiment | – | {m['macro_f1']:.3f} | {m['accuracy']:.3f} | {m['n']} |"
            )
        lines.append("")
        for head, m in _heads(metrics):
            image = f"confusion-{head}.png"
            _plot_confusion(directory / image, head, m)
            lines += [f"![confusion matrix {head}]({image})", ""]
    else:
        lines += ["Not cross-validated (trained with --cv 0).", ""]
    lines += [
        "## Limits",
        "",
        "- Stance is what the speaker advocates in the quote alone; context outside the quote is "
        "not seen, so sarcasm and quotes that need the article's context are often wrong.",
        "- Trained on short news-register quotes; tweets, long paragraphs and other languages are "
        "out of domain.",
        "- Probabilities are calibrated on the training data by cross-validation"
        + (", then corrected to the declared position share" if _position_share(manifest) else "")
        + "; treat them as relative confidence when the input differs from it.",
        "",
    ]
    (directory / "card.md").write_text("\n".join(lines))


def _heads(metrics: dict):
    yield from (metrics.get("stance") or {}).items()
    if metrics.get("sentiment"):
        yield "sentiment", metrics["sentiment"]


def _plot_confusion(path: Path, head: str, metrics: dict) -> None:
    labels, matrix = metrics["labels"], metrics["confusion"]
    figure, axes = plt.subplots(figsize=(3.6, 3.2), dpi=100)
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(head, fontsize=9)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            colour = "white" if value > peak / 2 else "black"
            axes.text(j, i, str(value), ha="center", va="center", color=colour, fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
