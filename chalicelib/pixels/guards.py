"""Checks on the raw header before Pillow opens a file, where Pillow itself has no bound.

Pillow's TIFF plugin turns every strip or tile offset of the first IFD into a
Python tuple while *opening* the file: a 2 MB TIFF that declares 1.75 million
one-byte strips costs 430 MB and seconds of CPU before a pixel is decoded.
Counting the offsets first costs a few reads.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

# A 200 MP image in 16 x 16 tiles (TIFF's smallest) has 781,250 of them; real
# files use strips of many rows or 256 px tiles: a few thousand. Pillow's
# tile list costs ~250 bytes per entry, so this bounds it at ~25 MB.
MAX_TIFF_SEGMENTS = 100_000
MAX_ENTRIES_SCANNED = 4096
OFFSET_TAGS = (273, 324)  # StripOffsets, TileOffsets


class Refused(Exception):
    """The header declares a structure too costly to open."""


def check_header(fp: BinaryIO) -> None:
    """Raise Refused for a TIFF whose first IFD has too many strips or tiles; rewind `fp`."""
    try:
        head = fp.read(16)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            _check_ifd(fp, head[:2], big=False, offset=_unpack(head[:2], "I", head[4:8]))
        elif head[:4] in (b"II+\x00", b"MM\x00+") and len(head) == 16:
            _check_ifd(fp, head[:2], big=True, offset=_unpack(head[:2], "Q", head[8:16]))
    finally:
        fp.seek(0)


def _unpack(order: bytes, kind: str, data: bytes) -> int:
    return struct.unpack(("<" if order == b"II" else ">") + kind, data)[0]


def _check_ifd(fp: BinaryIO, order: bytes, *, big: bool, offset: int) -> None:
    count_size, entry_size = (8, 20) if big else (2, 12)
    fp.seek(offset)
    raw = fp.read(count_size)
    if len(raw) < count_size:
        return  # Pillow reports the broken file
    entries = min(_unpack(order, "Q" if big else "H", raw), MAX_ENTRIES_SCANNED)
    table = fp.read(entries * entry_size)
    for start in range(0, len(table) - entry_size + 1, entry_size):
        entry = table[start : start + entry_size]
        tag = _unpack(order, "H", entry[:2])
        if tag in OFFSET_TAGS:
            count = _unpack(order, "Q", entry[4:12]) if big else _unpack(order, "I", entry[4:8])
            if count > MAX_TIFF_SEGMENTS:
                raise Refused(f"the TIFF declares {count} strips or tiles")
