"""IPTC IIM (the "IPTC-NAA" record) from Photoshop resources or a TIFF tag.

Keeps the application record (record 2) datasets that describe the picture,
named as ExifTool names them; repeatable ones (Keywords, By-line, ...) are
lists. Binary datasets (previews) are never kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from chalicelib.extraction.bounded import MAX_LIST_ITEMS, SizedDict, clean_text

MAX_DATASETS = 2000  # read at most this many datasets
MAX_IPTC_BYTES = 12 * 1024  # estimated size of the kept fields
MAX_ITEM_CHARS = 200  # one item of a repeatable dataset (a keyword)
PHOTOSHOP_IPTC = 0x0404  # the Photoshop image resource holding IIM data

# dataset number -> name; names in REPEATABLE become lists.
DATASETS: dict[int, str] = {
    0: "ApplicationRecordVersion",
    3: "ObjectTypeReference",
    4: "ObjectAttributeReference",
    5: "ObjectName",
    7: "EditStatus",
    10: "Urgency",
    12: "SubjectReference",
    15: "Category",
    20: "SupplementalCategories",
    22: "FixtureIdentifier",
    25: "Keywords",
    26: "ContentLocationCode",
    27: "ContentLocationName",
    30: "ReleaseDate",
    35: "ReleaseTime",
    37: "ExpirationDate",
    38: "ExpirationTime",
    40: "SpecialInstructions",
    42: "ActionAdvised",
    45: "ReferenceService",
    47: "ReferenceDate",
    50: "ReferenceNumber",
    55: "DateCreated",
    60: "TimeCreated",
    62: "DigitalCreationDate",
    63: "DigitalCreationTime",
    65: "OriginatingProgram",
    70: "ProgramVersion",
    75: "ObjectCycle",
    80: "By-line",
    85: "By-lineTitle",
    90: "City",
    92: "Sub-location",
    95: "Province-State",
    100: "Country-PrimaryLocationCode",
    101: "Country-PrimaryLocationName",
    103: "OriginalTransmissionReference",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "CopyrightNotice",
    118: "Contact",
    120: "Caption-Abstract",
    121: "LocalCaption",
    122: "Writer-Editor",
    130: "ImageType",
    131: "ImageOrientation",
    135: "LanguageIdentifier",
}
REPEATABLE = {
    "ObjectAttributeReference",
    "SubjectReference",
    "SupplementalCategories",
    "Keywords",
    "ContentLocationCode",
    "ContentLocationName",
    "ReferenceService",
    "ReferenceDate",
    "ReferenceNumber",
    "By-line",
    "By-lineTitle",
    "Contact",
    "Writer-Editor",
}
_UTF8_ESCAPES = (b"\x1b%G", b"\x1b%/G", b"\x1b%/I")


@dataclass
class IptcData:
    fields: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def iptc_from_photoshop(resources: bytes) -> bytes | None:
    """The IIM block inside Photoshop image resources (`8BIM` records), if any."""
    if resources.startswith(b"Photoshop 3.0\x00"):
        resources = resources[14:]
    pos = 0
    while pos + 12 <= len(resources):
        if resources[pos : pos + 4] not in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
            return None
        resource_id = struct.unpack_from(">H", resources, pos + 4)[0]
        name_length = resources[pos + 6]
        pos += 6 + ((name_length + 2) & ~1)  # Pascal string, padded to even length
        if pos + 4 > len(resources):
            return None
        size = struct.unpack_from(">L", resources, pos)[0]
        pos += 4
        if resource_id == PHOTOSHOP_IPTC:
            return resources[pos : pos + size]
        pos += size + (size & 1)
    return None


def parse_iim(data: bytes) -> IptcData:
    """The named application-record fields of an IIM block."""
    raw: dict[str, list[bytes]] = {}
    utf8 = False
    pos = 0
    for _ in range(MAX_DATASETS):
        if pos + 5 > len(data) or data[pos] != 0x1C:
            break  # the end, or padding after the last dataset
        record, number, length = (
            data[pos + 1],
            data[pos + 2],
            struct.unpack_from(">H", data, pos + 3)[0],
        )
        pos += 5
        if length & 0x8000:  # extended length: the next (length & 0x7FFF) bytes hold it
            width = length & 0x7FFF
            if width > 4:
                break
            length = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        value = data[pos : pos + length]
        pos += length
        if record == 1 and number == 90:
            utf8 = value in _UTF8_ESCAPES
        elif record == 2 and number in DATASETS:
            raw.setdefault(DATASETS[number], []).append(value)
    fields = SizedDict(MAX_IPTC_BYTES, len(DATASETS))
    for name, values in raw.items():
        fields.add(name, _field(name, values, utf8))
    warnings = [f"{fields.dropped} IPTC fields dropped (size limit)"] if fields.dropped else []
    return IptcData(fields.items, warnings)


def _field(name: str, values: list[bytes], utf8: bool) -> Any:
    if name == "ApplicationRecordVersion":
        return int.from_bytes(values[0][:2], "big") if values[0] else None
    if name in REPEATABLE:
        texts = [_text(v, utf8, MAX_ITEM_CHARS) for v in values[:MAX_LIST_ITEMS]]
        return [t for t in texts if t] or None
    return _text(values[0], utf8)


def _text(value: bytes, utf8: bool, limit: int = 1000) -> str | None:
    if utf8:
        return clean_text(value.decode("utf-8", "replace"), limit)
    return clean_text(value, limit)  # UTF-8 if it is valid, else Latin-1
