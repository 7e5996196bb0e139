"""When a quote was said: the one date rule of the HTTP API, batch scoring and article mode.

A date is a real calendar date in ISO 8601 extended form, optionally with a time of day:

    2025-02-13                      a date
    2025-02-13T09:30                a date and time (a space may stand for the T)
    2025-02-13T09:30:15.250         seconds, with up to 9 decimals
    2025-02-13T09:30:15Z            a UTC offset: Z, +01:00, +0100 or +01

Refused: dates that do not exist (2025-02-30, 2025-13-01), times that do not exist (24:00,
leap second 60), anything before or after the accepted form ("2025-02-13garbage", " 2025-02-13"),
the basic form (20250213), week and ordinal dates (2025-W07-4, 2025-044) and dates without a
day (2025-02, 2025). An actor's first and last date are the calendar days as written.
Batch files may also hold epoch milliseconds (Quotebank: a number, or a string of 10 or more
digits) and typed dates (Parquet timestamps), which are always real dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# The accepted form (the time and offset are optional); ranges are checked by `datetime` below.
ISO_DATE_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
_ISO_DATE = re.compile(ISO_DATE_PATTERN.removesuffix("$") + r"\Z")
EXAMPLE = "2025-02-13, or with a time: 2025-02-13T09:30:00Z"


class InvalidDate(ValueError):
    """A value that is not a date by the rule of this module; the message says why."""


def check_iso_date(text: str) -> str:
    """`text` unchanged when it is a real ISO 8601 date (see the module docstring)."""
    if not _ISO_DATE.match(text):
        raise InvalidDate(f"{text[:60]!r} is not an ISO 8601 date; expected {EXAMPLE}")
    try:
        date.fromisoformat(text[:10])
    except ValueError as error:
        raise InvalidDate(f"{text!r} is not a real calendar date ({error})") from None
    if len(text) > 10:
        try:
            datetime.fromisoformat(_six_decimals(text))
        except ValueError as error:
            raise InvalidDate(f"{text!r} is not a real time of day ({error})") from None
    return text


def normalise_date(value: object) -> str | None:
    """The date of a batch cell as ISO text: None when missing, InvalidDate when not a date.

    Strings follow `check_iso_date`; numbers and strings of 10 or more digits are epoch
    milliseconds (Quotebank); date and time objects (Parquet) are written in ISO form.
    """
    if value is None or value != value:  # None, NaN, NaT
        return None
    if isinstance(value, datetime | date) or hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    text = str(value).strip()
    if isinstance(value, int | float) or (text.isdigit() and len(text) >= 10):
        try:
            moment = datetime.fromtimestamp(float(text) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            raise InvalidDate(f"{text[:40]!r} is not a date in epoch milliseconds") from None
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if not text:
        return None
    return check_iso_date(str(value))


def date_problem(value: object, column: str) -> str | None:
    """Why a batch cell of the date `column` is not a date, or None when it is (or is empty)."""
    try:
        normalise_date(value)
    except InvalidDate as error:
        return f"column {column!r}: {error}"
    return None


def _six_decimals(text: str) -> str:
    """Fractions of a second cut to microseconds, which is all `datetime` keeps."""
    return re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", text)
