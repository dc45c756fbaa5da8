"""Go's time.Time as text: MarshalText (RFC 3339 with trimmed nanoseconds) and the RFC 3339 parse-then-format
round trip. Used by SOPS decryption (time values, the MAC's lastmodified) and gotk.gocompat.json.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = ["format_rfc3339", "format_rfc3339nano"]


def format_rfc3339nano(value: date) -> str:
    """time.Time.MarshalText (RFC 3339 with trimmed nanoseconds); a bare date is midnight UTC, a naive time UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    minutes = int((value.utcoffset() or timedelta()).total_seconds()) // 60
    if not minutes:
        return text + "Z"
    return f"{text}{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_rfc3339(value: Any) -> str:
    """time.Parse(time.RFC3339, value) then Format(time.RFC3339): whole seconds; a datetime is taken as it is,
    a naive one as UTC. Raises ValueError when `value` is not such a timestamp."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_rfc3339nano(moment.replace(microsecond=0))
