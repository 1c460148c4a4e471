"""A 64-bit perceptual hash (DCT pHash), its Hamming distance and its band keys.

The hash: the image as 32x32 greyscale, its 2-D DCT-II, the 8x8 lowest
frequencies without the DC row and column (as pHash does), one bit per
coefficient: above the median or not. Pure Python: at 32x32 it is ~10,000
multiplications, not worth numpy in the Lambda bundle.
"""

from __future__ import annotations

import math
from statistics import median

from PIL import Image

SIDE = 32
LOW = 8  # coefficients 1..8 in each direction
BITS = LOW * LOW
# COS[k][n] = cos(pi * (2n + 1) * k / (2 * SIDE)), for the frequencies we keep
COS = [
    [math.cos(math.pi * (2 * n + 1) * k / (2 * SIDE)) for n in range(SIDE)] for k in range(LOW + 1)
]


def phash(image: Image.Image) -> str:
    """16 lowercase hex digits; `image` is any RGB/RGBA/L image (alpha flattened on white)."""
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()  # one byte per pixel
    rows = [pixels[y * SIDE : (y + 1) * SIDE] for y in range(SIDE)]
    # 1-D DCT of every row, keeping frequencies 1..LOW
    by_row = [
        [sum(c * p for c, p in zip(COS[k], row, strict=True)) for k in range(1, LOW + 1)]
        for row in rows
    ]
    coefficients = [
        sum(COS[ky][y] * by_row[y][kx] for y in range(SIDE))
        for ky in range(1, LOW + 1)
        for kx in range(LOW)
    ]
    middle = median(coefficients)
    value = 0
    for coefficient in coefficients:
        value = (value << 1) | (coefficient > middle)
    return f"{value:016x}"


def _as_int(h: str) -> int:
    if len(h) != BITS // 4:
        raise ValueError(f"a pHash has {BITS // 4} hex digits: {h!r}")
    return int(h, 16)


def phash_distance(a: str, b: str) -> int:
    """The Hamming distance between two hashes: how many of the 64 bits differ."""
    return (_as_int(a) ^ _as_int(b)).bit_count()


def phash_bands(h: str, bands: int = 4) -> tuple[str, ...]:
    """The hash cut into `bands` equal slices, each keyed by its position ("0:89ab", ...).

    Pigeonhole: two hashes within Hamming distance bands - 1 agree on at least
    one whole slice, so an index of the slices finds every such pair.
    """
    _as_int(h)
    if bands < 1 or (len(h) % bands):
        raise ValueError(f"{bands} bands do not cut {len(h)} hex digits evenly")
    width = len(h) // bands
    return tuple(f"{i}:{h[i * width : (i + 1) * width].lower()}" for i in range(bands))
