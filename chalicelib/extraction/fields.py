"""The record's public fields (README, "The record"), derived from the parsed blocks.

One value per question ("which camera?", "when was it taken?", "where?"):
EXIF answers camera and capture facts, with XMP's copies of the same tags as
a fallback for files whose EXIF block is missing. `xmp` and `iptc` keep the
descriptive fields each block holds (title, keywords, ...), separately,
since the standards disagree and editors leave older blocks stale.
"""

from __future__ import annotations

from typing import Any

from chalicelib.extraction.bounded import MAX_LIST_ITEMS, approx_size, clean_text
from chalicelib.extraction.dates import taken_at
from chalicelib.extraction.makernotes import MakerFacts

MAX_LIST_BYTES = 8 * 1024  # one keyword or creator list in the record

# The derived fields every `ok` record has, in record order (after width, height, mode).
FIELDS = (
    "orientation",
    "display_width",
    "display_height",
    "megapixels",
    "has_alpha",
    "animated",
    "frames",
    "dpi",
    "bit_depth",
    "icc_profile",
    "camera",
    "exposure",
    "taken_at",
    "taken_at_source",
    "gps",
)
CAMERA_KEYS = ("make", "model", "lens", "serial", "software")
EXPOSURE_KEYS = (
    "exposure_time",
    "f_number",
    "iso",
    "focal_length",
    "focal_length_35mm",
    "flash_fired",
)

_INCH_PER_CM = 2.54


def normalized_fields(
    width: int,
    height: int,
    container_orientation: int | None,
    exif: dict[str, Any],
    xmp: dict[str, Any],
    iptc: dict[str, Any],
    maker: MakerFacts | None = None,
) -> dict[str, Any]:
    """The FIELDS that EXIF, XMP and the stored size answer (not the header facts).

    `maker` (ISO and lens from the maker notes) answers when EXIF's own tags do not.
    """
    maker = maker or MakerFacts()
    orientation = container_orientation or _int_in(exif.get("Orientation"), 1, 8)
    turned = orientation in (5, 6, 7, 8)
    when, source = taken_at(exif, xmp, iptc)
    return {
        "orientation": orientation,
        "display_width": height if turned else width,
        "display_height": width if turned else height,
        "megapixels": megapixels(width, height),
        "camera": camera(exif, xmp, maker.lens),
        "exposure": exposure(exif, maker.iso),
        "taken_at": when,
        "taken_at_source": source,
        "gps": gps(exif),
    }


def megapixels(width: int, height: int) -> float:
    """Millions of pixels, as ExifTool's Composite:Megapixels (exact to the pixel)."""
    return round(width * height / 1_000_000, 6)


def camera(
    exif: dict[str, Any], xmp: dict[str, Any], maker_lens: str | None = None
) -> dict[str, str | None]:
    return {
        "make": _text(exif.get("Make")) or _text(xmp.get("tiff:Make")),
        "model": _text(exif.get("Model")) or _text(xmp.get("tiff:Model")),
        "lens": _text(exif.get("LensModel"))
        or maker_lens
        or _text(xmp.get("exifEX:LensModel"))
        or _text(xmp.get("aux:Lens")),
        "serial": _text(exif.get("SerialNumber"))
        or _text(xmp.get("exifEX:BodySerialNumber"))
        or _text(xmp.get("aux:SerialNumber")),
        "software": _text(exif.get("Software")) or _text(xmp.get("xmp:CreatorTool")),
    }


def exposure(exif: dict[str, Any], maker_iso: int | None = None) -> dict[str, Any]:
    flash = exif.get("Flash")
    return {
        "exposure_time": _positive(exif.get("ExposureTime")),
        "f_number": _positive(exif.get("FNumber")),
        "iso": _int_in(_first(exif.get("ISO")), 1, 10**7) or _int_in(maker_iso, 1, 10**7),
        "focal_length": _positive(exif.get("FocalLength")),
        "focal_length_35mm": _int_in(exif.get("FocalLengthIn35mmFormat"), 1, 10**5),
        "flash_fired": bool(flash & 1) if type(flash) is int else None,
    }


