"""The plain data extraction hands to the rest of the service."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Quotation:
    """A quotation found in an article; offsets index the article text (text[start:end])."""

    doc: str | None
    quote: str
    start: int
    end: int
    speaker: str | None
    speaker_start: int | None
    speaker_end: int | None
    cue: str | None
    direct: bool
    speaker_type: str | None = None  # person | organisation | description (None: no speaker)

    def to_dict(self) -> dict:
        """A JSON-ready dict with every field."""
        return asdict(self)


@dataclass(frozen=True)
class Article:
    """One article to extract from: an id and its text, paragraphs separated by newlines."""

    id: str
    text: str
    date: str | None = None
    url: str | None = None
