"""ThumbHash placeholders: Evan Wallace's published algorithm (MIT), encoder only.

A ~25-byte DCT summary of a tiny copy of the image (luminance, two colour
axes, and alpha when there is any) that a page decodes into a blurred
placeholder, aspect ratio and average colour included. Ported line by line
from the reference `rgbaToThumbHash` (JavaScript rounds halves up, hence
`_round`); the Python packages that wrap it are unmaintained or native.
The encoder reads at most SIDE x SIDE pixels: the hash keeps 7 frequencies
per axis at most, so more input only costs time in pure Python.
"""

from __future__ import annotations

import base64
import math

from PIL import Image

SIDE = 32


def _round(value: float) -> int:
    return math.floor(value + 0.5)


def _channel(values: list[float], w: int, h: int, nx: int, ny: int):
    """DC term, AC terms normalised to 0..1, and the AC scale of one channel."""
    rows = [values[y * w : (y + 1) * w] for y in range(h)]
    dots: dict[int, list[float]] = {}  # per horizontal frequency: each row's dot product
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        fy = [math.cos(math.pi / h * cy * (y + 0.5)) for y in range(h)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            if cx not in dots:
                fx = [math.cos(math.pi / w * cx * (x + 0.5)) for x in range(w)]
                dots[cx] = [sum(v * c for v, c in zip(row, fx, strict=True)) for row in rows]
            f = sum(a * b for a, b in zip(fy, dots[cx], strict=True)) / (w * h)
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def thumbhash(image: Image.Image) -> str:
    """The image's ThumbHash, base64 (standard alphabet, padded)."""
    small = image.convert("RGBA")
    if max(small.size) > SIDE:
        small.thumbnail((SIDE, SIDE), Image.Resampling.BOX)
    w, h = small.size
    rgba = small.tobytes()
    pixels = [rgba[i : i + 4] for i in range(0, len(rgba), 4)]

    avg_r = avg_g = avg_b = avg_a = 0.0
    for r, g, b, a in pixels:
        alpha = a / 255
        avg_r += alpha / 255 * r
        avg_g += alpha / 255 * g
        avg_b += alpha / 255 * b
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a

    has_alpha = avg_a < w * h
    l_limit = 5 if has_alpha else 7  # fewer luminance terms when alpha takes room
    lx = max(1, _round(l_limit * w / max(w, h)))
    ly = max(1, _round(l_limit * h / max(w, h)))
    lum, p, q, alphas = [], [], [], []
    for r, g, b, a in pixels:  # composite atop the average colour, then to LPQA
        alpha = a / 255
        r = avg_r * (1 - alpha) + alpha / 255 * r
        g = avg_g * (1 - alpha) + alpha / 255 * g
        b = avg_b * (1 - alpha) + alpha / 255 * b
        lum.append((r + g + b) / 3)
        p.append((r + g) / 2 - b)
        q.append(r - g)
        alphas.append(alpha)

    l_dc, l_ac, l_scale = _channel(lum, w, h, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _channel(p, w, h, 3, 3)
    q_dc, q_ac, q_scale = _channel(q, w, h, 3, 3)
    channels = [l_ac, p_ac, q_ac]

    landscape = w > h
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (has_alpha << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (_round(63 * p_scale) << 3)
        | (_round(63 * q_scale) << 9)
        | (landscape << 15)
    )
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        a_dc, a_ac, a_scale = _channel(alphas, w, h, 5, 5)
        out.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        channels.append(a_ac)
    start = len(out)
    index = 0
    for ac in channels:
        for f in ac:
            if start + (index >> 1) == len(out):
                out.append(0)
            out[start + (index >> 1)] |= _round(15 * f) << ((index & 1) << 2)
            index += 1
    return base64.b64encode(bytes(out)).decode("ascii")
