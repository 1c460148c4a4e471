"""EXIF values: the TIFF field types, and what the bytes of an ASCII, BYTE or UNDEFINED
entry mean for its tag (text, a version string, UserComment-style text in its declared
character set, UCS-2 text, small integers), for exif.py."""

from __future__ import annotations

from typing import Any

from chalicelib.extraction.bounded import clean_text
from chalicelib.extraction.exif_tags import BYTE_INT_TAGS, CHARSET_TAGS, UCS2_TAGS, VERSION_TAGS

MAX_BYTE_ITEMS = 64  # BYTE arrays longer than this are binary data, not values

# type id -> (bytes per item, struct code); codes are per item, without byte order.
TYPES: dict[int, tuple[int, str]] = {
    1: (1, "B"),  # BYTE
    2: (1, "s"),  # ASCII
    3: (2, "H"),  # SHORT
    4: (4, "L"),  # LONG
    5: (8, "LL"),  # RATIONAL
    6: (1, "b"),  # SBYTE
    7: (1, "s"),  # UNDEFINED
    8: (2, "h"),  # SSHORT
    9: (4, "l"),  # SLONG
    10: (8, "ll"),  # SRATIONAL
    11: (4, "f"),  # FLOAT
    12: (8, "d"),  # DOUBLE
    13: (4, "L"),  # IFD
    16: (8, "Q"),  # LONG8 (BigTIFF)
    17: (8, "q"),  # SLONG8
    18: (8, "Q"),  # IFD8
}

_CHARSETS = {
    b"ASCII\x00\x00\x00": "ascii",
    b"UNICODE\x00": "utf-16",
    b"JIS\x00\x00\x00\x00\x00": "iso2022_jp",
}


def bytes_value(tag: int, kind: int, raw: bytes) -> Any:
    """ASCII, BYTE and UNDEFINED values: their meaning depends on the tag."""
    if kind == 2:
        return clean_text(raw.split(b"\x00", 1)[0])
    if tag in VERSION_TAGS:
        return clean_text(raw.rstrip(b"\x00"))
    if tag in CHARSET_TAGS:
        return charset_text(raw)
    if tag in UCS2_TAGS:
        return clean_text(raw.decode("utf-16-le", "replace").split("\x00", 1)[0])
    if (kind == 1 or tag in BYTE_INT_TAGS) and len(raw) <= MAX_BYTE_ITEMS:
        return scalar_or_list(list(raw))
    return None  # other UNDEFINED data is binary (MakerNote, CFA patterns, ...)


def scalar_or_list(values: list[Any]) -> Any:
    """One value as itself, several as a list (as ExifTool's JSON shows them)."""
    return values[0] if len(values) == 1 else values


def charset_text(data: bytes) -> str | None:
    """UserComment-style text: an 8-byte character code, then the text."""
    prefix, body = data[:8], data[8:]
    encoding = _CHARSETS.get(prefix)
    if encoding == "utf-16":
        # The byte order of UNICODE comments is not specified; guess from the text.
        encoding = "utf-16-le" if body[1:2] == b"\x00" else "utf-16-be"
        text = body.decode(encoding, "replace")
    elif encoding:
        text = body.decode(encoding, "replace")
    elif prefix == bytes(8):
        text = body.decode("latin-1")  # "undefined" code: usually ASCII
    else:
        text = data.decode("latin-1")
    return clean_text(text.split("\x00", 1)[0])
