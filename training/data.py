"""Reading and validating labeled stance data (the input of `stance train` and `evaluate`)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from training.records import Table, read_table
from training.scores import SENTIMENT_LABELS, STANCE_LABELS
from training.textfiles import UnreadableFile
from training.texts import text_problem

DEFAULT_MIN_PER_CLASS = 10

# Header names recognised without options, first match wins; SemEval files use Tweet/Target/Stance.
COLUMN_ALIASES = {
    "text": ("text", "tweet", "quote", "quotation"),
    "target": ("target",),
    "stance": ("stance", "label"),
    "sentiment": ("sentiment",),
}


@dataclass(frozen=True)
class DataIssue:
    """One problem in an input file, located by file, 1-based line and column."""

    file: str
    line: int
    column: str | int | None  # a column name, or a character position in the line
    message: str

    def __str__(self) -> str:
        column = f", column {self.column!r}" if self.column else ""
        return f"{self.file}:{self.line}{column}: {self.message}"


class DataError(ValueError):
    """Labeled data that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[DataIssue]):
        self.issues = issues
        shown = "\n".join(f"  {issue}" for issue in issues[:50])
        more = f"\n  ... and {len(issues) - 50} more" if len(issues) > 50 else ""
        super().__init__(f"{len(issues)} problem(s) in the labeled data:\n{shown}{more}")


@dataclass(frozen=True)
class ColumnMapping:
    """Which input columns hold the text, target, stance and sentiment; None = recognise."""

    text: str | None = None
    target: str | None = None
    stance: str | None = None
    sentiment: str | None = None
    fixed_target: str | None = None  # every row is about this target (file has no target column)


UNLABELED_COLUMNS = ["text", "target", "file", "line"]


def text_key(text: str) -> str:
    """What makes two quote texts the same quote: equal up to case and spacing."""
    return " ".join(text.split()).casefold()


@dataclass
class LabeledQuotes:
    """Validated long-format training rows: one row per (quote, target).

    `unlabeled` holds the rows whose `stance` cell is empty (a labeling file in progress, such
    as the output of `stance suggest`): they are not training rows, but their texts are known.
    """

    frame: pd.DataFrame  # columns: text, target, stance, sentiment (str or None), file, line
    files: list[str]
    sha256: str
    encodings: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    unlabeled: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNLABELED_COLUMNS))

    @property
    def targets(self) -> list[str]:
        return sorted(self.frame["target"].unique())

    def counts(self) -> dict[str, dict[str, int]]:
        """Training rows per target and stance label."""
        return {
            target: {label: int((rows["stance"] == label).sum()) for label in STANCE_LABELS}
            for target, rows in self.frame.groupby("target")
        }

    def stance_frequencies(self) -> dict[str, dict[str, float]]:
        """Each target's share of its rows per stance label (summing to 1 per target): the class
        prior the calibrated heads learn from these rows."""
        return {
            target: {label: count / sum(counts.values()) for label, count in counts.items()}
            for target, counts in self.counts().items()
        }

    def sentiment_rows(self) -> pd.DataFrame:
        """One row per distinct labeled text with its sentiment."""
        rows = self.frame.dropna(subset=["sentiment"])
        return rows.drop_duplicates(subset=["text"])[["text", "sentiment"]]


