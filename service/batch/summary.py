"""Per-actor summaries of a finished job, computed from its parts, as CSV/JSON and a PNG plot.

The summary is computed at the end of the run from the scored rows on disk, so a resumed run
and an uninterrupted run summarise the same rows. Quote counts are unweighted unless a weight
column is named (Quotebank's `numOccurrences`, for instance).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path

from service.actors import ACTOR_TYPES, ActorAggregator, ActorNames, ActorSummary
from service.batch.errors import BatchError
from service.batch.scorer import ERROR_COLUMN
from service.batch.writers import part_roles, read_columns, write_atomically
from service.dates import normalise_date
from training import SENTIMENT_LABELS, STANCE_LABELS, LabelScore, QuoteScore

SUMMARY_FORMATS = (".csv", ".json", ".jsonl")
CSV_FIELDS = [
    "actor",
    "actor_type",
    "target",
    "period",
    "quotes",
    *STANCE_LABELS,
    "stance",
    "net_stance",
    "mean_confidence",
    *(f"sentiment_{label}" for label in SENTIMENT_LABELS),
    "sentiment_net",
    "first_date",
    "last_date",
]


def _weight(value: object) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        return 1.0
    return weight if math.isfinite(weight) and weight > 0 else 1.0


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _quote_score(row: dict, targets: list[str]) -> QuoteScore:
    stances = {
        t: LabelScore(row[f"{t}_stance"], {k: row[f"{t}_{k}"] for k in STANCE_LABELS})
        for t in targets
    }
    sentiment = None
    if _present(row.get("sentiment")):
        sentiment = LabelScore(
            row["sentiment"], {k: row[f"sentiment_{k}"] for k in SENTIMENT_LABELS}
        )
    return QuoteScore(stances=stances, sentiment=sentiment)


def summarise(
    parts: Iterable[Path],
    targets: list[str],
    *,
    by: str | None = None,
    weighted: bool = False,
    names: ActorNames | None = None,
) -> list[ActorSummary]:
    """Summaries per actor and target, then (with `by`) per actor, target and period."""
    names = names or ActorNames()
    overall = ActorAggregator(names)
    series = ActorAggregator(names, by=by) if by else None
    score_names = [f"{t}_{k}" for t in targets for k in ("stance", *STANCE_LABELS)]
    score_names += ["sentiment", *(f"sentiment_{k}" for k in SENTIMENT_LABELS)]
    for part in parts:
        roles = part_roles(part)
        if not roles.get("actor"):
            continue
        kind = roles.get("actor_type")
        wanted = [
            roles["actor"],
            roles.get("date"),
            roles.get("weight") if weighted else None,
            kind,
        ]
        columns = list(dict.fromkeys(c for c in wanted if c))
        frame = read_columns(part, [*columns, *score_names, ERROR_COLUMN])
        for row in frame.to_dict("records"):
            if isinstance(row[ERROR_COLUMN], str):  # missing is None or NaN (pandas strings)
                continue
            score = _quote_score(row, targets)
            date = normalise_date(row[roles["date"]]) if roles.get("date") else None
            weight = _weight(row[roles["weight"]]) if weighted and roles.get("weight") else 1.0
            for aggregator in (overall, series):
                if aggregator is not None:
                    actor_type = _actor_type(row[kind]) if kind else None
                    aggregator.add(row[roles["actor"]], score, date, weight, actor_type)
    result = overall.summaries()
    if series is not None:
        periods = [s for s in series.summaries() if s.period is not None]
        result += sorted(periods, key=lambda s: (s.actor, s.target, s.period))
    return result


def _actor_type(value: object) -> str | None:
    """A known actor type from a column, else None (the actor counts as a name)."""
    return value if isinstance(value, str) and value in ACTOR_TYPES else None


def _flat(summary: ActorSummary) -> dict:
    row = summary.to_dict()
    flat = {key: row[key] for key in CSV_FIELDS if key in row}
    flat.update(row["counts"])
    sentiment = row["sentiment"] or {"counts": dict.fromkeys(SENTIMENT_LABELS), "net": None}
    flat.update({f"sentiment_{k}": v for k, v in sentiment["counts"].items()})
    flat["sentiment_net"] = sentiment["net"]
    return flat


def write_summary(summaries: list[ActorSummary], path: Path) -> None:
    """Write summaries as CSV (flat), JSON (a list) or JSON Lines, chosen by extension."""
    suffix = path.suffix.lower()
    if suffix not in SUMMARY_FORMATS:
        raise BatchError(f"{path}: the actor summary must be {', '.join(SUMMARY_FORMATS)}")

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as stream:
            if suffix == ".csv":
                writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(_flat(s) for s in summaries)
            elif suffix == ".json":
                json.dump([s.to_dict() for s in summaries], stream, indent=2, ensure_ascii=False)
                stream.write("\n")
            else:
                for summary in summaries:
                    stream.write(json.dumps(summary.to_dict(), ensure_ascii=False) + "\n")

    write_atomically(path, write)


def plot_summary(summaries: list[ActorSummary], path: Path, top: int = 12) -> None:
    """A PNG with one panel per target: the net stance of the most quoted actors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overall = [s for s in summaries if s.period is None]
    targets = list(dict.fromkeys(s.target for s in overall))
    quotes: dict[str, int] = {}
    for s in overall:
        quotes[s.actor] = max(quotes.get(s.actor, 0), s.quotes)
    actors = sorted(quotes, key=lambda a: (-quotes[a], a))[:top][::-1]
    figure, axes = plt.subplots(
        1,
        max(1, len(targets)),
        figsize=(5 * max(1, len(targets)), 0.4 * len(actors) + 1.8),
        sharey=True,
        squeeze=False,
    )
    for axis, target in zip(axes[0], targets, strict=False):
        net = {s.actor: s.net_stance for s in overall if s.target == target}
        values = [net.get(a, 0.0) for a in actors]
        colours = ["#2b8cbe" if v >= 0 else "#e34a33" for v in values]
        axis.barh(range(len(actors)), values, color=colours)
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_xlim(-1, 1)
        axis.set_title(target)
        axis.set_xlabel("net stance  (mean P(favor) − P(against))")
    axes[0][0].set_yticks(range(len(actors)))
    axes[0][0].set_yticklabels([f"{a} ({quotes[a]})" for a in actors])
    figure.suptitle(f"Net stance of the {len(actors)} most quoted actors")
    figure.tight_layout()
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    plt.close(figure)