def gps(exif: dict[str, Any]) -> dict[str, Any] | None:
    """Signed decimal degrees (and metres above sea level), or None."""
    latitude = _degrees(exif.get("GPSLatitude"), exif.get("GPSLatitudeRef"), "S", 90)
    longitude = _degrees(exif.get("GPSLongitude"), exif.get("GPSLongitudeRef"), "W", 180)
    if latitude is None or longitude is None:
        return None
    altitude = exif.get("GPSAltitude")
    if isinstance(altitude, (int, float)) and not isinstance(altitude, bool):
        altitude = -altitude if exif.get("GPSAltitudeRef") == 1 else altitude
    else:
        altitude = None
    return {"latitude": latitude, "longitude": longitude, "altitude": altitude}


def dpi(container: tuple[float, float] | None, exif: dict[str, Any]) -> list[float] | None:
    """[x, y] dots per inch: the container's density (JFIF, pHYs, BMP), else EXIF's.

    EXIF's XResolution / YResolution count per ResolutionUnit: 2 (inch, the
    default), 3 (centimetre); 1 (no unit) is an aspect ratio, not a density.
    """
    if container is not None:
        return _pair(*container)
    unit = exif.get("ResolutionUnit", 2)
    if unit not in (2, 3):
        return None
    scale = _INCH_PER_CM if unit == 3 else 1
    x, y = exif.get("XResolution"), exif.get("YResolution")
    if not _is_number(x) or not _is_number(y):
        return None
    return _pair(x * scale, y * scale)


def bit_depth(found: int | None, mode: str, exif: dict[str, Any], exif_is_file: bool) -> int | None:
    """Bits per sample (per palette index for palette images)."""
    if found is None and exif_is_file:  # TIFF: BitsPerSample
        found = _int_in(_first(exif.get("BitsPerSample")), 1, 64)
    if found is not None:
        return found
    if mode == "1":
        return 1
    if mode.startswith("I;16"):
        return 16
    return 32 if mode in ("I", "F") else 8


def has_alpha(mode: str, transparency: bool) -> bool:
    return transparency or "A" in mode or mode.endswith("a")


def xmp_fields(xmp: dict[str, Any]) -> dict[str, Any] | None:
    """title, description, keywords, rating and creator, those the packet has; else None."""
    found = {
        "title": _text(xmp.get("dc:title")),
        "description": _text(xmp.get("dc:description")),
        "keywords": _texts(xmp.get("dc:subject")),
        "rating": _rating(xmp.get("xmp:Rating")),
        "creator": _texts(xmp.get("dc:creator")),
    }
    return {key: value for key, value in found.items() if value is not None} or None


def iptc_fields(iptc: dict[str, Any]) -> dict[str, Any] | None:
    """keywords, caption and byline, those the IIM block has; else None."""
    found = {
        "keywords": _texts(iptc.get("Keywords")),
        "caption": _text(iptc.get("Caption-Abstract")),
        "byline": _texts(iptc.get("By-line")),
    }
    return {key: value for key, value in found.items() if value is not None} or None


def _texts(value: Any) -> list[str] | None:
    """A list of distinct strings within MAX_LIST_BYTES; None when empty."""
    found: dict[str, None] = {}
    budget = MAX_LIST_BYTES
    for item in [value] if isinstance(value, str) else value or []:
        text = clean_text(item, 200) if isinstance(item, str) else None
        if text and text not in found and len(found) < MAX_LIST_ITEMS:
            budget -= approx_size(text) + 1
            if budget < 0:
                break
            found[text] = None
    return list(found) or None


def _degrees(value: Any, ref: Any, negative: str, limit: float) -> float | None:
    parts = value if isinstance(value, list) else [value]
    if not parts or len(parts) > 3 or not all(_is_number(p) for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    if isinstance(ref, str) and ref.strip().upper().startswith(negative):
        degrees = -degrees
    # Seven decimals are about a centimetre; more is float noise from the rationals.
    return round(degrees, 7) if -limit <= degrees <= limit else None


def _pair(x: Any, y: Any) -> list[float] | None:
    if not (_is_number(x) and _is_number(y)) or not (0 < x < 1e6 and 0 < y < 1e6):
        return None
    return [_tidy(round(x, 2)), _tidy(round(y, 2))]


def _tidy(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _positive(value: Any) -> float | int | None:
    if _is_number(value) and value > 0:
        return value
    return None


def _rating(value: Any) -> int | float | None:
    try:
        rating = float(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not _is_number(rating) or not -1 <= rating <= 5:  # also NaN
        return None
    return int(rating) if rating == int(rating) else rating