def target_id(name: str) -> str:
    """A target's identifier in column names, in any script: 'Hillary Clinton' ->
    'hillary_clinton', 'Сближение с Россией' -> 'сближение_с_россией'.

    Unicode-normalised (NFKC) and case-folded; every run of characters that are not letters,
    combining marks or digits becomes one '_'. Such names are valid columns in CSV (UTF-8)
    and Parquet, and valid Python identifiers unless they start with a digit.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
    return "_".join(kept.split())


def normalise_label(value: str, allowed: tuple[str, ...]) -> str | None:
    """Lower-cased label if it is one of `allowed`, else None ('FAVOR' -> 'favor')."""
    label = value.strip().lower()
    return label if label in allowed else None


def read_labeled_csv(
    paths: list[str | Path],
    mapping: ColumnMapping | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    min_per_class: int = DEFAULT_MIN_PER_CLASS,
    require_min: bool = True,
    strict_duplicates: bool = False,
    deduplicate: bool = True,
    require_labels: bool = True,
) -> LabeledQuotes:
    """Read and validate labeled files; DataError names file, line and column of each issue.

    CSV/TSV, JSON Lines, JSON arrays and Parquet (compressed or not) are read by the rules of
    `training.textfiles` (encoding, delimiter) and validated by the same column rules.

    A row whose `stance` cell is empty is not labeled yet: it is left out of the training rows
    (one warning per file names how many and the first line) and kept in `unlabeled`, so a
    labeling file in progress trains on the rows labeled so far. Without any labeled row the
    files are an error, unless `require_labels` is False (readers that want only the texts).
    """
    mapping = mapping or ColumnMapping()
    issues: list[DataIssue] = []
    rows: list[dict] = []
    unlabeled: list[dict] = []
    encodings: dict[str, str] = {}
    warnings: list[str] = []
    for path in map(Path, paths):
        try:
            table = read_table(path, encoding, delimiter)
        except OSError as error:
            issues.append(DataIssue(str(path), 0, None, f"cannot read file: {error}"))
            continue
        except UnreadableFile as error:
            issues.append(DataIssue(error.file, error.line, error.column, error.message))
            continue
        if table.encoding is not None:
            encodings[str(path)] = table.encoding.name
            if table.encoding.name != "utf-8":
                warnings.append(f"{path}: not UTF-8, {table.encoding.describe()}")
        warnings.extend(table.notes)
        parsed = list(_validate_table(str(path), table, mapping, issues))
        pending = [row for row in parsed if row["stance"] is None]
        rows.extend(row for row in parsed if row["stance"] is not None)
        unlabeled.extend(pending)
        if pending:
            warnings.append(
                f"{path}: {len(pending)} row(s) without a stance label left out (not labeled "
                f"yet), the first at line {pending[0]['line']}"
            )
    if deduplicate and not issues:
        rows = _drop_duplicates(rows, issues, warnings, strict_duplicates)
    if not rows and not issues and (require_labels or not unlabeled):
        where = unlabeled[0] if unlabeled else {"file": str(paths[0]) if paths else "-", "line": 1}
        hint = f": all {len(unlabeled)} rows have an empty stance" if unlabeled else ""
        issues.append(DataIssue(where["file"], where["line"], None, f"no labeled rows{hint}"))
    frame = pd.DataFrame(rows, columns=["text", "target", "stance", "sentiment", "file", "line"])
    if require_min and not issues:
        issues.extend(_class_minimum_issues(frame, min_per_class, len(unlabeled)))
    if issues:
        raise DataError(issues)
    return LabeledQuotes(
        frame=frame,
        files=[str(p) for p in paths],
        sha256=_content_hash(frame),
        encodings=encodings,
        warnings=warnings,
        unlabeled=pd.DataFrame(
            [{c: row[c] for c in UNLABELED_COLUMNS} for row in unlabeled], columns=UNLABELED_COLUMNS
        ),
    )


def _validate_table(file: str, table: Table, mapping: ColumnMapping, issues: list[DataIssue]):
    columns = _resolve_columns(file, table.header, mapping, issues)
    if columns is None:
        return
    for line, record in table.rows:
        if isinstance(record, str):
            issues.append(DataIssue(file, line, None, record))
            continue
        row = _validate_row(file, line, record, columns, issues)
        if row is not None:
            yield row


def _resolve_columns(file, header, mapping, issues) -> dict[str, str | None] | None:
    """Map each role (text, target, stance, sentiment) to a header name."""
    by_lower = {name.strip().lower(): name for name in header}
    resolved: dict[str, str | None] = {}
    for role, aliases in COLUMN_ALIASES.items():
        chosen = getattr(mapping, role)
        if role == "target" and mapping.fixed_target:
            resolved[role] = None
            continue
        if chosen is not None:
            if chosen.lower() not in by_lower:
                issues.append(
                    DataIssue(file, 1, chosen, f"column not found; header has {', '.join(header)}")
                )
                return None
            resolved[role] = by_lower[chosen.lower()]
            continue
        found = next((by_lower[a] for a in aliases if a in by_lower), None)
        if found is None and role != "sentiment":
            issues.append(
                DataIssue(
                    file,
                    1,
                    role,
                    f"required column missing; header has {', '.join(header)} "
                    f"(name it with --{role}-column)",
                )
            )
            return None
        resolved[role] = found
    resolved["fixed_target"] = mapping.fixed_target
    return resolved


def _validate_row(file, line, record, columns, issues) -> dict | None:
    before = len(issues)
    text = record.get(columns["text"])
    problem = text_problem(text)
    if problem:
        issues.append(DataIssue(file, line, columns["text"], problem))
    target_name = _cell(record, columns["target"]) if columns["target"] else columns["fixed_target"]
    target = target_id(target_name)
    if not target:
        problem = "target is empty"
        if target_name.strip():
            problem = f"target {target_name!r} has no letter or digit to name it by"
        issues.append(DataIssue(file, line, columns["target"], problem))
    stance_raw = _cell(record, columns["stance"])
    stance = normalise_label(stance_raw, STANCE_LABELS)
    if stance is None and stance_raw.strip():  # an empty cell: not labeled yet
        issues.append(
            DataIssue(
                file,
                line,
                columns["stance"],
                f"{stance_raw!r} is not a stance label; expected favor, against or none",
            )
        )
    sentiment = None
    if columns["sentiment"] is not None and _cell(record, columns["sentiment"]).strip():
        sentiment_raw = _cell(record, columns["sentiment"])
        sentiment = normalise_label(sentiment_raw, SENTIMENT_LABELS)
        if sentiment is None:
            issues.append(
                DataIssue(
                    file,
                    line,
                    columns["sentiment"],
                    f"{sentiment_raw!r} is not a sentiment label; "
                    "expected positive, negative or neutral (or leave it empty)",
                )
            )
    if len(issues) > before:
        return None
    return {
        "text": text.strip(),
        "target": target,
        "stance": stance,
        "sentiment": sentiment,
        "file": file,
        "line": line,
    }


def _cell(record: dict, column: str) -> str:
    """A label cell as text: JSON and Parquet values may be missing, null or numbers."""
    value = record.get(column)
    return "" if value is None else str(value)


def _drop_duplicates(
    rows: list[dict], issues: list[DataIssue], warnings: list[str], strict: bool
) -> list[dict]:
    """Keep one of identical rows; rows labeling one text differently are dropped and reported.

    Real benchmark files contain such conflicts, so by default they are warnings (both rows are
    left out of training); with `strict` they are errors.
    """
    by_key: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        key = (text_key(row["text"]), row["target"])
        by_key.setdefault(key, []).append(row)
    kept, repeated = [], 0
    for group in by_key.values():
        first = group[0]
        conflicts = [
            DataIssue(
                row["file"],
                row["line"],
                role,
                f"conflicting duplicate: {row[role]!r} here, {first[role]!r} for the same "
                f"text and target at {first['file']}:{first['line']}",
            )
            for row in group[1:]
            for role in ("stance", "sentiment")
            if None not in (row[role], first[role]) and row[role] != first[role]
        ]
        repeated += len(group) - 1
        if not conflicts:
            kept.append(first)
        elif strict:
            issues.extend(conflicts)
        else:
            warnings.extend(f"{c} (all rows of this text left out)" for c in conflicts)
    if repeated:
        warnings.append(f"{repeated} duplicate row(s) of an earlier text and target")
    return kept


def _class_minimum_issues(
    frame: pd.DataFrame, min_per_class: int, unlabeled: int = 0
) -> list[DataIssue]:
    """A thin target or sentiment, with what would help: labeling the rows still without a
    stance (a `stance suggest` file in progress), or a lower --min-per-class."""
    issues = []
    remedy = "lower it with --min-per-class"
    if unlabeled:
        remedy = f"label more of the {unlabeled} row(s) still without a stance, or {remedy}"
    for target, rows in frame.groupby("target"):
        counts = Counter(rows["stance"])
        short = [label for label in STANCE_LABELS if counts[label] < min_per_class]
        if short:
            shown = ", ".join(f"{label}={counts[label]}" for label in STANCE_LABELS)
            first = rows.iloc[0]
            issues.append(
                DataIssue(
                    first["file"],
                    int(first["line"]),
                    "stance",
                    f"target {target!r} has too few examples ({shown}); at least "
                    f"{min_per_class} per class are needed ({remedy})",
                )
            )
    sentiments = Counter(frame.dropna(subset=["sentiment"]).drop_duplicates("text")["sentiment"])
    if sentiments and any(sentiments[label] < min_per_class for label in SENTIMENT_LABELS):
        shown = ", ".join(f"{label}={sentiments[label]}" for label in SENTIMENT_LABELS)
        first = frame.dropna(subset=["sentiment"]).iloc[0]
        issues.append(
            DataIssue(
                first["file"],
                int(first["line"]),
                "sentiment",
                f"too few sentiment examples ({shown}); at least {min_per_class} per class "
                f"({remedy})",
            )
        )
    return issues


def _content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the validated rows, independent of file names and row order."""
    digest = hashlib.sha256()
    ordered = frame.sort_values(["target", "text"])
    for text, target, stance, sentiment in ordered[
        ["text", "target", "stance", "sentiment"]
    ].itertuples(index=False):
        digest.update(f"{text}\x1f{target}\x1f{stance}\x1f{sentiment or ''}\x1e".encode())
    return digest.hexdigest()
