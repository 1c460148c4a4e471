"""ICO: the largest icon's size and mode, from the directory alone.

Pillow's ICO plugin decodes the largest icon on open, and an ICO can embed a
PNG claiming any size; the directory (16 bytes per entry) says what we need.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from chalicelib.extraction.formats import ImageFacts

MAX_ICO_ENTRIES = 256


def read_ico(fp: BinaryIO) -> ImageFacts:
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
    return ImageFacts(format="ICO", mime_type="image/x-icon", width=width, height=height, mode=mode)
