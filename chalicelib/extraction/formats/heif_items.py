"""Questions about the items of a HEIF `meta` box, for heif.py: an item's properties,
whether an auxiliary image is an alpha plane, how many images a viewer would list, and
which item holds the Exif or XMP metadata of the primary image, with its bytes."""

from __future__ import annotations

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats.bmff import Meta

MAX_ITEM_BYTES = 2 * 1024 * 1024  # an Exif or XMP item

IMAGE_ITEM_TYPES = {
    b"hvc1",
    b"hev1",
    b"av01",
    b"grid",
    b"iovl",
    b"iden",
    b"jpeg",
    b"unci",
    b"avc1",
    b"j2k1",
    b"vvc1",
}
ALPHA_URNS = {b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"}


def properties(meta: Meta, item: int) -> list[tuple[bytes, bytes]]:
    """The (box type, payload) properties associated with `item`, in order."""
    return [
        meta.properties[i - 1]
        for i in meta.associations.get(item, [])
        if 0 < i <= len(meta.properties)
    ]


def is_alpha(meta: Meta, item_id: int) -> bool:
    """Whether the auxiliary image `item_id` says it is an alpha plane (its `auxC` URN)."""
    for index in meta.associations.get(item_id, []):
        if 0 < index <= len(meta.properties):
            kind, payload = meta.properties[index - 1]
            if kind == b"auxC" and payload[4:].split(b"\x00", 1)[0] in ALPHA_URNS:
                return True
    return False


def top_level_images(meta: Meta) -> int:
    """Images a viewer would list: not hidden, not a tile, thumbnail or auxiliary plane."""
    excluded = set()
    for kind, source, targets in meta.references:
        if kind in (b"thmb", b"auxl"):
            excluded.add(source)
        elif kind in (b"dimg", b"base"):
            excluded.update(targets)
    return max(
        1,
        sum(
            1
            for item_id, item in meta.items.items()
            if item.type in IMAGE_ITEM_TYPES and not item.hidden and item_id not in excluded
        ),
    )


def described_item(meta: Meta, item_type: bytes, content_type: bytes = b"") -> int | None:
    """The metadata item of this type, preferring one that describes (`cdsc`) the primary."""
    candidates = [
        item_id
        for item_id, item in meta.items.items()
        if item.type == item_type and (not content_type or item.content_type == content_type)
    ]
    for kind, source, targets in meta.references:
        if kind == b"cdsc" and source in candidates and meta.primary in targets:
            return source
    return candidates[0] if candidates else None


def item_data(fp: BudgetedReader, meta: Meta, item_id: int | None) -> bytes | None:
    """The bytes of an item (from `idat` or the file), None when absent or too large."""
    if item_id is None:
        return None
    item = meta.items[item_id]
    if sum(length for _, length in item.extents) > MAX_ITEM_BYTES:
        return None
    chunks = []
    for offset, length in item.extents:
        if item.in_idat:
            chunks.append(meta.idat[offset : offset + length])
        else:
            chunks.append(fp.read_at(offset, length))
    return b"".join(chunks) or None
