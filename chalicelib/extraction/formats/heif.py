"""HEIF / HEIC and AVIF: the ISO base media `meta` box, parsed by us.

Both pillow-heif and Pillow's AVIF plugin hand the whole file to the decoder
library on open. The `meta` box (item list, locations, properties) sits near
the start of the file and holds everything we need: the primary item's size
(`ispe`, cropped by `clap`), its rotation and mirroring (`irot`, `imir`), channel
count (`pixi`), colour profile (`colr`), an alpha plane (an `auxl` item), and
where the Exif and XMP items are stored (`iloc`).
"""

from __future__ import annotations

import struct

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.bmff import Meta, parse_meta

MAX_TOP_BOXES = 32
MAX_META_BYTES = 1024 * 1024
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
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
SEQUENCE_BRANDS = {b"avis", b"msf1", b"hevc", b"hevx"}
ALPHA_URNS = {b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"}

# (clockwise rotation, mirrored first) -> EXIF orientation; see _orientation.
_EXIF_ORIENTATION = {
    (0, False): 1,
    (0, True): 2,
    (180, False): 3,
    (180, True): 4,
    (270, True): 5,
    (90, False): 6,
    (90, True): 7,
    (270, False): 8,
}


class NotAStillImageError(ValueError):
    """An image sequence without a still image (no `meta` box)."""


def read_heif(fp: BudgetedReader) -> ImageFacts:
    """Facts of the primary image; raises ValueError for a damaged container."""
    brands, meta_box = _top_level(fp)
    meta = parse_meta(meta_box)
    if meta.primary is None or meta.primary not in meta.items:
        raise ValueError("no primary image item")
    primary = meta.items[meta.primary]
    props = [
        meta.properties[i - 1]
        for i in meta.associations.get(meta.primary, [])
        if 0 < i <= len(meta.properties)
    ]
    width = height = None
    clap = None
    channels = 3
    bits = None
    icc = None
    transforms: list[tuple[bytes, int]] = []
    for kind, payload in props:
        if kind == b"ispe" and len(payload) >= 12:
            width, height = struct.unpack_from(">LL", payload, 4)
        elif kind == b"clap" and len(payload) >= 16:
            clap = payload
        elif kind == b"pixi" and len(payload) >= 5:
            channels = payload[4]
            bits = payload[5] if len(payload) > 5 and payload[5] else None
        elif kind == b"colr" and payload[:4] in (b"prof", b"rICC"):
            icc = payload[4:]
        elif kind in (b"irot", b"imir") and payload:
            transforms.append((kind, payload[0]))
    if not width or not height:
        raise ValueError("the primary image has no size (ispe)")
    if clap:
        width, height = _clean_aperture(clap, width, height)
    alpha = any(
        kind == b"auxl" and meta.primary in targets and _is_alpha(meta, source)
        for kind, source, targets in meta.references
    )
    is_avif = primary.type == b"av01" or (primary.type != b"hvc1" and b"avif" in brands)
    mode = ("L" if channels == 1 else "RGB") + ("A" if alpha else "")
    animated = bool(brands & SEQUENCE_BRANDS)
    facts = ImageFacts(
        format="AVIF" if is_avif else "HEIF",
        mime_type="image/avif"
        if is_avif
        else ("image/heic" if brands & HEIC_BRANDS else "image/heif"),
        width=width,
        height=height,
        mode=mode,
        frames=None if animated else _top_level_images(meta),
        animated=animated,
        orientation=_orientation(transforms),
        bit_depth=bits,
        icc=icc,
    )
    exif = _item_data(fp, meta, _described_item(meta, b"Exif"))
    if exif and len(exif) >= 4:
        start = 4 + struct.unpack(">L", exif[:4])[0]
        facts.exif = exif[start:] if start < len(exif) else None
    facts.xmp = _item_data(fp, meta, _described_item(meta, b"mime", b"application/rdf+xml"))
    return facts


def _top_level(fp: BudgetedReader) -> tuple[set[bytes], bytes]:
    """Brands from `ftyp` and the contents of `meta`, walking top-level box headers."""
    brands: set[bytes] = set()
    pos, size = 0, fp.size
    for _ in range(MAX_TOP_BOXES):
        header = fp.read_at(pos, 16)
        if len(header) < 8:
            break
        box_size, kind = struct.unpack_from(">L4s", header)
        start = pos + 8
        if box_size == 1 and len(header) == 16:
            box_size, start = struct.unpack_from(">Q", header, 8)[0], pos + 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < start - pos:
            raise ValueError(f"bad size of box {kind!r}")
        if kind == b"ftyp":
            data = fp.read_at(start, min(box_size - (start - pos), 1024))
            brands = {data[i : i + 4] for i in range(0, len(data) - 3, 4) if i != 4}
        elif kind == b"meta":
            if box_size > MAX_META_BYTES:
                raise ValueError("meta box too large")
            return brands, fp.read_at(start, box_size - (start - pos))
        pos += box_size
        if pos >= size:
            break
    if brands & SEQUENCE_BRANDS:
        raise NotAStillImageError("an image sequence without a still image")
    raise ValueError("no meta box")


def _clean_aperture(payload: bytes, width: int, height: int) -> tuple[int, int]:
    wn, wd, hn, hd = struct.unpack_from(">LLLL", payload)  # not a full box
    if not wd or not hd:
        return width, height
    # Rounded like libheif; never larger than the coded image.
    return min(width, (2 * wn + wd) // (2 * wd)) or width, min(
        height, (2 * hn + hd) // (2 * hd)
    ) or height


def _orientation(transforms: list[tuple[bytes, int]]) -> int:
    """EXIF orientation equivalent to HEIF's irot/imir, applied in order."""
    rotation, mirrored = 0, False  # display = rotate(rotation, clockwise)(mirror?(stored))
    for kind, value in transforms:
        if kind == b"irot":
            rotation = (rotation - 90 * (value & 3)) % 360  # irot turns anti-clockwise
        elif value & 1:  # imir axis 1: left and right swap (as libheif and Apple read it)
            rotation, mirrored = (-rotation) % 360, not mirrored
        else:  # imir axis 0: top and bottom swap
            rotation, mirrored = (180 - rotation) % 360, not mirrored
    return _EXIF_ORIENTATION[(rotation, mirrored)]


def _is_alpha(meta: Meta, item_id: int) -> bool:
    for index in meta.associations.get(item_id, []):
        if 0 < index <= len(meta.properties):
            kind, payload = meta.properties[index - 1]
            if kind == b"auxC" and payload[4:].split(b"\x00", 1)[0] in ALPHA_URNS:
                return True
    return False


def _top_level_images(meta: Meta) -> int:
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


def _described_item(meta: Meta, item_type: bytes, content_type: bytes = b"") -> int | None:
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


def _item_data(fp: BudgetedReader, meta: Meta, item_id: int | None) -> bytes | None:
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
