"""EXIF (a TIFF structure) from a JPEG APP1, PNG eXIf, WebP EXIF, HEIF Exif item or a TIFF file.

Our own parser rather than Pillow's: it follows only IFD0, the Exif, GPS and
Interop sub-IFDs (never the thumbnail IFD; the MakerNote is set aside for
makernotes.py), reads each IFD once (offset
loops end), bounds every count, and keeps only named tags with plain values,
so whatever the input, the result is small and storable. What the bytes of a
text or byte entry mean is exif_values.py's business.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.extraction.bounded import (
    MAX_LIST_ITEMS,
    MAX_TEXT_CHARS,
    SizedDict,
    clean_number,
)
from chalicelib.extraction.exif_tags import (
    BLOCK_TAGS,
    EXIF_IFD,
    GPS_IFD,
    GPS_TAGS,
    INTEROP_IFD,
    INTEROP_TAGS,
    MAIN_TAGS,
)
from chalicelib.extraction.exif_values import MAX_BYTE_ITEMS, TYPES, bytes_value, scalar_or_list

MAX_TAGS = 200  # kept tags per file
MAX_TAGS_BYTES = 24 * 1024  # their estimated size in the record
MAX_IFD_ENTRIES = 1000  # entries read per IFD (a real one has < 100)
MAX_VALUE_BYTES = 64 * 1024  # one tag value; larger ones are blobs we do not keep
MAX_BLOCK_BYTES = 4 * 1024 * 1024  # XMP / IPTC / ICC blocks inside a TIFF file
MAX_TEXT_BYTES = 4 * MAX_TEXT_CHARS  # enough for MAX_TEXT_CHARS characters of UTF-8
MAX_MAKER_NOTE_BYTES = 256 * 1024  # maker notes are read for their ISO and lens only
MAKER_NOTE = 0x927C

ReadAt = Callable[[int, int], bytes]


class ExifError(ValueError):
    """The TIFF structure cannot be read at all (bad header)."""


@dataclass
class ExifData:
    tags: dict[str, Any]
    # Raw XMP / IPTC / Photoshop / ICC blocks found in IFD0 (TIFF files).
    blocks: dict[str, bytes] = field(default_factory=dict)
    # Offset of the next IFD after IFD0 (a TIFF's second page), 0 when none.
    next_ifd: int = 0
    # The MakerNote's (offset in the TIFF structure, bytes, byte order), for makernotes.py.
    maker_note: tuple[int, bytes, str] | None = None
    warnings: list[str] = field(default_factory=list)


def parse_exif(data: bytes) -> ExifData:
    """EXIF from a blob holding a TIFF header, with or without the `Exif\\0\\0` prefix."""
    if data.startswith(b"Exif"):
        data = data[6:]
    return _Parser(lambda offset, size: data[offset : offset + size], len(data)).run()


def parse_tiff_file(read_at: ReadAt, size: int) -> ExifData:
    """EXIF of a TIFF file read in place: IFD0 is the image's own directory."""
    return _Parser(read_at, size).run()


def parse_exif_parts(parts: list[tuple[str, bytes]]) -> ExifData:
    """EXIF stored as separate TIFF structures, one per IFD ("IFD0", "Exif", "GPS"),
    as Canon's CR3 does (CMT1, CMT2, CMT4): each structure's first IFD is that IFD."""
    tags = SizedDict(MAX_TAGS_BYTES, MAX_TAGS)
    result = ExifData(tags=tags.items)
    for role, data in parts:
        parser = _Parser(lambda offset, size, d=data: d[offset : offset + size], len(data), tags)
        found = parser.run(role)
        result.warnings.extend(found.warnings)
        result.blocks.update(found.blocks)
        result.maker_note = result.maker_note or found.maker_note
    return result


