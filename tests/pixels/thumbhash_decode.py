"""The reference ThumbHash decoder (Evan Wallace, MIT), ported for the tests only.

The service never decodes placeholders (browsers do); the tests decode them
to check what a page would show: the average colour and the coarse layout.
"""

from __future__ import annotations

import base64
import math


def _header(data: bytes):
    header24 = data[0] | (data[1] << 8) | (data[2] << 16)
    header16 = data[3] | (data[4] << 8)
    return header24, header16


def average_rgba(hash_b64: str) -> tuple[float, float, float, float]:
    """thumbHashToAverageRGBA: r, g, b, a in 0..1."""
    data = base64.b64decode(hash_b64)
    header24, _ = _header(data)
    lum = (header24 & 63) / 63
    p = ((header24 >> 6) & 63) / 31.5 - 1
    q = ((header24 >> 12) & 63) / 31.5 - 1
    has_alpha = header24 >> 23
    a = (data[5] & 15) / 15 if has_alpha else 1.0
    b = lum - 2 / 3 * p
    r = (3 * lum - b + q) / 2
    g = r - q
    return max(0, min(1, r)), max(0, min(1, g)), max(0, min(1, b)), a


def decode(hash_b64: str) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """thumbHashToRGBA: width, height and RGBA pixels of the placeholder."""
    data = base64.b64decode(hash_b64)
    header24, header16 = _header(data)
    l_dc = (header24 & 63) / 63
    p_dc = ((header24 >> 6) & 63) / 31.5 - 1
    q_dc = ((header24 >> 12) & 63) / 31.5 - 1
    l_scale = ((header24 >> 18) & 31) / 31
    has_alpha = header24 >> 23
    p_scale = ((header16 >> 3) & 63) / 63
    q_scale = ((header16 >> 9) & 63) / 63
    landscape = header16 >> 15
    lx = max(3, (5 if has_alpha else 7) if landscape else header16 & 7)
    ly = max(3, header16 & 7 if landscape else (5 if has_alpha else 7))
    a_dc = (data[5] & 15) / 15 if has_alpha else 1.0
    a_scale = (data[5] >> 4) / 15
    start = 6 if has_alpha else 5
    index = 0

    def channel(nx, ny, scale):
        nonlocal index
        ac = []
        for cy in range(ny):
            cx = 0 if cy else 1
            while cx * ny < nx * (ny - cy):
                nibble = (data[start + (index >> 1)] >> ((index & 1) << 2)) & 15
                ac.append((nibble / 7.5 - 1) * scale)
                index += 1
                cx += 1
        return ac

    l_ac = channel(lx, ly, l_scale)
    p_ac = channel(3, 3, p_scale * 1.25)
    q_ac = channel(3, 3, q_scale * 1.25)
    a_ac = channel(5, 5, a_scale) if has_alpha else []

    ratio = (
        (5 if has_alpha else 7) / (data[3] & 7)
        if landscape
        else (data[3] & 7) / (5 if has_alpha else 7)
    )
    w = round(32 if ratio > 1 else 32 * ratio)
    h = round(32 / ratio if ratio > 1 else 32)
    pixels = []
    for y in range(h):
        for x in range(w):
            lum, p, q, a = l_dc, p_dc, q_dc, a_dc
            fx = [math.cos(math.pi / w * (x + 0.5) * cx) for cx in range(max(lx, 5))]
            fy = [math.cos(math.pi / h * (y + 0.5) * cy) for cy in range(max(ly, 5))]
            j = 0
            for cy in range(ly):
                cx = 0 if cy else 1
                while cx * ly < lx * (ly - cy):
                    lum += l_ac[j] * fx[cx] * fy[cy] * 2
                    j += 1
                    cx += 1
            j = 0
            for cy in range(3):
                for cx in range(0 if cy else 1, 3 - cy):
                    f = fx[cx] * fy[cy] * 2
                    p += p_ac[j] * f
                    q += q_ac[j] * f
                    j += 1
            if has_alpha:
                j = 0
                for cy in range(5):
                    for cx in range(0 if cy else 1, 5 - cy):
                        a += a_ac[j] * fx[cx] * fy[cy] * 2
                        j += 1
            b = lum - 2 / 3 * p
            r = (3 * lum - b + q) / 2
            g = r - q
            pixels.append(
                tuple(max(0, min(255, round(255 * v))) for v in (r, g, b, a))  # type: ignore[misc]
            )
    return w, h, pixels
