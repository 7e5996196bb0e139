"""Who said it: actor name normalisation and per-actor aggregation of quote scores.

The API and the batch scorer both call `ActorNames` and `ActorAggregator`, so "Trump",
"Donald Trump" and "President Trump" land on one row everywhere.

An actor has a type when extraction gave one (`ACTOR_TYPES`): a person's name loses its titles
and merges with its short forms; an organisation loses a leading "the" ("the Kremlin" and
"Kremlin" are one actor); a description ("a senior NATO official") is kept as written and never
merged with anyone. Actors given without a type (the API's quotes mode, quote files) are
treated as names of people.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from training import SENTIMENT_LABELS, STANCE_LABELS, QuoteScore

# Honorifics and offices that precede a name; longest first so "Prime Minister" beats "Minister".
_TITLES = sorted(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "reverend",
        "president",
        "vice president",
        "vice-president",
        "prime minister",
        "deputy prime minister",
        "first minister",
        "chancellor",
        "minister",
        "foreign minister",
        "defence minister",
        "defense minister",
        "secretary",
        "secretary of state",
        "defence secretary",
        "defense secretary",
        "senator",
        "sen",
        "rep",
        "representative",
        "congressman",
        "congresswoman",
        "governor",
        "gov",
        "mayor",
        "general",
        "gen",
        "admiral",
        "king",
        "queen",
        "prince",
        "princess",
        "pope",
        "ambassador",
        "commissioner",
        "judge",
        "justice",
        "speaker",
        "chairman",
        "chairwoman",
        "premier",
        "sheikh",
        "emir",
        "former",
        "us",
        "u.s.",
        "german",
        "french",
        "russian",
        "british",
        "ukrainian",
    ],
    key=len,
    reverse=True,
)
_TITLE_PATTERN = re.compile(
    r"^(?:(?:" + "|".join(re.escape(t) for t in _TITLES) + r")\.?\s+)+", re.IGNORECASE
)
_MISSING = {"", "none", "null", "nan", "unknown", "n/a"}
PERSON, ORGANISATION, DESCRIPTION = "person", "organisation", "description"
ACTOR_TYPES = (PERSON, ORGANISATION, DESCRIPTION)
_ARTICLE = re.compile(r"^the\s+", re.IGNORECASE)


def actor_key(name: str) -> str:
    """The comparison key of a name: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s'-]", " ", plain).casefold().split())


def strip_titles(name: str) -> str:
    """The name without leading titles: 'President Barack Obama' -> 'Barack Obama'.

    A title followed by a lower-case word is a role, not a title before a name, and is kept
    whole: 'Prime Minister of Poland' stays itself (stripped, every country's officials would
    become one actor 'of Poland')."""
    cleaned = " ".join(name.split())
    stripped = _TITLE_PATTERN.sub("", cleaned)
    if not stripped or stripped[0].islower():
        return cleaned
    return stripped


def read_aliases(path: str | Path | None = None) -> dict[str, str]:
    """Alias -> canonical name from a CSV (`alias,canonical`); default $STANCE_ACTOR_ALIASES."""
    path = path or os.environ.get("STANCE_ACTOR_ALIASES")
    if not path:
        return {}
    aliases = {}
    with open(path, encoding="utf-8-sig", newline="") as stream:
        for line, row in enumerate(csv.reader(stream), start=1):
            if not row or (
                line == 1 and [c.strip().lower() for c in row[:2]] == ["alias", "canonical"]
            ):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise ValueError(f"{path}:{line}: expected 'alias,canonical', got {row!r}")
            aliases[actor_key(strip_titles(row[0]))] = " ".join(row[1].split())
    return aliases


