"""PNG, GIF, TIFF, BMP and JPEG 2000 headers, parsed by Pillow.

`Image.open` parses only the header: PNG chunks up to the first IDAT, a
TIFF's first IFD. We never touch anything that makes Pillow read on
(`n_frames` of a GIF or TIFF, `getexif()` of a PNG, which decodes the pixels
to find chunks after them).
"""

from __future__ import annotations

import warnings
from typing import Any

# Only these formats' plugins (each registers itself); Image.init() would import
# all of Pillow's ~45 plugins, about 50 ms of every cold start.
from PIL import (  # noqa: F401
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    Jpeg2KImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
)

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.gif import scan_gif

# We never decode pixels, so Pillow's decompression-bomb guard would only stop
# us from reading the header of a legitimately huge image. Code that decodes
# pixels must check width * height itself before doing so.
Image.MAX_IMAGE_PIXELS = None
# Pillow keeps up to 64 MB of decompressed PNG text chunks by default; a few
# compressed bombs before IDAT would then fill a small Lambda's memory.
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

# Formats Pillow reads for us, by plugin name. Restricting Image.open to these
# keeps exotic plugins (EPS, PSD, ...) away from untrusted uploads.
PILLOW_FORMATS = ("PNG", "GIF", "TIFF", "BMP", "JPEG2000")
PILLOW_MIMES = {Image.MIME[fmt] for fmt in PILLOW_FORMATS} | {"image/jp2"}


def read_with_pillow(fp: BudgetedReader) -> ImageFacts:
    """Facts from Pillow's header parse; raises what Pillow raises for bad files.

    Pillow's warnings about damaged metadata become the record's warnings
    instead of log noise.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = _read(fp)
    facts.warnings.extend(f"Pillow: {warning.message}" for warning in caught[:3])
    return facts


def _read(fp: BudgetedReader) -> ImageFacts:
    with Image.open(fp, formats=PILLOW_FORMATS) as image:
        info = image.info
        facts = ImageFacts(
            format=image.format,
            # One MIME type per format (APNG stays image/png): the summary labels
            # each format's counters with it.
            mime_type=Image.MIME.get(image.format) or image.get_format_mimetype(),
            width=image.width,
            height=image.height,
            mode=image.mode,
            icc=info.get("icc_profile") or None,
            transparency=info.get("transparency") is not None,
        )
        if image.format in ("PNG", "BMP", "JPEG2000"):
            facts.dpi = _dpi(info.get("dpi"))
        if image.format == "PNG":
            _png_metadata(facts, info)
            # From the acTL chunk (APNG), read with the header.
            facts.frames = image.n_frames
            facts.animated = image.n_frames > 1
            # IHDR's bit depth (Pillow maps 1, 2 and 4-bit palettes to mode P).
            ihdr = fp.read_at(24, 1)
            facts.bit_depth = ihdr[0] if ihdr and ihdr[0] in (1, 2, 4, 8, 16) else None
        elif image.format == "GIF":
            facts.frames, facts.animated = scan_gif(fp)
            # The global colour table's size, as ExifTool's BitsPerPixel.
            screen = fp.read_at(10, 1)
            facts.bit_depth = (screen[0] & 7) + 1 if screen and screen[0] & 0x80 else None
        elif image.format == "TIFF":
            facts.exif_is_file = True
            # Pillow swaps a TIFF's size for orientations 5-8; records keep stored sizes.
            stored = image.tag_v2.get(256), image.tag_v2.get(257)  # ImageWidth, ImageLength
            if all(isinstance(side, int) for side in stored):
                facts.width, facts.height = stored
            facts.frames = None if image.tag_v2.next else 1
        elif image.format == "JPEG2000":
            facts.xmp = info.get("xmp")
    return facts


def _png_metadata(facts: ImageFacts, info: dict[str, Any]) -> None:
    facts.exif = info.get("exif")
    xmp = info.get("xmp")
    facts.xmp = xmp.encode("utf-8") if isinstance(xmp, str) else xmp
    # ImageMagick stores profiles as hex in text chunks ("Raw profile type exif").
    for kind in ("exif", "xmp", "iptc"):
        raw = _raw_profile(info.get(f"Raw profile type {kind}"))
        if raw is None:
            continue
        if kind == "exif" and not facts.exif:
            facts.exif = raw
        elif kind == "xmp" and not facts.xmp:
            facts.xmp = raw
        elif kind == "iptc":
            facts.photoshop, facts.iptc = (raw, None) if raw.startswith(b"8BIM") else (None, raw)


def _dpi(value: Any) -> tuple[float, float] | None:
    if isinstance(value, tuple) and len(value) == 2:
        return value
    return None


def _raw_profile(text: Any) -> bytes | None:
    """The bytes of an ImageMagick raw profile: "\\ntype\\n  length\\nhex hex ...\\n"."""
    if not isinstance(text, str):
        return None
    try:
        return bytes.fromhex("".join(text.split("\n")[3:]))
    except ValueError:
        return None
