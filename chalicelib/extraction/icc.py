"""The description of an embedded ICC colour profile ("sRGB IEC61966-2.1", "Display P3")."""

from __future__ import annotations

import struct

from chalicelib.extraction.bounded import clean_text

MAX_TAGS = 200


def profile_description(profile: bytes) -> str | None:
    """The `desc` tag's text (ICC v2 `desc` or v4 `mluc`), or None."""
    if len(profile) < 132 or profile[36:40] != b"acsp":
        return None
    count = min(struct.unpack_from(">L", profile, 128)[0], MAX_TAGS)
    for i in range(count):
        entry = 132 + 12 * i
        if entry + 12 > len(profile):
            return None
        signature, offset, size = struct.unpack_from(">4sLL", profile, entry)
        if signature == b"desc":
            return _text(profile[offset : offset + size])
    return None


def _text(tag: bytes) -> str | None:
    kind = tag[:4]
    if kind == b"desc" and len(tag) >= 12:
        length = struct.unpack_from(">L", tag, 8)[0]
        return clean_text(tag[12 : 12 + length].split(b"\x00", 1)[0], 200)
    if kind == b"mluc" and len(tag) >= 16:
        records, record_size = struct.unpack_from(">LL", tag, 8)
        chosen = None
        for i in range(min(records, 100)):
            at = 16 + i * record_size
            if record_size < 12 or at + 12 > len(tag):
                break
            language, length, offset = struct.unpack_from(">4sLL", tag, at)
            if chosen is None or language == b"enUS":
                chosen = (offset, length)
        if chosen:
            offset, length = chosen
            return clean_text(tag[offset : offset + length].decode("utf-16-be", "replace"), 200)
    return None
