"""JPEG 2000 headers, parsed by Pillow.

`Image.open` parses only the header.
"""

from __future__ import annotations

import warnings
from typing import Any

from PIL import Image

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

# We never decode pixels, so Pillow's decompression-bomb guard would only stop
# us from reading the header of a legitimately huge image. Code that decodes
# pixels must check width * height itself before doing so.
Image.MAX_IMAGE_PIXELS = None

# Formats Pillow reads for us, by plugin name. Restricting Image.open to these
# keeps exotic plugins (EPS, PSD, ...) away from untrusted uploads.
PILLOW_FORMATS = ("JPEG2000",)
Image.init()
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
        if image.format == "JPEG2000":
            facts.dpi = _dpi(info.get("dpi"))
        facts.xmp = info.get("xmp")
    return facts


def _dpi(value: Any) -> tuple[float, float] | None:
    if isinstance(value, tuple) and len(value) == 2:
        return value
    return None
