"""HEIF / HEIC and AVIF: the ISO base media `meta` box, parsed by us.

Both pillow-heif and Pillow's AVIF plugin hand the whole file to the decoder
library on open. The `meta` box (item list, locations, properties) sits near
the start of the file and holds everything we need: the primary item's size
(`ispe`, cropped by `clap`), its rotation and mirroring (`irot`, `imir`), channel
count (`pixi`), colour profile (`colr`), an alpha plane (an `auxl` item), and
where the Exif and XMP items are stored (`iloc`). Image sequences without a
still image are described by their first track (heif_track.py), low-overhead
files (`mif3`) by their `mini` box (heif_mini.py); heif_items.py answers the
questions about the item graph (properties, alpha planes, metadata items).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.bmff import Meta, parse_meta
from chalicelib.extraction.formats.heif_items import (
    described_item,
    is_alpha,
    item_data,
    properties,
    top_level_images,
)
from chalicelib.extraction.formats.heif_mini import read_mini
from chalicelib.extraction.formats.heif_track import read_track

MAX_TOP_BOXES = 32
MAX_META_BYTES = 1024 * 1024

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
SEQUENCE_BRANDS = {b"avis", b"msf1", b"hevc", b"hevx"}
HEVC = {b"hvc1", b"hev1"}

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


@dataclass
class TopLevel:
    """What the top-level boxes say: brands, and where `meta`, `mini` and `moov` are."""

    major: bytes = b""
    brands: set[bytes] = field(default_factory=set)
    meta: bytes | None = None
    mini: tuple[int, int] | None = None
    moov: tuple[int, int] | None = None


def read_heif(fp: BudgetedReader) -> ImageFacts:
    """Facts of the primary image, else of the first image track; ValueError when damaged.

    A file with a still image and a sequence track (an animated AVIF) is
    described by its still image and counts as animated; a sequence without a
    still image (or whose `meta` is not about images) by its track.
    """
    top = _top_level(fp)
    if top.mini is not None:
        facts = read_mini(fp, *top.mini, top.brands)
    else:
        facts, problem = None, None
        if top.meta is not None:
            try:
                facts = _still(fp, parse_meta(top.meta), top.brands)
            except ValueError as error:
                problem = error
        track = read_track(fp, *top.moov) if top.moov else None
        if facts is None and track is None:
            raise problem or ValueError("neither an image item (meta) nor an image track (moov)")
        if facts is None:
            is_avif = track.codec == b"av01" or (track.codec not in HEVC and b"avif" in top.brands)
            facts = ImageFacts(
                format="AVIF" if is_avif else "HEIF",
                mime_type="",
                width=track.width,
                height=track.height,
                mode="RGB",
            )
        if track is not None:
            facts.animated, facts.frames = True, track.frames
    facts.mime_type = _mime_type(facts.format, top.major)
    return facts


def _mime_type(fmt: str, major: bytes) -> str:
    """The MIME type follows the major brand (AVIF whatever the brand says)."""
    if fmt == "AVIF":
        return "image/avif"
    if major in HEIC_BRANDS:
        return "image/heic"
    return "image/heif-sequence" if major in SEQUENCE_BRANDS else "image/heif"


def _still(fp: BudgetedReader, meta: Meta, brands: set[bytes]) -> ImageFacts:
    """Facts of the primary image item."""
    if meta.primary is None or meta.primary not in meta.items:
        raise ValueError("no primary image item")
    primary = meta.items[meta.primary]
    # A grid (or overlay) image is made of tiles: what the grid item does not say about
    # colour (its profile, channels, bit depth) its tiles do (an iPhone's "Display P3").
    tiles = [
        tile
        for kind, source, targets in meta.references
        if kind == b"dimg" and source == meta.primary
        for tile in targets
    ]
    width = height = None
    clap = None
    channels = 3
    bits = None
    icc = None
    transforms: list[tuple[bytes, int]] = []
    for kind, payload in properties(meta, meta.primary):
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
    if tiles and (icc is None or bits is None):
        for kind, payload in properties(meta, tiles[0]):
            if kind == b"colr" and payload[:4] in (b"prof", b"rICC") and icc is None:
                icc = payload[4:]
            elif kind == b"pixi" and len(payload) > 5 and payload[5] and bits is None:
                channels, bits = payload[4], payload[5]
    if not width or not height:
        raise ValueError("the primary image has no size (ispe)")
    if clap:
        width, height = _clean_aperture(clap, width, height)
    planes = {meta.primary, *tiles}
    alpha = any(
        kind == b"auxl" and planes & set(targets) and is_alpha(meta, source)
        for kind, source, targets in meta.references
    )
    tile = meta.items.get(tiles[0]) if tiles else None
    codec = tile.type if tile is not None else primary.type
    is_avif = codec == b"av01" or (codec not in HEVC and b"avif" in brands)
    mode = ("L" if channels == 1 else "RGB") + ("A" if alpha else "")
    facts = ImageFacts(
        format="AVIF" if is_avif else "HEIF",
        mime_type="",
        width=width,
        height=height,
        mode=mode,
        frames=top_level_images(meta),
        orientation=_orientation(transforms),
        bit_depth=bits,
        icc=icc,
    )
    exif = item_data(fp, meta, described_item(meta, b"Exif"))
    if exif and len(exif) >= 4:
        start = 4 + struct.unpack(">L", exif[:4])[0]
        facts.exif = exif[start:] if start < len(exif) else None
    facts.xmp = item_data(fp, meta, described_item(meta, b"mime", b"application/rdf+xml"))
    return facts


def _top_level(fp: BudgetedReader) -> TopLevel:
    """Brands from `ftyp`, the contents of `meta`, where `mini` and `moov` are.

    Walks top-level box headers. The walk stops at `meta` unless a sequence
    brand says a `moov` track may follow (finding it may cost one more read).
    """
    top = TopLevel()
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
            top.major = data[:4]
            top.brands = {data[i : i + 4] for i in range(0, len(data) - 3, 4) if i != 4}
        elif kind == b"meta" and top.meta is None:
            if box_size > MAX_META_BYTES:
                raise ValueError("meta box too large")
            top.meta = fp.read_at(start, box_size - (start - pos))
        elif kind == b"mini":
            top.mini = (start, pos + box_size)
            return top
        elif kind == b"moov":
            top.moov = (start, pos + box_size)
        if top.meta is not None and (top.moov or not top.brands & SEQUENCE_BRANDS):
            return top
        pos += box_size
        if pos >= size:
            break
    return top


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
