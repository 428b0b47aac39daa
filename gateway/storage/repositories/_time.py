"""UTC timestamps as fixed-width text, so SQL ordering by text is ordering by time."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db(moment: datetime) -> str:
    """Encode an aware datetime as UTC text; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: storage needs UTC-aware times")
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_db(text: str) -> datetime:
    """Decode text written by `to_db` (fromisoformat is ~50x faster than strptime here)."""
    return datetime.fromisoformat(text)


def maybe_from_db(text: str | None) -> datetime | None:
    """`from_db` for nullable columns."""
    return None if text is None else from_db(text)


def inserted_id(lastrowid: int | None) -> int:
    """The rowid of an INSERT (always set by SQLite; checked rather than asserted)."""
    if lastrowid is None:
        raise RuntimeError("INSERT returned no rowid")
    return lastrowid
