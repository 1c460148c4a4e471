"""ISO base media file format (ISO/IEC 14496-12) boxes, and the `meta` box of HEIF.

A box is a 32-bit size and a 4-byte type (a 64-bit size follows when the size
is 1; 0 means "to the end"). The `meta` box lists items (`iinf`), where their
bytes are (`iloc`, `idat`), their properties (`iprp`) and how they relate
(`iref`). Parsing is bounded: at most MAX_CHILD_BOXES boxes and MAX_ITEMS items.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.extraction.budget import BudgetedReader

MAX_CHILD_BOXES = 4096
MAX_ITEMS = 4096
MAX_FILE_BOXES = 64  # boxes walked per container in the file (a real one has a dozen)


@dataclass
class Item:
    type: bytes = b""
    hidden: bool = False
    content_type: bytes = b""
    extents: list[tuple[int, int]] = field(default_factory=list)
    in_idat: bool = False


@dataclass
class Meta:
    primary: int | None = None
    items: dict[int, Item] = field(default_factory=dict)
    properties: list[tuple[bytes, bytes]] = field(default_factory=list)
    associations: dict[int, list[int]] = field(default_factory=dict)
    references: list[tuple[bytes, int, list[int]]] = field(default_factory=list)
    idat: bytes = b""


def boxes(data: bytes, pos: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[pos:end]."""
    end = min(end, len(data))
    for _ in range(MAX_CHILD_BOXES):
        if pos + 8 > end:
            return
        size, kind = struct.unpack_from(">L4s", data, pos)
        start = pos + 8
        if size == 1 and pos + 16 <= end:
            size, start = struct.unpack_from(">Q", data, pos + 8)[0], pos + 16
        elif size == 0:
            size = end - pos
        if size < start - pos or pos + size > end:
            raise ValueError(f"bad size of box {kind!r}")
        yield kind, start, pos + size
        pos += size


class NotPictError(ValueError):
    """The `meta` box describes something else than images (its handler is not `pict`)."""


def parse_meta(box: bytes) -> Meta:
    meta = Meta()
    # `meta` is a full box: 4 bytes of version and flags precede its children.
    for kind, start, end in boxes(box, 4, len(box)):
        payload = box[start:end]
        if kind == b"hdlr" and payload[8:12] != b"pict":
            raise NotPictError("the meta box describes no images (its handler is not pict)")
        if kind == b"pitm":
            meta.primary = uint(payload, 4, 2 if payload[0] == 0 else 4)
        elif kind == b"iinf":
            _parse_iinf(payload, meta)
        elif kind == b"iloc":
            _parse_iloc(payload, meta)
        elif kind == b"iprp":
            _parse_iprp(payload, meta)
        elif kind == b"iref":
            _parse_iref(payload, meta)
        elif kind == b"idat":
            meta.idat = payload
    return meta


def _parse_iinf(payload: bytes, meta: Meta) -> None:
    start = 6 if payload[0] == 0 else 8
    for kind, begin, end in boxes(payload, start, len(payload)):
        if kind != b"infe" or len(meta.items) >= MAX_ITEMS:
            continue
        entry = payload[begin:end]
        version, hidden = entry[0], bool(entry[3] & 1)
        if version < 2:
            continue  # pre-2011 entries carry no item type
        id_size = 2 if version == 2 else 4
        item_id = uint(entry, 4, id_size)
        pos = 4 + id_size + 2
        item = meta.items.setdefault(item_id, Item())
        item.type, item.hidden = entry[pos : pos + 4], hidden
        if item.type == b"mime":
            name_end = entry.find(b"\x00", pos + 4)
            if name_end >= 0:
                item.content_type = entry[name_end + 1 :].split(b"\x00", 1)[0]


def _parse_iloc(payload: bytes, meta: Meta) -> None:
    version = payload[0]
    offset_size, length_size = payload[4] >> 4, payload[4] & 15
    base_size, index_size = payload[5] >> 4, (payload[5] & 15 if version in (1, 2) else 0)
    count_size = 4 if version == 2 else 2
    count = uint(payload, 6, count_size)
    pos = 6 + count_size
    for _ in range(min(count, MAX_ITEMS)):
        id_size = 4 if version == 2 else 2
        item_id = uint(payload, pos, id_size)
        pos += id_size
        method = 0
        if version in (1, 2):
            method = uint(payload, pos, 2) & 15
            pos += 2
        pos += 2  # data_reference_index
        base = uint(payload, pos, base_size)
        pos += base_size
        extents = uint(payload, pos, 2)
        pos += 2
        item = meta.items.setdefault(item_id, Item())
        item.in_idat = method == 1
        for _ in range(min(extents, 64)):
            pos += index_size
            offset = uint(payload, pos, offset_size)
            length = uint(payload, pos + offset_size, length_size)
            pos += offset_size + length_size
            item.extents.append((base + offset, length))
        if extents > 64:
            raise ValueError("too many extents in iloc")


def _parse_iprp(payload: bytes, meta: Meta) -> None:
    for kind, start, end in boxes(payload, 0, len(payload)):
        if kind == b"ipco":
            meta.properties = [(k, payload[s:e]) for k, s, e in boxes(payload, start, end)]
        elif kind == b"ipma":
            version, flags = payload[start], payload[start + 3]
            count = uint(payload, start + 4, 4)
            pos = start + 8
            for _ in range(min(count, MAX_ITEMS)):
                id_size = 2 if version < 1 else 4
                item_id = uint(payload, pos, id_size)
                pos += id_size
                associations = payload[pos] if pos < end else 0
                pos += 1
                wide = flags & 1
                indexes = []
                for _ in range(associations):
                    value = uint(payload, pos, 2 if wide else 1)
                    pos += 2 if wide else 1
                    indexes.append(value & (0x7FFF if wide else 0x7F))
                meta.associations[item_id] = indexes


def _parse_iref(payload: bytes, meta: Meta) -> None:
    id_size = 2 if payload[0] == 0 else 4
    for kind, start, end in boxes(payload, 4, len(payload)):
        source = uint(payload, start, id_size)
        count = uint(payload, start + id_size, 2)
        pos = start + id_size + 2
        targets = [uint(payload, pos + i * id_size, id_size) for i in range(min(count, MAX_ITEMS))]
        if pos + len(targets) * id_size > end:
            raise ValueError("truncated iref")
        meta.references.append((kind, source, targets))


def uint(data: bytes, pos: int, size: int) -> int:
    if size == 0:
        return 0
    if pos + size > len(data):
        raise ValueError("truncated box")
    return int.from_bytes(data[pos : pos + size], "big")


def file_boxes(fp: BudgetedReader, pos: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in the file between pos and end.

    Reads box headers only (16 bytes each): for walking a large container such as
    `moov` without loading it. At most MAX_FILE_BOXES boxes per call.
    """
    end = min(end, fp.size)
    for _ in range(MAX_FILE_BOXES):
        if pos + 8 > end:
            return
        header = fp.read_at(pos, 16)
        if len(header) < 8:
            return
        size, kind = struct.unpack_from(">L4s", header)
        start = pos + 8
        if size == 1 and len(header) == 16:
            size, start = struct.unpack_from(">Q", header, 8)[0], pos + 16
        elif size == 0:
            size = end - pos
        if size < start - pos or pos + size > end:
            raise ValueError(f"bad size of box {kind!r}")
        yield kind, start, pos + size
        pos += size