class ActorNames:
    """Maps raw actor strings to canonical display names (one rule for API and batch)."""

    def __init__(self, aliases: dict[str, str] | None = None):
        self.aliases = aliases if aliases is not None else read_aliases()
        self._first: dict[str, str] = {}  # key -> first spelling seen (the stable identity)
        self._preferred: dict[str, str] = {}  # key -> better display spelling seen later
        self._titles: dict[str, set[str]] = defaultdict(set)  # name -> titles it came with
        self.types: dict[str, str] = {}  # canonical name -> actor type, when one was given

    def canonical(self, raw: str | None, actor_type: str | None = None) -> str | None:
        """Canonical name, or None when the actor is missing ('None', empty).

        Spellings that differ only in case or accents share one name (the first seen);
        `display` gives the best spelling of it once all names are in. `actor_type` is one of
        `ACTOR_TYPES` or None (a name); an unknown type raises ValueError.
        """
        if raw is None or str(raw).strip().casefold() in _MISSING:
            return None
        if actor_type is not None and actor_type not in ACTOR_TYPES:
            raise ValueError(
                f"actor type must be one of {', '.join(ACTOR_TYPES)}, not {actor_type!r}"
            )
        cleaned = " ".join(str(raw).split())
        if actor_type in (ORGANISATION, DESCRIPTION):
            name = _ARTICLE.sub("", cleaned) if actor_type == ORGANISATION else cleaned
            name = self._first.setdefault(f"{actor_type}:{actor_key(name)}", name or cleaned)
            self.types.setdefault(name, actor_type)
            return name
        stripped = strip_titles(cleaned)
        title = actor_key(cleaned[: len(cleaned) - len(stripped)])
        key = actor_key(stripped)
        if key in self.aliases:
            name = self.aliases[key]
        else:
            name = self._first.setdefault(key, stripped)
            if _shouting(self.display(name)) and not _shouting(stripped):
                self._preferred[key] = stripped
        if title:
            self._titles[name].add(title)
        if actor_type:
            self.types.setdefault(name, actor_type)
        return name

    def display(self, name: str) -> str:
        """The spelling shown for a canonical name: 'DONALD Trump' gives way to 'Donald Trump'."""
        return self._preferred.get(actor_key(name), name)

    def merge_short_forms(self, names: list[str]) -> dict[str, str]:
        """Map each canonical name to its display form, short forms to their full name.

        'Obama' becomes 'Barack Obama' when he is the only full name with that surname, or the
        only one quoted with the same title ('President Obama', 'President Barack Obama').
        """
        full_by_surname: dict[str, set[str]] = defaultdict(set)
        people = [n for n in names if self.types.get(n, PERSON) == PERSON]
        for name in people:
            parts = actor_key(name).split()
            if len(parts) > 1:
                full_by_surname[parts[-1]].add(name)
        merged = {name: name for name in names}
        for name in people:
            parts = actor_key(name).split()
            fuller = full_by_surname.get(parts[-1], set()) if len(parts) == 1 else set()
            if len(fuller) > 1:
                fuller = {full for full in fuller if self._titles[full] & self._titles[name]}
            merged[name] = self.display(next(iter(fuller)) if len(fuller) == 1 else name)
        return merged


def _shouting(name: str) -> bool:
    """True when a word of the name is written in capitals ('DONALD Trump')."""
    return any(len(word) > 1 and word.isupper() for word in name.split())


@dataclass
class _Tally:
    quotes: float = 0
    labels: Counter = field(default_factory=Counter)
    net: float = 0.0
    confidence: float = 0.0
    sentiment: Counter = field(default_factory=Counter)
    sentiment_net: float = 0.0
    first_date: str | None = None
    last_date: str | None = None

    @classmethod
    def of(cls, summary: ActorSummary) -> _Tally:
        """The sums behind a summary (its means times its number of quotes)."""
        scored = summary.sentiment or {"counts": {}, "net": None}
        sentiment = Counter(scored["counts"])
        net = scored.get("net")
        return cls(
            quotes=summary.quotes,
            labels=Counter(summary.counts),
            net=summary.net_stance * summary.quotes,
            confidence=summary.mean_confidence * summary.quotes,
            sentiment=sentiment,
            sentiment_net=(net or 0.0) * sum(sentiment.values()),
            first_date=summary.first_date,
            last_date=summary.last_date,
        )

    def add(self, stance, sentiment, date: str | None, weight: float) -> None:
        probabilities = stance.probabilities
        self.quotes += weight
        self.labels[stance.label] += weight
        self.net += weight * (probabilities["favor"] - probabilities["against"])
        self.confidence += weight * max(probabilities.values())
        if sentiment is not None:
            self.sentiment[sentiment.label] += weight
            self.sentiment_net += weight * (
                sentiment.probabilities["positive"] - sentiment.probabilities["negative"]
            )
        if date:
            self.first_date = min(self.first_date or date, date)
            self.last_date = max(self.last_date or date, date)


