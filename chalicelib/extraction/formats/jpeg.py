"""JPEG (and MPO) headers: markers from SOI up to the first scan.

Pillow's JPEG plugin would do, but it reads markers a byte at a time and
parses the whole EXIF block on open just to look for a resolution; this
reader takes a tenth of the time. It follows Pillow's rules for what is
readable (8-bit samples; 1, 3 or 4 components; a frame header before the
first scan) so both agree on which files are corrupt.
"""

from __future__ import annotations

import re
import struct

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

MAX_SEGMENTS = 4096
# Start-of-frame markers, as Pillow reads them: SOFn except DHT (C4), JPG (C8)
# and DAC (CC), plus DHP (DE).
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE}
# Markers without a length field: JPG, RSTn, SOI, EOI, JPGn.
STANDALONE = {0xC8, *range(0xD0, 0xDA), *range(0xF0, 0xFE)}
MODES = {1: "L", 3: "RGB", 4: "CMYK"}
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
ICC_ID = b"ICC_PROFILE\x00"
PHOTOSHOP_ID = b"Photoshop 3.0\x00"
DNL_WINDOW = 64 * 1024
MAX_RUN_BYTES = 4 * 1024 * 1024  # what a run of segments may announce for prefetching
# The marker that ends a scan: 0xFF (fill bytes allowed) then neither a stuffed
# zero nor a restart marker.
_SCAN_END = re.compile(rb"\xff+([^\x00\xd0-\xd7\xff])")


def read_jpeg(fp: BudgetedReader) -> ImageFacts:
    """Facts from the JPEG header; raises ValueError when Pillow would refuse it."""
    fp.seek(0)
    if fp.read(3) != b"\xff\xd8\xff":
        raise ValueError("no JPEG start-of-image marker")
    fp.seek(2)
    frame = exif = xmp = mpf = jfif = scan = None
    gain_map = False
    icc: dict[int, bytes] = {}
    photoshop: list[bytes] = []
    for _ in range(MAX_SEGMENTS):
        marker = _next_marker(fp)
        if marker is None:
            break  # the file ends at a segment boundary: Pillow accepts that
        if marker < 0xC0:
            raise ValueError(f"no JPEG marker found (0xff{marker:02x})")
        if marker in STANDALONE:
            continue
        length = fp.read(2)
        size = struct.unpack(">H", length)[0] - 2 if len(length) == 2 else -1
        if marker == 0xE2 and size > 14:
            _prefetch_icc_run(fp, size)
        payload = fp.read(size) if size >= 0 else b""
        if size < 0 or len(payload) < size:
            raise ValueError("truncated JPEG segment")
        if marker == 0xDA:  # start of scan: the header is over
            scan = fp.tell()
            break
        if marker in SOF_MARKERS:
            frame = payload  # the last one counts, as in Pillow
        elif marker == 0xE0 and payload[:5] == b"JFIF\x00" and jfif is None:
            jfif = payload[5:]
        elif marker == 0xE1 and payload[:6] == b"Exif\x00\x00" and exif is None:
            exif = payload[6:]
        elif marker == 0xE1 and payload.startswith(XMP_ID) and xmp is None:
            xmp = payload[len(XMP_ID) :]
            gain_map = b' hdrgm:Version="' in xmp
        elif marker == 0xE2 and payload.startswith(ICC_ID) and len(payload) > 14:
            icc.setdefault(payload[12], payload[14:])  # chunks are numbered from 1
        elif marker == 0xE2 and payload[:4] == b"MPF\x00":
            mpf = payload[4:]
        elif marker == 0xED and payload.startswith(PHOTOSHOP_ID):
            photoshop.append(payload[len(PHOTOSHOP_ID) :])
            if len(photoshop) == 1:  # a resource running on into the next segments
                overflow = _resource_overflow(photoshop[0])
                if overflow:
                    segments = overflow // (0xFFFF - 2 - len(PHOTOSHOP_ID)) + 1
                    fp.prefetch(fp.tell(), overflow + segments * (4 + len(PHOTOSHOP_ID)))
    else:
        raise ValueError("too many JPEG segments")
    if frame is None:
        raise ValueError("no JPEG frame header")
    if len(frame) < 6:
        raise ValueError("truncated JPEG frame header")
    bits, height, width, components = struct.unpack(">BHHB", frame[:6])
    if bits != 8 or components not in MODES:
        raise ValueError(f"cannot handle {components} components of {bits} bits")
    if height == 0 and scan is not None:
        height = _dnl_height(fp, scan)
    # An Ultra HDR photo's second MP image is its gain map, not a frame (Pillow agrees).
    images = _mp_images(mpf) if mpf and not gain_map else 1
    return ImageFacts(
        format="MPO" if images > 1 else "JPEG",
        mime_type="image/mpo" if images > 1 else "image/jpeg",
        width=width,
        height=height,
        mode=MODES[components],
        frames=images,
        bit_depth=bits,
        dpi=_jfif_dpi(jfif),
        exif=exif,
        xmp=xmp,
        icc=b"".join(icc[i] for i in sorted(icc)) or None,
        # Photoshop resources may be split over several APP13 segments.
        photoshop=b"".join(photoshop) or None,
    )


