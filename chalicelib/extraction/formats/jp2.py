"""JPEG 2000: JP2/JPX boxes (ISO/IEC 15444-1 annex I, 15444-2 annex M) or a raw codestream.

A JP2 file is a chain of boxes: the signature, `ftyp` (brand `jp2 ` or
`jpx `), the `jp2h` header (`ihdr` size, components and bit depth; `colr`
colour space or ICC profile; `pclr` palette; `res ` with the capture and
display resolutions `resc`/`resd`), XMP in a `uuid` box, then `jp2c`, the
codestream. A raw codestream (.j2c, .j2k) starts with its SIZ marker
segment. Modes are named as Pillow names them.
"""

from __future__ import annotations

import struct

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.bmff import boxes, file_boxes

SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
CODESTREAM = b"\xff\x4f\xff\x51"
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
MAX_HEADER_BYTES = 4 * 1024 * 1024  # jp2h, with an ICC profile in colr
MAX_XMP_BYTES = 2 * 1024 * 1024
_METRE_PER_INCH = 0.0254
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def read_jp2(fp: BudgetedReader) -> ImageFacts:
    head = fp.read_at(0, 12)
    if head.startswith(CODESTREAM):
        width, height, mode, depth = _siz(fp.read_at(4, 38 + 3 * 16))
        return ImageFacts(
            format="JPEG2000",
            mime_type="image/x-j2c",
            width=width,
            height=height,
            mode=mode,
            bit_depth=depth,
        )
    if head != SIGNATURE:
        raise ValueError("no JPEG 2000 signature")
    facts = None
    brand = b""
    xmp = None
    for kind, start, end in file_boxes(fp, 12, fp.size):
        if kind == b"ftyp":
            brand = fp.read_at(start, 4)
        elif kind == b"jp2h":
            facts = _header(fp.read_at(start, min(end - start, MAX_HEADER_BYTES)))
        elif kind == b"uuid" and end - start <= MAX_XMP_BYTES + 16 and xmp is None:
            if fp.read_at(start, 16) == XMP_UUID:
                xmp = fp.read_at(start + 16, end - start - 16)
        elif kind == b"jp2c":
            break  # the codestream: the header is over
    if facts is None:
        raise ValueError("no JP2 header box")
    facts.mime_type = "image/jpx" if brand == b"jpx " else "image/jp2"
    facts.xmp = xmp
    return facts


def _header(box: bytes) -> ImageFacts:
    """Facts from the children of `jp2h`."""
    size = depth = None
    components = 0
    colour = None
    icc = None
    palette = False
    dpi = None
    for kind, start, end in boxes(box, 0, len(box)):
        payload = box[start:end]
        if kind == b"ihdr" and len(payload) >= 11:
            height, width, components, bpc = struct.unpack_from(">LLHB", payload)
            size = (width, height)
            depth = (bpc & 0x7F) + 1 if bpc != 0xFF else None
        elif kind == b"colr" and len(payload) >= 3:
            if payload[0] == 1 and len(payload) >= 7:
                colour = struct.unpack_from(">L", payload, 3)[0]
            elif payload[0] in (2, 3):
                icc = payload[3:]
        elif kind == b"pclr":
            palette = True
        elif kind == b"res ":
            dpi = _resolution(payload) or dpi
    if size is None or components not in _MODES or not all(size):
        raise ValueError("malformed JP2 header")
    mode = _MODES[components]
    if components == 1 and depth and depth > 9:
        mode = "I;16"
    elif components == 4 and colour == 12:
        mode = "CMYK"
    elif palette and mode in ("L", "LA") and colour not in (0, 15, 17):
        mode = "P" if mode == "L" else "PA"
    return ImageFacts(
        format="JPEG2000",
        mime_type="image/jp2",
        width=size[0],
        height=size[1],
        mode=mode,
        bit_depth=depth,
        icc=icc,
        dpi=dpi,
    )


def _resolution(box: bytes) -> tuple[float, float] | None:
    """Dots per inch from `resc` (capture), else `resd` (default display), in pixels per metre:
    (numerator / denominator) x 10^exponent, vertical first."""
    found = {}
    for kind, start, end in boxes(box, 0, len(box)):
        if kind in (b"resc", b"resd") and end - start >= 10:
            vn, vd, hn, hd, ve, he = struct.unpack_from(">HHHHbb", box, start)
            if vd and hd and vn and hn:
                found[kind] = (
                    hn / hd * 10.0**he * _METRE_PER_INCH,
                    vn / vd * 10.0**ve * _METRE_PER_INCH,
                )
    return found.get(b"resc") or found.get(b"resd")


def _siz(segment: bytes) -> tuple[int, int, str, int]:
    """Size, mode and bit depth from a codestream's SIZ marker segment."""
    if len(segment) < 41:
        raise ValueError("truncated JPEG 2000 codestream header")
    length, _caps, xsiz, ysiz, xo, yo = struct.unpack_from(">HHLLLL", segment)
    components = struct.unpack_from(">H", segment, 36)[0]
    if length < 38 or components not in _MODES or xsiz <= xo or ysiz <= yo:
        raise ValueError("malformed JPEG 2000 codestream header")
    depth = (segment[38] & 0x7F) + 1
    mode = "I;16" if components == 1 and depth > 8 else _MODES[components]
    return xsiz - xo, ysiz - yo, mode, depth
