"""Values made safe for a record: plain types, bounded sizes, storable numbers.

Metadata comes from untrusted files and ends up in a DynamoDB item (400 KB
limit, numbers of at most 38 digits between 1e-130 and 1e126). Everything a
parser keeps goes through these helpers.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_TEXT_CHARS = 1000  # one string value
MAX_LIST_ITEMS = 100  # one list value
# Control characters other than tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_ABS = 1e125
_MIN_ABS = 1e-125
_MAX_INT = 10**38 - 1


def clean_text(raw: str | bytes | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Printable, stripped, truncated text; None when nothing is left."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = decode_text(raw)
    text = _CONTROL.sub("", raw).strip() if not raw.isprintable() else raw.strip()
    if not text:
        return None
    return text[:limit]


def decode_text(raw: bytes) -> str:
    """UTF-8 when valid (the common case), else Latin-1 (every byte is a character)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def clean_number(value: float | int | None) -> float | int | None:
    """A number DynamoDB can store exactly (see records.to_dynamo), or None."""
    if type(value) is int:
        return value if -_MAX_INT <= value <= _MAX_INT else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -_MAX_INT <= value <= _MAX_INT else None
    if not math.isfinite(value) or abs(value) >= _MAX_ABS:
        return None
    if abs(value) < _MIN_ABS:
        return 0.0
    return value


def approx_size(value: Any) -> int:
    """Bytes `value` takes in a DynamoDB item or as JSON (an upper estimate)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if isinstance(value, dict):
        return 3 + sum(len(str(k)) + 3 + approx_size(v) for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + approx_size(v) for v in value)
    return 24  # numbers, booleans, null


class SizedDict:
    """A dict that accepts entries until a byte budget or an entry limit is spent."""

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.items: dict[str, Any] = {}
        self.dropped = 0
        self._remaining = max_bytes
        self._max_entries = max_entries

    def add(self, key: str, value: Any) -> bool:
        if value is None or key in self.items:
            return False
        # Numbers and ASCII strings are most values: skip the general estimate for them.
        kind = type(value)
        if kind is int or kind is float:
            cost = len(key) + 27
        elif kind is str and value.isascii():
            cost = len(key) + 3 + len(value)
        else:
            cost = len(key) + 3 + approx_size(value)
        if cost > self._remaining or len(self.items) >= self._max_entries:
            self.dropped += 1
            return False
        self.items[key] = value
        self._remaining -= cost
        return True
