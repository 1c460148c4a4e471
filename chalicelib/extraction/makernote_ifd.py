"""One IFD of a camera's maker notes, read leniently for makernotes.py.

Maker notes are TIFF-like directories whose value offsets count from the
notes' start, the TIFF header or elsewhere (`shift` says which), and whose
byte order is sometimes the other one than EXIF's: both are handled here,
every count and offset bounded.
"""

from __future__ import annotations

import math
import struct

from chalicelib.extraction.bounded import clean_text
from chalicelib.extraction.exif_values import TYPES

MAX_ENTRIES = 500  # a maker-note IFD has a few hundred entries at most
MAX_VALUE_BYTES = 64 * 1024
# The field types read here (their sizes and struct codes are EXIF's: TYPES); others skip.
_KINDS = frozenset({1, 2, 3, 4, 5, 7, 8, 9, 10, 13})


class MakerIfd:
    """One maker-note IFD inside `data`; value offsets are `data` indexes minus `shift`."""

    def __init__(self, data: bytes, at: int, order: str, shift: int) -> None:
        self.data, self.order, self.shift = data, order, shift
        self.entries: dict[int, tuple[int, int, bytes]] = {}
        if at + 2 > len(data):
            return
        count = struct.unpack_from(order + "H", data, at)[0]
        if count > MAX_ENTRIES:  # the other byte order (ExifTool's "ByteOrder Unknown")
            self.order = order = ">" if order == "<" else "<"
            count = struct.unpack_from(order + "H", data, at)[0]
        for i in range(min(count, MAX_ENTRIES)):
            pos = at + 2 + 12 * i
            if pos + 12 > len(data):
                break
            tag, kind, n = struct.unpack_from(order + "HHL", data, pos)
            self.entries.setdefault(tag, (kind, n, data[pos + 8 : pos + 12]))

    def raw(self, tag: int) -> tuple[int, int, bytes] | None:
        entry = self.entries.get(tag)
        if entry is None or entry[0] not in _KINDS:
            return None
        kind, n, field = entry
        size = TYPES[kind][0] * n
        if size > MAX_VALUE_BYTES:
            return None
        if size <= 4:
            return kind, n, field[:size]
        start = struct.unpack(self.order + "L", field)[0] + self.shift
        value = self.data[start : start + size] if start >= 0 else b""
        return (kind, n, value) if len(value) == size else None

    def numbers(self, tag: int) -> list[float]:
        found = self.raw(tag)
        if found is None or found[0] in (2, 7):
            return []
        kind, n, value = found
        code = TYPES[kind][1]
        if kind in (5, 10):  # numerator, denominator
            pairs = struct.unpack(f"{self.order}{2 * n}{code[0]}", value)
            return [a / b if b else math.nan for a, b in zip(pairs[::2], pairs[1::2], strict=True)]
        return list(struct.unpack(f"{self.order}{n}{code}", value))

    def number(self, tag: int, index: int = 0) -> int | None:
        values = self.numbers(tag)
        return int(values[index]) if len(values) > index else None

    def text(self, tag: int) -> str | None:
        found = self.raw(tag)
        if found is None or found[0] not in (2, 7):
            return None
        return clean_text(found[2].split(b"\x00", 1)[0], 200)