@dataclass(frozen=True)
class ActorSummary:
    """Where one actor stands on one target (optionally within one period)."""

    actor: str
    actor_type: str | None  # one of ACTOR_TYPES, or None when no type was given
    target: str
    period: str | None
    quotes: int
    counts: dict[str, int]
    net_stance: float
    mean_confidence: float
    sentiment: dict | None  # counts per label and net; None when no quote had a sentiment score
    first_date: str | None
    last_date: str | None

    @property
    def stance(self) -> str:
        """The actor's position: favor or against by quotes that take one, else none.

        Quotes labeled none say nothing about the position, so they do not outvote a stance;
        a tie between favor and against is broken by the net stance score.
        """
        favor, against = self.counts["favor"], self.counts["against"]
        if favor == against == 0:
            return "none"
        if favor != against:
            return "favor" if favor > against else "against"
        return "favor" if self.net_stance > 0 else "against" if self.net_stance < 0 else "none"

    def to_dict(self) -> dict:
        return {
            "actor": self.actor,
            "actor_type": self.actor_type,
            "target": self.target,
            "period": self.period,
            "quotes": self.quotes,
            "counts": self.counts,
            "stance": self.stance,
            "net_stance": self.net_stance,
            "mean_confidence": self.mean_confidence,
            "sentiment": self.sentiment,
            "first_date": self.first_date,
            "last_date": self.last_date,
        }


class ActorAggregator:
    """Accumulates quote scores per (actor, target[, period]) in memory bounded by actors."""

    def __init__(self, names: ActorNames | None = None, by: str | None = None):
        if by not in (None, "month", "year"):
            raise ValueError(f"by must be 'month' or 'year', not {by!r}")
        self.names = names or ActorNames()
        self.by = by
        self._tallies: dict[tuple[str, str, str | None], _Tally] = defaultdict(_Tally)

    def add(
        self,
        actor: str | None,
        score: QuoteScore,
        date: str | None = None,
        weight: float = 1.0,
        actor_type: str | None = None,
    ) -> str | None:
        """Count one scored quote; returns the canonical actor (None: not counted)."""
        canonical = self.names.canonical(actor, actor_type)
        if canonical is None:
            return None
        day = str(date)[:10] if date else None
        period = None
        if self.by and day:
            period = day[:7] if self.by == "month" else day[:4]
        for target, stance in score.stances.items():
            self._tallies[(canonical, target, period)].add(stance, score.sentiment, day, weight)
        return canonical

    def add_summary(self, summary: ActorSummary) -> str | None:
        """Count the quotes behind an earlier summary (carrying an aggregation across requests).

        The summary's means are rounded to 4 decimals, so a merged figure can differ from one
        aggregation of all quotes in the 4th decimal.
        """
        canonical = self.names.canonical(summary.actor, summary.actor_type)
        if canonical is None:
            return None
        period = summary.period if self.by else None
        _merge(self._tallies[(canonical, summary.target, period)], _Tally.of(summary))
        return canonical

    def summaries(self) -> list[ActorSummary]:
        """One summary per actor, target and period; short forms merged; most quoted first."""
        merged = self.names.merge_short_forms(sorted({key[0] for key in self._tallies}))
        combined: dict[tuple[str, str, str | None], _Tally] = defaultdict(_Tally)
        for (actor, target, period), tally in self._tallies.items():
            _merge(combined[(merged[actor], target, period)], tally)
        result = [_summary(key, tally, self.names.types) for key, tally in combined.items()]
        return sorted(result, key=lambda s: (-s.quotes, s.actor, s.target, s.period or ""))


def _merge(into: _Tally, tally: _Tally) -> None:
    into.quotes += tally.quotes
    into.labels.update(tally.labels)
    into.net += tally.net
    into.confidence += tally.confidence
    into.sentiment.update(tally.sentiment)
    into.sentiment_net += tally.sentiment_net
    for date in (tally.first_date, tally.last_date):
        if date:
            into.first_date = min(into.first_date or date, date)
            into.last_date = max(into.last_date or date, date)


def _summary(key, tally: _Tally, types: dict[str, str]) -> ActorSummary:
    actor, target, period = key
    scored = sum(tally.sentiment.values())
    return ActorSummary(
        actor=actor,
        actor_type=types.get(actor),
        target=target,
        period=period,
        quotes=round(tally.quotes),
        counts={label: round(tally.labels[label]) for label in STANCE_LABELS},
        net_stance=round(tally.net / tally.quotes, 4),
        mean_confidence=round(tally.confidence / tally.quotes, 4),
        sentiment={
            "counts": {label: round(tally.sentiment[label]) for label in SENTIMENT_LABELS},
            "net": round(tally.sentiment_net / scored, 4),
        }
        if scored
        else None,
        first_date=tally.first_date,
        last_date=tally.last_date,
    )
