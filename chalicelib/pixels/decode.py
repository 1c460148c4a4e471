"""Decode an image once, at the smallest scale that still serves the largest preview.

JPEG decodes through draft mode (libjpeg's DCT scaling: 1/2, 1/4, 1/8 of the
pixels are computed at all), JPEG 2000 at a lower resolution level; other
formats decode in full and are reduced by whole factors (`Image.reduce`)
before the final resampling. The EXIF
orientation is applied after shrinking (rotating 1024 px instead of 24 MP),
and every mode ends as 8-bit RGB, or RGBA when the image has real alpha.
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

from PIL import Image

from .guards import check_header

try:  # HEIC/HEIF through libheif; AVIF stays with Pillow's own plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - the bundle ships it (requirements.txt)
    pillow_heif = None

ORIENTATION = 0x0112
JP2_HEADER_SCAN = 64 * 1024  # the codestream's main header comes early in a JP2
PREVIEWS_BYTES = 16 * 1024 * 1024  # the 1024 px stage: resizing, WebP encoding, hashes
# The EXIF orientation's transposes, as ImageOps.exif_transpose applies them.
# Applied by hand after shrinking (turning 1024 px, not the full decode), with
# the tag read off the opened image: the shrunken copy no longer carries it.
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


class TooBigToDecode(OverLimit):
    """Decoding would hold more memory than allowed: the image is not decoded."""


def held_bytes(mode: str) -> int:
    """Bytes per pixel Pillow holds for an image of `mode`: one for 1, L and P, two
    for the 16-bit modes, four for every other mode (RGB is stored as RGBX)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def decoding_bytes(image: Image.Image) -> int:
    """What decoding `image` (opened, after `draft`) and making its previews holds at the
    peak, from its header: the decoded pixels; to_8bit's copies (none for RGB; for RGBA
    its alpha band and an RGB copy; up to an RGBA and an RGB copy and an alpha band for
    the other modes) and the reduced copy (a quarter at most); the decoder's own buffers
    (libwebp's output and Pillow's copy of it for WebP, libheif's and libavif's, OpenJPEG's
    32-bit components); and what the previews need whatever the size.
    tests/pixels/test_decode_memory.py measures real decodes against it."""
    width, height = image.size
    level = getattr(image, "reduce", 0)  # an int once _jpeg2000_resolution set one
    shrink = 2**level if isinstance(level, int) else 1
    pixels = -(-width // shrink) * -(-height // shrink)
    copies = {"RGB": 1, "RGBA": 6}.get(image.mode, 10)
    own = {"WEBP": 12, "HEIF": 4, "AVIF": 8, "JPEG2000": 12}.get(image.format or "", 0)
    return pixels * (held_bytes(image.mode) + copies + own) + PREVIEWS_BYTES


def open_image(fp: BinaryIO, max_pixels: int) -> Image.Image:
    """The image's header (no pixels decoded); OverLimit past `max_pixels`.

    Pillow's own decompression-bomb guard stays on (it raises past twice
    Image.MAX_IMAGE_PIXELS); only its warning is silenced, because our limit decides.
    """
    check_header(fp)
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


def prepare(image: Image.Image, edge: int) -> int:
    """Have the decoder work at the smallest scale that serves `edge`; returns what
    the decode will hold (decoding_bytes)."""
    # JPEG and its MPO flavour (phones' multi-picture files) scale in the DCT;
    # other formats' draft() does nothing.
    image.draft("RGB" if image.mode == "YCbCr" else None, fitted(image.size, edge))
    if image.format == "JPEG2000":
        _jpeg2000_resolution(image, fitted(image.size, edge))
    return decoding_bytes(image)


def decode(image: Image.Image, edge: int, max_bytes: int | None = None) -> Image.Image:
    """The image's first frame, oriented, 8-bit RGB(A), its long edge at most `edge`;
    TooBigToDecode when decoding it would hold more than `max_bytes`."""
    needed = prepare(image, edge)
    if max_bytes is not None and needed > max_bytes:
        raise TooBigToDecode(
            f"decoding needs about {needed >> 20} MiB, more than the {max_bytes >> 20} MiB allowed"
        )
    image.load()
    # Read after loading: Pillow's TIFF plugin applies the orientation itself
    # while loading (and drops the tag), as pillow-heif does for irot/imir.
    turn = orientation(image)
    small = to_8bit(image)  # first: reduce() would average palette indexes or 16-bit values
    target = fitted(small.size, edge)
    factor = min(small.width // target[0], small.height // target[1])
    if factor >= 2:
        small = small.reduce(factor)
    if small.size != target:  # by less than 2x now: bicubic is as sharp as Lanczos, 2x faster
        small = small.resize(target, Image.Resampling.BICUBIC)
    if turn in TRANSPOSE:
        small = small.transpose(TRANSPOSE[turn])
    return small


def _jpeg2000_resolution(image: Image.Image, target: tuple[int, int]) -> None:
    """Have OpenJPEG decode a lower resolution level (each halves both sides), as far as
    the codestream has levels: asking for more fails the decode."""
    factor = min(image.width // target[0], image.height // target[1])
    fp = image.fp
    where = fp.tell()
    fp.seek(0)
    head = fp.read(JP2_HEADER_SCAN)
    fp.seek(where)
    siz = head.find(b"\xff\x4f\xff\x51")  # SOC then SIZ: the main header starts
    cod = head.find(b"\xff\x52", siz) if siz >= 0 else -1  # COD: coding style defaults
    if cod < 0 or len(head) <= cod + 9 or factor < 2:
        return
    levels = head[cod + 9]  # Lcod (2), Scod, progression, layers (2), MCT, then levels
    image.reduce = min(levels, factor.bit_length() - 1)


def to_8bit(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when some pixel is not opaque; 16-bit and float scaled, not clipped."""
    mode = image.mode
    if mode == "I;16":  # in place of 16 bits: no 32-bit copy of a big greyscale scan
        image = image.point(lambda v: v * (1 / 256)).convert("L")
    elif mode.startswith("I;16") or mode == "I":
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
