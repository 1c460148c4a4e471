"""Decode an image once, at the smallest scale that still serves the largest preview.

JPEG decodes through draft mode (libjpeg's DCT scaling: 1/2, 1/4, 1/8 of the
pixels are computed at all); other formats decode in full and are reduced by
whole factors (`Image.reduce`) before the final resampling. The EXIF
orientation is applied after shrinking (rotating 1024 px instead of 24 MP),
and every mode ends as 8-bit RGB, or RGBA when the image has real alpha.
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

from PIL import Image

try:  # HEIC/HEIF through libheif; AVIF stays with Pillow's own plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - the bundle ships it (requirements.txt)
    pillow_heif = None

ORIENTATION = 0x0112
# The EXIF orientation's transposes, as ImageOps.exif_transpose applies them.
# Applied by hand because that helper reads the tag from the image it gets,
# and the shrunken copy no longer carries a TIFF's tags.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class OverLimit(Exception):
    """The header declares more pixels than allowed: the image is not decoded."""


def open_image(fp: BinaryIO, max_pixels: int) -> Image.Image:
    """The image's header (no pixels decoded); OverLimit past `max_pixels`.

    Pillow's own decompression-bomb guard stays on (it raises past twice
    Image.MAX_IMAGE_PIXELS); only its warning is silenced, because our limit decides.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(fp)
        except Image.DecompressionBombError as error:
            raise OverLimit(str(error)) from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise OverLimit(f"{width}x{height} is more than {max_pixels} pixels")
    if width < 1 or height < 1:
        raise ValueError(f"empty image ({width}x{height})")
    return image


def fitted(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """`size` scaled so that its long edge is `edge`, never enlarged."""
    width, height = size
    scale = edge / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        return 1
    return value if value in TRANSPOSE else 1


def decode(image: Image.Image, edge: int) -> Image.Image:
    """The image's first frame, oriented, 8-bit RGB(A), its long edge at most `edge`."""
    target = fitted(image.size, edge)
    turn = orientation(image)
    if image.format == "JPEG":
        image.draft("RGB" if image.mode == "YCbCr" else None, target)
    image.load()
    small = to_8bit(image)  # first: reduce() would average palette indexes or 16-bit values
    factor = min(small.width // target[0], small.height // target[1])
    if factor >= 2:
        small = small.reduce(factor)
    if small.size != target:
        small = small.resize(target, Image.Resampling.LANCZOS)
    if turn in TRANSPOSE:
        small = small.transpose(TRANSPOSE[turn])
    return small


def to_8bit(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when some pixel is not opaque; 16-bit and float scaled, not clipped."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        low, high = image.getextrema() if mode == "I" else (0, 65535)
        scale = 255 / 65535 if mode != "I" or high > 255 or low < 0 else 1
        image = image.convert("I").point(lambda v: v * scale).convert("L")
    elif mode == "F":
        low, high = image.getextrema()
        span = (high - low) or 1
        image = image.point(lambda v: (v - low) * (255 / span)).convert("L")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.mode in ("LA", "La", "RGBa", "PA"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        if image.getchannel("A").getextrema()[0] == 255:
            return image.convert("RGB")
        return image
    return image if image.mode == "RGB" else image.convert("RGB")
