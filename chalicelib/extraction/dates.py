"""When was it taken: the capture time from EXIF, else XMP, else IPTC, as ISO 8601."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_EXIF_DATE = re.compile(r"(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)$")
_ISO_DATE = re.compile(r"\d{4}(-\d\d(-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)?)?)?)?$")
_OFFSET = re.compile(r"[+-]\d\d:\d\d$")
_IPTC_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)$")
_IPTC_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)([+-]\d\d)(\d\d)$")

# (date tag, sub-second tag, offset tag, the name taken_at_source reports).
# Our `exif` map uses ExifTool's names: CreateDate is EXIF's DateTimeDigitized
# and ModifyDate is IFD0's DateTime; taken_at_source uses the EXIF names.
_EXIF_DATES = (
    ("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal", "DateTimeOriginal"),
    ("CreateDate", "SubSecTimeDigitized", "OffsetTimeDigitized", "DateTimeDigitized"),
    ("ModifyDate", "SubSecTime", "OffsetTime", "DateTime"),
)
# Files without an EXIF date: XMP, then IPTC (named as ExifTool's group:tag).
_XMP_DATES = (
    ("exif:DateTimeOriginal", "XMP-exif:DateTimeOriginal"),
    ("photoshop:DateCreated", "XMP-photoshop:DateCreated"),
    ("xmp:CreateDate", "XMP-xmp:CreateDate"),
)


def taken_at(
    exif: dict[str, Any], xmp: dict[str, Any], iptc: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(ISO 8601 capture time, the tag it came from), or (None, None).

    EXIF DateTimeOriginal, DateTimeDigitized, then DateTime, each with its own
    sub-second and UTC offset tags; files without any fall back to XMP and IPTC,
    where a date alone is completed by another source's time for the same day.
    """
    for date, subsec, offset, name in _EXIF_DATES:
        value = _exif_datetime(exif.get(date), exif.get(subsec), exif.get(offset))
        if value:
            return value, name
    found = [
        (value, name)
        for key, name in _XMP_DATES
        if isinstance(value := xmp.get(key), str) and _ISO_DATE.match(value)
    ]
    value = _iptc_datetime(iptc.get("DateCreated"), iptc.get("TimeCreated"))
    if value:
        found.append((value, "IPTC:DateCreated"))
    if not found:
        return None, None
    # The first source decides the moment; a later one that agrees with it and says more
    # (a time and offset for the same day) makes it more precise.
    chosen, source = found[0]
    for value, name in found[1:]:
        if len(value) > len(chosen) and value.startswith(chosen):
            chosen, source = value, name
    return chosen, source


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
