"""Average and dominant colours of a small decoded image."""

from __future__ import annotations

import math
from collections import Counter

from PIL import Image, ImageStat

DOMINANT = 5
SAMPLE = 128  # dominant colours are found on at most SAMPLE x SAMPLE pixels
OPAQUE = 128  # pixels with less alpha do not count
SAME = 8  # colours this close on every channel are one colour
MIN_SHARE = 0.01  # rarer colours are edges and blends between the real ones


def hex_color(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, round(c))) for c in rgb[:3]))


def _mask(image: Image.Image) -> Image.Image | None:
    if image.mode != "RGBA":
        return None
    return image.getchannel("A").point(lambda a: 255 if a >= OPAQUE else 0)


def _close(a: list[int], b: list[int]) -> bool:
    return all(abs(x - y) <= SAME for x, y in zip(a, b, strict=True))


def average_color(image: Image.Image) -> str | None:
    """The mean of the visible pixels as "#rrggbb" (None when nothing is visible)."""
    mask = _mask(image)
    if mask is not None and not mask.getbbox():
        return None
    stat = ImageStat.Stat(image.convert("RGB"), mask)
    return hex_color(stat.mean)


def dominant_colors(image: Image.Image, count: int = DOMINANT) -> tuple[tuple[str, float], ...]:
    """Up to `count` colours (median cut) with the share of the pixels each stands for.

    Shares are of all pixels, so with transparent pixels or colours under
    MIN_SHARE left out they sum to less than 1.
    """
    if max(image.size) > SAMPLE:
        image = image.copy()
        image.thumbnail((SAMPLE, SAMPLE), Image.Resampling.BOX)
    mask = _mask(image)
    quantized = image.convert("RGB").quantize(count, Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    indexes = quantized.tobytes()  # one byte per pixel: its palette index
    visible = mask.tobytes() if mask is not None else None
    if visible is None:
        counts = Counter(indexes)
    else:
        counts = Counter(index for index, seen in zip(indexes, visible, strict=True) if seen)
    total = image.width * image.height
    kept: list[list] = []  # [rgb, share], most common first
    for index, seen in sorted(counts.items(), key=lambda item: -item[1]):
        rgb = palette[3 * index : 3 * index + 3]
        near = next((k for k in kept if _close(k[0], rgb)), None)
        if near:  # median cut splits a big flat area into boxes of one colour
            near[1] += seen / total
        else:
            kept.append([rgb, seen / total])
    kept.sort(key=lambda k: -k[1])
    # rounded down, so that the shares never sum past 1
    return tuple(
        (hex_color(rgb), math.floor(share * 10_000) / 10_000)
        for rgb, share in kept[:count]
        if share >= MIN_SHARE
    )
