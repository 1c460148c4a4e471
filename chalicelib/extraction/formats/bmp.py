"""BMP (Windows and OS/2): size, mode, bit depth, alpha and density from the headers alone.

Pillow refuses many valid bitmaps on open (OS/2 2.x headers, 2-bit palettes,
bitfields it has no raw mode for, RLE24, Huffman 1D, embedded JPEG or PNG), and
reads none of them without a decoder; the record needs only the headers: the
14-byte file header, the DIB header (12, 16, 40, 52, 56, 64, 108 or 124
bytes), the colour masks and, for palette images, the palette (to name the
mode as Pillow does: a grey ramp is `L`, black and white is `1`).
"""

from __future__ import annotations

import struct

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

OS2_HEADERS = (12, 16, 64)
HEADER_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)
# Compression codes (OS/2 2.x reuses 3 and 4 for Huffman 1D and RLE24: we renumber those).
RGB, RLE8, RLE4, BITFIELDS, JPEG, PNG, ALPHABITFIELDS = 0, 1, 2, 3, 4, 5, 6
OS2_HUFFMAN_1D, OS2_RLE24 = 0x1003, 0x1004
CMYK_CODES = (11, 12, 13)  # Windows Metafile CMYK, CMYK RLE8, CMYK RLE4
BITS = (1, 2, 4, 8, 16, 24, 32, 64)
_METRE_PER_INCH = 0.0254


def read_bmp(fp: BudgetedReader) -> ImageFacts:
    """Facts from the BMP headers; ValueError for a header that cannot describe an image."""
    head = fp.read_at(0, 14 + 124 + 16)
    if len(head) < 18 or head[:2] != b"BM":
        raise ValueError("not a BMP file header")
    data_offset, header_size = struct.unpack_from("<LL", head, 10)
    if header_size not in HEADER_SIZES:
        raise ValueError(f"unknown BMP header size {header_size}")
    if len(head) < 14 + min(header_size, 16):
        raise ValueError("truncated BMP header")
    header = head[14 : 14 + header_size]
    compression = 0
    ppm = masks = None
    if header_size == 12:  # OS/2 1.x: 16-bit sizes, no compression
        width, height, _planes, bits = struct.unpack_from("<HHHH", header, 4)
    else:
        width, height, _planes, bits = struct.unpack_from("<llHH", header, 4)
        if len(header) >= 20:
            compression = struct.unpack_from("<L", header, 16)[0]
        if len(header) >= 32:
            ppm = struct.unpack_from("<ll", header, 24)
        if header_size in OS2_HEADERS and compression in (BITFIELDS, JPEG):
            compression = OS2_HUFFMAN_1D if compression == BITFIELDS else OS2_RLE24
        masks = _masks(head, header_size, compression)
    height = abs(height)  # negative: stored top-down
    if width <= 0 or height == 0:
        raise ValueError(f"invalid BMP size {width}x{height}")
    if bits not in BITS and compression not in (JPEG, PNG):
        raise ValueError(f"unsupported BMP bit count {bits}")
    mode, depth = _mode(fp, head, header_size, bits, compression, masks)
    facts = ImageFacts(
        format="BMP", mime_type="image/bmp", width=width, height=height, mode=mode, bit_depth=depth
    )
    if ppm and ppm[0] > 0 and ppm[1] > 0:
        facts.dpi = (ppm[0] * _METRE_PER_INCH, ppm[1] * _METRE_PER_INCH)
    if compression == PNG:
        facts.mode = _embedded_png_mode(fp, data_offset) or mode
    return facts


def _masks(head: bytes, header_size: int, compression: int) -> tuple[int, ...] | None:
    """(red, green, blue, alpha) masks for bitfield images, from the header or after it."""
    if compression not in (BITFIELDS, ALPHABITFIELDS) and header_size < 56:
        return None
    if header_size >= 52:  # V2 and later headers hold the masks (V3+ with alpha)
        count = 4 if header_size >= 56 else 3
        masks = struct.unpack_from(f"<{count}L", head, 14 + 40)
    else:  # a 40-byte header: the masks follow it
        count = 4 if compression == ALPHABITFIELDS else 3
        if len(head) < 14 + 40 + 4 * count:
            raise ValueError("truncated BMP colour masks")
        masks = struct.unpack_from(f"<{count}L", head, 14 + 40)
    return (*masks, 0) if len(masks) == 3 else masks


def _mode(
    fp: BudgetedReader,
    head: bytes,
    header_size: int,
    bits: int,
    compression: int,
    masks: tuple[int, ...] | None,
) -> tuple[str, int | None]:
    """Pillow's mode name and the bits per sample (per index for palette images)."""
    if compression in CMYK_CODES:
        return "CMYK", 8
    if compression in (JPEG, PNG):
        return "RGB", 8
    if bits <= 8:
        return _palette_mode(fp, header_size, bits, head), bits
    bitfields = compression in (BITFIELDS, ALPHABITFIELDS) and masks is not None
    if bitfields:
        alpha = bool(masks[3])
        depth = max(bin(mask).count("1") for mask in masks[:3]) or None
        return ("RGBA" if alpha else "RGB"), depth
    if bits == 64:
        return "RGBA", 16
    return "RGB", 5 if bits == 16 else 8


def _palette_mode(fp: BudgetedReader, header_size: int, bits: int, head: bytes) -> str:
    """`1` or `L` when the palette is Pillow's black-and-white or grey ramp, else `P`."""
    colors = 0
    if header_size >= 36:
        colors = struct.unpack_from("<L", head, 14 + 32)[0]
    if not colors or colors > 1 << bits:
        colors = 1 << bits  # the default (and at most what the bit count can index)
    entry = 3 if header_size == 12 else 4
    palette = fp.read_at(14 + header_size, colors * entry)
    levels = (0, 255) if colors == 2 else range(colors)
    grey = len(palette) == colors * entry and all(
        palette[i * entry : i * entry + 3] == bytes([level]) * 3 for i, level in enumerate(levels)
    )
    if not grey:
        return "P"
    return "1" if colors <= 2 else "L"


def _embedded_png_mode(fp: BudgetedReader, offset: int) -> str | None:
    """The mode of the PNG a BI_PNG bitmap wraps, from its IHDR."""
    from chalicelib.extraction.formats.png import MODES, SIGNATURE

    ihdr = fp.read_at(offset, 33)
    if len(ihdr) < 33 or not ihdr.startswith(SIGNATURE) or ihdr[12:16] != b"IHDR":
        return None
    return MODES.get((ihdr[24], ihdr[25]))
