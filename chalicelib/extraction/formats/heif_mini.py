"""Low-overhead HEIF (`mif3` brand): the `mini` box of ISO/IEC 23008-12 AMD 2.

A `mini` box replaces `meta` for a single small image: one bit-packed header
(size, orientation, chroma, bit depth, alpha, which metadata follows) and then
the chunks themselves (codec configuration, ICC profile, image data, Exif,
XMP), back to back. Field order as in the amendment (and libheif's reader).
"""

from __future__ import annotations

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

MAX_MINI_HEADER = 4096  # the bit-packed header is a few dozen bytes
MAX_CHUNK_BYTES = 4 * 1024 * 1024


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0  # in bits

    def read(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("truncated mini box")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def flag(self) -> bool:
        return bool(self.read(1))

    def byte_position(self) -> int:
        return (self.pos + 7) >> 3


def read_mini(fp: BudgetedReader, start: int, end: int, brands: set[bytes]) -> ImageFacts:
    """Facts (and the ICC, Exif and XMP chunks) of the image a `mini` box at [start, end) holds."""
    bits = _Bits(fp.read_at(start, min(end - start, MAX_MINI_HEADER)))
    version = bits.read(2)
    if version != 0:
        raise ValueError(f"unknown mini box version {version}")
    explicit_codec, floating, _full_range, alpha, explicit_cicp, hdr = (
        bits.flag() for _ in range(6)
    )
    icc, exif, xmp = bits.flag(), bits.flag(), bits.flag()
    chroma = bits.read(2)
    orientation = bits.read(3) + 1
    small = bits.flag()
    width, height = bits.read(7 if small else 15) + 1, bits.read(7 if small else 15) + 1
    if chroma in (1, 2):
        bits.read(1)  # chroma horizontally centred
    if chroma == 1:
        bits.read(1)  # vertically centred
    depth = _bit_depth(bits, floating)
    if alpha:
        bits.read(1)  # premultiplied
    if explicit_cicp:
        bits.read(16 + (8 if chroma else 0))
    codec = bits.read(32).to_bytes(4, "big") if explicit_codec else None
    if explicit_codec:
        bits.read(32)  # the codec configuration's box type
    is_avif = codec == b"av01" or (codec is None and b"avif" in brands)
    facts = ImageFacts(
        format="AVIF" if is_avif else "HEIF",
        mime_type="image/avif" if is_avif else "image/heif",
        width=width,
        height=height,
        mode=("L" if chroma == 0 else "RGB") + ("A" if alpha else ""),
        orientation=orientation,
        bit_depth=depth,
    )
    if hdr:
        # Gain maps and mastering metadata come first; their layout is still in flux.
        facts.warnings.append("metadata of an HDR mini box not read")
    elif icc or exif or xmp:
        _metadata(fp, start, bits, facts, alpha, (icc, exif, xmp))
    return facts


def _bit_depth(bits: _Bits, floating: bool) -> int:
    if floating:
        return 1 << (bits.read(2) + 4)  # 16, 32, 64 or 128
    return 9 + bits.read(3) if bits.flag() else 8


def _metadata(
    fp: BudgetedReader,
    start: int,
    bits: _Bits,
    facts: ImageFacts,
    alpha: bool,
    present: tuple[bool, bool, bool],
) -> None:
    """Chunk sizes, then the chunks: ICC profile, Exif and XMP are read."""
    icc, exif, xmp = present
    few_metadata, few_config, few_data = bits.flag(), bits.flag(), bits.flag()
    meta_bits, config_bits, data_bits = (
        10 if few_metadata else 20,
        3 if few_config else 12,
        15 if few_data else 28,
    )
    icc_size = bits.read(meta_bits) + 1 if icc else 0
    main_config = bits.read(config_bits)
    main_data = bits.read(data_bits) + 1
    alpha_data = bits.read(data_bits) if alpha else 0
    alpha_config = bits.read(config_bits) if alpha_data else 0
    exif_size = bits.read(meta_bits) + 1 if exif else 0
    xmp_size = bits.read(meta_bits) + 1 if xmp else 0
    pos = start + bits.byte_position() + alpha_config + main_config
    if icc_size:
        facts.icc = _chunk(fp, pos, icc_size)
    pos += icc_size + alpha_data + main_data
    if exif_size:
        facts.exif = _exif(_chunk(fp, pos, exif_size))
    pos += exif_size
    if xmp_size:
        facts.xmp = _chunk(fp, pos, xmp_size)


def _chunk(fp: BudgetedReader, pos: int, size: int) -> bytes | None:
    return fp.read_at(pos, size) if size <= MAX_CHUNK_BYTES else None


def _exif(data: bytes | None) -> bytes | None:
    """A TIFF structure, with or without the Exif item's 4-byte header offset before it."""
    if not data or data[:2] in (b"II", b"MM") or data.startswith(b"Exif"):
        return data
    skip = 4 + int.from_bytes(data[:4], "big")
    return data[skip:] if skip < len(data) else None
