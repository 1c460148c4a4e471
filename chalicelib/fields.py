"""The normalized record fields, derived from the EXIF, XMP and IPTC maps.

One value per question ("when was it taken?", "where?"), whichever block the
file answers it in. Precedence follows the usual reconciliation of the three
standards: EXIF for camera facts, XMP before IPTC before EXIF for descriptive
text, since editors keep XMP current and leave the older blocks stale.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.bounded import MAX_LIST_ITEMS, approx_size, clean_text

_EXIF_DATE = re.compile(r"(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)$")
_ISO_DATE = re.compile(r"\d{4}(-\d\d(-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)?)?)?)?$")
_OFFSET = re.compile(r"[+-]\d\d:\d\d$")
_IPTC_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)$")
_IPTC_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)([+-]\d\d)(\d\d)$")
MAX_KEYWORDS_BYTES = 8 * 1024

# The fields every `ok` record has, in order; None when the file does not say.
FIELDS = (
    "orientation",
    "display_width",
    "display_height",
    "frames",
    "animated",
    "color_profile",
    "camera_make",
    "camera_model",
    "lens_model",
    "software",
    "taken_at",
    "exposure_time",
    "f_number",
    "iso",
    "focal_length",
    "focal_length_35mm",
    "flash",
    "gps",
    "title",
    "description",
    "creator",
    "copyright",
    "keywords",
    "rating",
)


def normalized_fields(
    width: int,
    height: int,
    container_orientation: int | None,
    exif: dict[str, Any],
    xmp: dict[str, Any],
    iptc: dict[str, Any],
) -> dict[str, Any]:
    """All FIELDS except frames, animated and color_profile (known from the header)."""
    orientation = container_orientation or _int_in(exif.get("Orientation"), 1, 8)
    turned = orientation in (5, 6, 7, 8)
    return {
        "orientation": orientation,
        "display_width": height if turned else width,
        "display_height": width if turned else height,
        "camera_make": _text(exif.get("Make")) or _text(xmp.get("tiff:Make")),
        "camera_model": _text(exif.get("Model")) or _text(xmp.get("tiff:Model")),
        "lens_model": _text(exif.get("LensModel")) or _text(xmp.get("aux:Lens")),
        "software": _text(exif.get("Software")) or _text(xmp.get("xmp:CreatorTool")),
        "taken_at": taken_at(exif, xmp, iptc),
        "exposure_time": _positive(exif.get("ExposureTime")),
        "f_number": _positive(exif.get("FNumber")),
        "iso": _int_in(_first(exif.get("ISO")), 1, 10**7),
        "focal_length": _positive(exif.get("FocalLength")),
        "focal_length_35mm": _int_in(exif.get("FocalLengthIn35mmFormat"), 1, 10**5),
        "flash": bool(exif["Flash"] & 1) if isinstance(exif.get("Flash"), int) else None,
        "gps": gps(exif),
        "title": _text(xmp.get("dc:title"))
        or _text(iptc.get("ObjectName"))
        or _text(exif.get("XPTitle")),
        "description": _text(xmp.get("dc:description"))
        or _text(iptc.get("Caption-Abstract"))
        or _text(exif.get("ImageDescription")),
        "creator": _joined(xmp.get("dc:creator"))
        or _joined(iptc.get("By-line"))
        or _text(exif.get("Artist")),
        "copyright": _text(xmp.get("dc:rights"))
        or _text(iptc.get("CopyrightNotice"))
        or _text(exif.get("Copyright")),
        "keywords": keywords(xmp, iptc, exif),
        "rating": _rating(xmp.get("xmp:Rating"), exif.get("Rating")),
    }


def taken_at(exif: dict[str, Any], xmp: dict[str, Any], iptc: dict[str, Any]) -> str | None:
    """ISO 8601 capture time, with fractions and UTC offset when the file has them."""
    for date, subsec, offset in (
        ("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal"),
        ("CreateDate", "SubSecTimeDigitized", "OffsetTimeDigitized"),
    ):
        value = _exif_datetime(exif.get(date), exif.get(subsec), exif.get(offset))
        if value:
            return value
    for key in ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate"):
        value = xmp.get(key)
        if isinstance(value, str) and _ISO_DATE.match(value):
            return value
    return _iptc_datetime(iptc.get("DateCreated"), iptc.get("TimeCreated"))


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


def keywords(xmp: dict[str, Any], iptc: dict[str, Any], exif: dict[str, Any]) -> list[str]:
    """XMP subjects, IPTC keywords and Windows keywords, deduplicated, in that order."""
    found: dict[str, None] = {}
    sources = [xmp.get("dc:subject"), iptc.get("Keywords")]
    if isinstance(exif.get("XPKeywords"), str):
        sources.append(exif["XPKeywords"].split(";"))
    budget = MAX_KEYWORDS_BYTES
    for source in sources:
        for word in [source] if isinstance(source, str) else source or []:
            text = clean_text(word, 200)
            if text and text not in found and len(found) < MAX_LIST_ITEMS:
                budget -= approx_size(text) + 1
                if budget < 0:
                    return list(found)
                found[text] = None
    return list(found)


def _exif_datetime(value: Any, subsec: Any, offset: Any) -> str | None:
    match = _EXIF_DATE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    try:
        moment = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders
    text = moment.isoformat()
    digits = str(subsec).strip() if subsec is not None else ""
    if digits.isdigit():
        text += "." + digits[:9]
    if isinstance(offset, str) and _OFFSET.match(offset.strip()):
        text += offset.strip()
    return text


def _iptc_datetime(date: Any, time: Any) -> str | None:
    match = _IPTC_DATE.match(date) if isinstance(date, str) else None
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        text = datetime(year, month, day).date().isoformat()
    except ValueError:
        return None
    clock = _IPTC_TIME.match(time) if isinstance(time, str) else None
    if clock and int(clock[1]) < 24 and int(clock[2]) < 60 and int(clock[3]) < 60:
        text += f"T{clock[1]}:{clock[2]}:{clock[3]}{clock[4]}:{clock[5]}"
    return text


def _degrees(value: Any, ref: Any, negative: str, limit: float) -> float | None:
    parts = value if isinstance(value, list) else [value]
    if not parts or len(parts) > 3 or not all(isinstance(p, (int, float)) for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    if isinstance(ref, str) and ref.strip().upper().startswith(negative):
        degrees = -degrees
    # Seven decimals are about a centimetre; more is float noise from the rationals.
    return round(degrees, 7) if -limit <= degrees <= limit else None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


def _joined(value: Any) -> str | None:
    if isinstance(value, list):
        return clean_text("; ".join(v for v in value if isinstance(v, str)))
    return _text(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _positive(value: Any) -> float | int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _rating(xmp_value: Any, exif_value: Any) -> int | float | None:
    try:
        rating = float(xmp_value) if isinstance(xmp_value, str) else exif_value
    except ValueError:
        rating = exif_value
    if not isinstance(rating, (int, float)) or isinstance(rating, bool) or not -1 <= rating <= 5:
        return None
    return int(rating) if rating == int(rating) else rating