class _Parser:
    def __init__(self, read_at: ReadAt, size: int, tags: SizedDict | None = None) -> None:
        self._read_at = read_at
        self._size = size
        self._tags = tags or SizedDict(MAX_TAGS_BYTES, MAX_TAGS)
        self._seen: set[int] = set()
        self._result = ExifData(tags=self._tags.items)

    def run(self, role: str = "IFD0") -> ExifData:
        head = self._read_at(0, 16)
        if head[:2] not in (b"II", b"MM"):
            raise ExifError("no TIFF byte-order mark")
        order = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack(order + "H", head[2:4])[0]
        # 42, and the magic numbers of Olympus (ORF) and Panasonic (RW2) raws.
        if magic in (42, 0x4F52, 0x5352, 0x55) and len(head) >= 8:
            self._big, first = False, struct.unpack(order + "L", head[4:8])[0]
        elif magic == 43 and len(head) >= 16:
            self._big, first = True, struct.unpack(order + "Q", head[8:16])[0]
        else:
            raise ExifError("bad TIFF header")
        self._order = order
        self._offset = struct.Struct(order + ("Q" if self._big else "L")).unpack
        # Precompiled formats for the common case of one value per entry.
        self._single = {
            kind: struct.Struct(order + code).unpack for kind, (_, code) in TYPES.items()
        }
        self._pair = {code: struct.Struct(order + code * 2).unpack for code in "Ll"}
        if role == "IFD0":
            pointers, self._result.next_ifd = self._ifd(
                first, MAIN_TAGS, "IFD0", (EXIF_IFD, GPS_IFD), top=True
            )
        else:  # a structure holding only the Exif or GPS IFD (CR3)
            pointers = {EXIF_IFD if role == "Exif" else GPS_IFD: first}
        if EXIF_IFD in pointers:
            inner, _ = self._ifd(pointers[EXIF_IFD], MAIN_TAGS, "Exif IFD", (INTEROP_IFD,))
            if INTEROP_IFD in inner:
                self._ifd(inner[INTEROP_IFD], INTEROP_TAGS, "Interop IFD")
        if GPS_IFD in pointers:
            self._ifd(pointers[GPS_IFD], GPS_TAGS, "GPS IFD")
        if self._tags.dropped:
            self._warn(f"{self._tags.dropped} EXIF tags dropped (size limit)")
        return self._result

    def _warn(self, message: str) -> None:
        if len(self._result.warnings) < 5:
            self._result.warnings.append(message)

    def _ifd(
        self,
        offset: int,
        names: dict[int, str],
        label: str,
        pointer_tags: tuple[int, ...] = (),
        top: bool = False,
    ) -> tuple[dict[int, int], int]:
        """Read one IFD; returns the sub-IFD pointers it holds and the next-IFD offset."""
        if offset in self._seen or not 0 < offset < self._size:
            self._warn(f"{label} offset {offset} is invalid")
            return {}, 0
        self._seen.add(offset)
        count_size, entry_size, next_size = (8, 20, 8) if self._big else (2, 12, 4)
        raw = self._read_at(offset, count_size)
        if len(raw) < count_size:
            self._warn(f"{label} is truncated")
            return {}, 0
        count = struct.unpack(self._order + ("Q" if self._big else "H"), raw)[0]
        if count > MAX_IFD_ENTRIES:
            self._warn(f"{label} has {count} entries; reading {MAX_IFD_ENTRIES}")
            count = MAX_IFD_ENTRIES
        table = self._read_at(offset + count_size, count * entry_size + next_size)
        entries = min(count, len(table) // entry_size)
        if entries < count:
            self._warn(f"{label} is truncated")
        pointers: dict[int, int] = {}
        unpack = struct.Struct(self._order + ("HHQ8s" if self._big else "HHL4s")).unpack_from
        short, long, offset_of = self._single[3], self._single[4], self._offset
        rational = {5: self._pair["L"], 10: self._pair["l"]}
        add, read_at, size = self._tags.add, self._read_at, self._size
        for at in range(0, entries * entry_size, entry_size):
            tag, kind, n, inline = unpack(table, at)
            name = names.get(tag)
            if name is not None:
                # Fast paths for the usual entries (one SHORT, LONG or RATIONAL):
                # extraction has a CPU budget well under a millisecond.
                if n == 1 and kind == 3:
                    add(name, short(inline[:2])[0])
                elif n == 1 and kind == 4:
                    add(name, long(inline[:4])[0])
                elif n == 1 and kind in rational:
                    where = offset_of(inline)[0]
                    raw = read_at(where, 8) if where + 8 <= size else b""
                    if len(raw) == 8:
                        num, den = rational[kind](raw)
                        if den:  # 32-bit ratios are always finite and storable
                            add(name, num / den)
                else:
                    value = self._value(tag, kind, n, inline)
                    if value is not None:
                        add(name, value)
            elif tag in pointer_tags:
                value = self._value(tag, kind, n, inline)
                if isinstance(value, int) and kind in (4, 13, 16, 18):
                    pointers[tag] = value
            elif top and tag in BLOCK_TAGS:
                self._block(BLOCK_TAGS[tag], kind, n, inline)
            elif tag == MAKER_NOTE and label == "Exif IFD" and kind == 7:
                self._maker_note(n, inline)
        next_ifd = 0
        if len(table) >= count * entry_size + next_size:
            next_ifd = self._offset(table[count * entry_size : count * entry_size + next_size])[0]
        return pointers, next_ifd

    def _raw(self, kind: int, n: int, inline: bytes, limit: int) -> bytes | None:
        """The value bytes of an entry, or None when too large or out of bounds."""
        size = TYPES[kind][0] * n
        if size <= len(inline):
            return inline[:size]
        # Text is kept truncated anyway: read its start only, whatever its length.
        wanted = min(size, MAX_TEXT_BYTES) if kind == 2 else size
        if wanted > limit:
            return None
        offset = self._offset(inline)[0]
        if offset + size > self._size:
            return None
        data = self._read_at(offset, wanted)
        return data if len(data) == wanted else None

    def _value(self, tag: int, kind: int, n: int, inline: bytes) -> Any:
        """A tag's value as str, number or list of numbers; None to drop it."""
        if kind not in TYPES or n == 0:
            return None
        raw = self._raw(kind, n, inline, MAX_VALUE_BYTES)
        if raw is None:
            return None
        if kind in (1, 2, 7):
            return bytes_value(tag, kind, raw)
        if n == 1 and kind not in (5, 10):
            return clean_number(self._single[kind](raw)[0])
        if kind == 6 and n > MAX_BYTE_ITEMS:
            return None
        code = TYPES[kind][1]
        n = min(n, MAX_LIST_ITEMS)
        values = struct.unpack_from(f"{self._order}{n * len(code)}{code[0]}", raw)
        if kind in (5, 10):
            values = [
                num / den if den else None
                for num, den in zip(values[::2], values[1::2], strict=True)
            ]
        numbers = [clean_number(v) for v in values]
        if None in numbers:
            return None  # a zero denominator, NaN or an absurd magnitude: no honest value
        return scalar_or_list(numbers)

    def _maker_note(self, n: int, inline: bytes) -> None:
        """Kept aside (not in the tags) for makernotes.py: its ISO and lens only."""
        raw = self._raw(7, n, inline, MAX_MAKER_NOTE_BYTES) if n > len(inline) else None
        if raw is not None:
            self._result.maker_note = (self._offset(inline)[0], raw, self._order)

    def _block(self, name: str, kind: int, n: int, inline: bytes) -> None:
        if kind not in TYPES:
            return
        raw = self._raw(kind, n, inline, MAX_BLOCK_BYTES)
        if raw is None:
            self._warn(f"{name} block is too large or out of bounds")
        else:
            self._result.blocks[name] = raw
