"""Header parsers for formats whose Pillow plugin reads or decodes too much.

Pillow's WebP plugin reads the whole file on open, and its ICO plugin decodes
the largest icon on open (an ICO can embed a PNG claiming any size). These
parsers read a few dozen bytes instead. Each takes a binary file positioned
anywhere and returns the same fields Pillow would, or raises ValueError.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

MAX_ICO_ENTRIES = 256


def parse_webp(fp: BinaryIO) -> dict[str, Any]:
    """WebP size and mode from the RIFF header and first chunk (30 bytes)."""
    fp.seek(0)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ValueError("truncated WebP header")
    chunk, data = head[12:16], head[20:30]
    if chunk == b"VP8X":
        flags = data[0]
        width = 1 + int.from_bytes(data[4:7], "little")
        height = 1 + int.from_bytes(data[7:10], "little")
        mode = "RGBA" if flags & 0x10 else "RGB"
    elif chunk == b"VP8L":
        if data[0] != 0x2F:
            raise ValueError("bad VP8L signature")
        bits = int.from_bytes(data[1:5], "little")
        width = 1 + (bits & 0x3FFF)
        height = 1 + ((bits >> 14) & 0x3FFF)
        mode = "RGBA" if (bits >> 28) & 1 else "RGB"
    elif chunk == b"VP8 ":
        if data[3:6] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width = int.from_bytes(data[6:8], "little") & 0x3FFF
        height = int.from_bytes(data[8:10], "little") & 0x3FFF
        mode = "RGB"
    else:
        raise ValueError(f"unknown WebP chunk {chunk!r}")
    return {
        "format": "WEBP",
        "mime_type": "image/webp",
        "width": width,
        "height": height,
        "mode": mode,
    }


def parse_ico(fp: BinaryIO) -> dict[str, Any]:
    """Size and mode of the largest icon, from the ICO directory alone."""
    fp.seek(0)
    header = fp.read(6)
    if len(header) < 6:
        raise ValueError("truncated ICO header")
    reserved, kind, count = struct.unpack("<HHH", header)
    if reserved != 0 or kind != 1 or not 0 < count <= MAX_ICO_ENTRIES:
        raise ValueError("invalid ICO directory")
    directory = fp.read(16 * count)
    if len(directory) < 16 * count:
        raise ValueError("truncated ICO directory")
    best = None
    for i in range(count):
        width, height, _colors, _reserved, _planes, bpp, _size, _offset = struct.unpack(
            "<BBBBHHII", directory[16 * i : 16 * (i + 1)]
        )
        entry = (width or 256, height or 256, bpp)  # 0 means 256 in an ICO directory
        if best is None or (entry[0] * entry[1], bpp) > (best[0] * best[1], best[2]):
            best = entry
    width, height, bpp = best
    mode = {32: "RGBA", 24: "RGB", 8: "P", 4: "P", 1: "1"}.get(bpp, "RGBA")
    return {
        "format": "ICO",
        "mime_type": "image/x-icon",
        "width": width,
        "height": height,
        "mode": mode,
    }