def _dnl_height(fp: BudgetedReader, pos: int) -> int:
    """The height a DNL marker gives after the first scan, when the frame header says 0.

    Legal and rare: the encoder did not know the height when it started. The
    scan's entropy-coded data is searched for the marker that ends it, within
    the read budget (a file without one is corrupt).
    """
    while True:
        data = fp.read_at(pos, DNL_WINDOW)
        match = _SCAN_END.search(data)
        if match and (match.start(1) + 5 <= len(data) or len(data) < DNL_WINDOW):
            at = match.start(1)
            if data[at] != 0xDC or at + 5 > len(data):
                break
            return struct.unpack_from(">H", data, at + 3)[0]
        if len(data) < DNL_WINDOW:
            break
        pos += len(data) - 8  # overlap: a marker may straddle two windows
    raise ValueError("the frame header gives no height and no DNL marker follows the scan")


def _prefetch_icc_run(fp: BudgetedReader, size: int) -> None:
    """Before the first of n ICC chunks is read: ask for all n at once (one request)."""
    here = fp.tell()
    head = fp.read_at(here, 14)
    fp.seek(here)
    if head.startswith(ICC_ID) and len(head) == 14 and head[12] == 1 and head[13] > 1:
        fp.prefetch(here, size + (head[13] - 1) * (size + 4))


def _resource_overflow(resources: bytes) -> int:
    """Bytes by which the Photoshop image resources of a first APP13 segment run on into
    the next segments (a large thumbnail is split over several), 0 when they fit."""
    pos = 0
    for _ in range(256):
        if pos + 12 > len(resources) or resources[pos : pos + 4] != b"8BIM":
            return 0
        name = resources[pos + 6]
        pos += 6 + ((name + 2) & ~1)  # Pascal string, padded to even length
        if pos + 4 > len(resources):
            return 0
        size = struct.unpack_from(">L", resources, pos)[0]
        pos += 4 + size + (size & 1)
        if pos > len(resources):
            return min(pos - len(resources), MAX_RUN_BYTES)
    return 0


def _jfif_dpi(jfif: bytes | None) -> tuple[float, float] | None:
    """The JFIF density when it has a unit (1: per inch, 2: per cm); 0 is an aspect ratio."""
    if jfif is None or len(jfif) < 7 or jfif[2] not in (1, 2):
        return None
    x, y = struct.unpack_from(">HH", jfif, 3)
    scale = 2.54 if jfif[2] == 2 else 1
    return (x * scale, y * scale) if x and y else None


def _next_marker(fp: BudgetedReader) -> int | None:
    """The next marker code, skipping junk, fill bytes and stuffed zeros as Pillow does."""
    byte = fp.read(1)
    while byte:
        if byte != b"\xff":
            byte = fp.read(1)  # junk between segments
            continue
        code = fp.read(1)
        if not code:
            return None
        if code == b"\xff":
            continue  # fill byte: the next one may be the marker
        if code == b"\x00":
            byte = fp.read(1)
            continue
        return code[0]
    return None


def _mp_images(mpf: bytes) -> int:
    """NumberOfImages (tag 0xB001) from the MP index, a small TIFF structure."""
    if len(mpf) < 8 or mpf[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if mpf[:2] == b"II" else ">"
    first = struct.unpack_from(order + "L", mpf, 4)[0]
    if first + 2 > len(mpf):
        return 1
    count = struct.unpack_from(order + "H", mpf, first)[0]
    for i in range(min(count, 64)):
        at = first + 2 + 12 * i
        if at + 12 > len(mpf):
            break
        tag, kind, n, value = struct.unpack_from(order + "HHLL", mpf, at)
        if tag == 0xB001 and kind == 4 and n == 1:
            return max(1, min(value, 4096))
    return 1
