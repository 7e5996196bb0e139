"""The one shape of a quote's scores, nested (JSON) and flat (file columns)."""

from __future__ import annotations

from dataclasses import dataclass

STANCE_LABELS = ("favor", "against", "none")
SENTIMENT_LABELS = ("positive", "negative", "neutral")
POOLED = "all"  # the key of metrics pooled over every target (the official TweetEval F_avg)


@dataclass(frozen=True)
class LabelScore:
    """A predicted label and the probability of every label (they sum to 1)."""

    label: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict:
        return {"label": self.label, "probabilities": dict(self.probabilities)}


@dataclass(frozen=True)
class QuoteScore:
    """Stance per target and the sentiment (None when the model has no sentiment head)."""

    stances: dict[str, LabelScore]
    sentiment: LabelScore | None

    def to_dict(self) -> dict:
        """Nested form used by the HTTP API."""
        return {
            "stance": {target: score.to_dict() for target, score in self.stances.items()},
            "sentiment": self.sentiment.to_dict() if self.sentiment else None,
        }

    def to_columns(self) -> dict[str, object]:
        """Flat form used in files: `<target>_stance`, `<target>_favor`, ..., `sentiment_*`."""
        columns: dict[str, object] = {}
        for target, score in self.stances.items():
            columns[f"{target}_stance"] = score.label
            for label in STANCE_LABELS:
                columns[f"{target}_{label}"] = score.probabilities[label]
        columns.update(sentiment_columns(self.sentiment))
        return columns


def score_columns(targets: list[str]) -> list[str]:
    """Names of the flat score columns for `targets`, in output order."""
    names = []
    for target in targets:
        names.append(f"{target}_stance")
        names.extend(f"{target}_{label}" for label in STANCE_LABELS)
    names.append("sentiment")
    names.extend(f"sentiment_{label}" for label in SENTIMENT_LABELS)
    return names


def sentiment_columns(sentiment: LabelScore | None) -> dict[str, object]:
    columns: dict[str, object] = {"sentiment": sentiment.label if sentiment else None}
    for label in SENTIMENT_LABELS:
        columns[f"sentiment_{label}"] = sentiment.probabilities[label] if sentiment else None
    return columns
