"""Generated test pictures for the pixels stage: photo-like scenes, flats, marked corners."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

RED = (255, 0, 0)


def scene(seed: int, size: tuple[int, int] = (1200, 800)) -> Image.Image:
    """A photo-like picture (a gradient and overlapping discs): smooth areas and edges,
    unlike random noise, so compression and hashes behave as they do on photos."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    scale = max(size) / 1200
    for _ in range(25):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = int(rng.randrange(20, 200) * scale)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    return image


def encode(image: Image.Image, fmt: str, **save) -> bytes:
    out = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.from_pillow(image).save(out, **save)
    else:
        image.save(out, fmt, **save)
    return out.getvalue()


def marked(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """White, with a red block in the top-left corner: shows where a rotation went."""
    image = Image.new("RGB", size, "white")
    image.paste(RED, (0, 0, size[0] // 4, size[1] // 4))
    return image


def red_corners(image: Image.Image) -> list[str]:
    """Which corners of `image` are red ("tl", "tr", "bl", "br")."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    corners = {"tl": (2, 2), "tr": (w - 3, 2), "bl": (2, h - 3), "br": (w - 3, h - 3)}
    return [name for name, xy in corners.items() if rgb.getpixel(xy)[1] < 100]
