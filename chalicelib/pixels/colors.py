"""Average and dominant colours of a small decoded image."""

from __future__ import annotations

import math
from collections import Counter

from PIL import Image, ImageStat

DOMINANT = 5
SAMPLE = 64  # dominant colours are found on at most SAMPLE x SAMPLE pixels
OPAQUE = 128  # pixels with less alpha do not count


def hex_color(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, round(c))) for c in rgb[:3]))


def _mask(image: Image.Image) -> Image.Image | None:
    if image.mode != "RGBA":
        return None
    return image.getchannel("A").point(lambda a: 255 if a >= OPAQUE else 0)


def average_color(image: Image.Image) -> str | None:
    """The mean of the visible pixels as "#rrggbb" (None when nothing is visible)."""
    mask = _mask(image)
    if mask is not None and not mask.getbbox():
        return None
    stat = ImageStat.Stat(image.convert("RGB"), mask)
    return hex_color(stat.mean)


def dominant_colors(image: Image.Image, count: int = DOMINANT) -> tuple[tuple[str, float], ...]:
    """Up to `count` colours (median cut) with the share of the pixels each stands for.

    Shares are of all pixels, so with transparent pixels they sum to less than 1.
    """
    if max(image.size) > SAMPLE:
        image = image.copy()
        image.thumbnail((SAMPLE, SAMPLE), Image.Resampling.BOX)
    mask = _mask(image)
    quantized = image.convert("RGB").quantize(count, Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    indexes = quantized.tobytes()  # one byte per pixel: its palette index
    visible = mask.tobytes() if mask is not None else None
    counts = Counter(index for n, index in enumerate(indexes) if visible is None or visible[n])
    total = image.width * image.height
    shares: Counter[str] = Counter()
    for index, seen in counts.items():  # two palette entries may round to one colour
        shares[hex_color(palette[3 * index : 3 * index + 3])] += seen / total
    # rounded down, so that the shares never sum past 1
    return tuple(
        (color, math.floor(share * 10_000) / 10_000) for color, share in shares.most_common(count)
    )
