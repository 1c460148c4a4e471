"""WebP: size from the first chunk, metadata from a walk over the RIFF chunks.

Pillow's WebP plugin reads the whole file on open. The EXIF and XMP chunks
come after the image data, so we hop from chunk header to chunk header
(8 bytes each, skipping the data): a still image costs one extra ranged
request at most. An animation has one chunk per frame: we stop after
MAX_FAR_HOPS jumps over large chunks (each may cost a request) or MAX_CHUNKS
chunks, leaving the frame count (and any metadata after it) unknown.
"""

from __future__ import annotations

import struct

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

MAX_CHUNKS = 64
MAX_FAR_HOPS = 2
NEAR = 64 * 1024  # a hop this far past what was read likely needs a new request
MAX_BLOCK_BYTES = 4 * 1024 * 1024
_ICC, _EXIF, _XMP, _ANIMATION = 0x20, 0x08, 0x04, 0x02


def read_webp(fp: BudgetedReader) -> ImageFacts:
    facts = _first_chunk(fp)
    fp.seek(12)
    first = fp.read(10)
    if first[:4] != b"VP8X":
        return facts  # a simple file: one image chunk, no metadata
    flags = first[8]
    facts.animated = bool(flags & _ANIMATION)
    wanted = {
        name for bit, name in ((_ICC, "ICCP"), (_EXIF, "EXIF"), (_XMP, "XMP ")) if flags & bit
    }
    if not wanted and not facts.animated:
        return facts
    riff_end = min(8 + struct.unpack("<L", fp.read_at(4, 4))[0], fp.size)
    blocks, frames, complete = _walk(fp, riff_end, wanted, count_frames=facts.animated)
    facts.icc = blocks.get("ICCP")
    facts.exif = blocks.get("EXIF")
    facts.xmp = blocks.get("XMP ")
    if facts.animated:
        facts.frames = frames if complete and frames else None
    elif not complete and wanted - set(blocks):
        facts.warnings.append("WebP metadata chunks not reached")
    return facts


def _walk(
    fp: BudgetedReader, end: int, wanted: set[str], count_frames: bool
) -> tuple[dict[str, bytes], int, bool]:
    """(metadata chunks, ANMF frames, whether the walk reached the end)."""
    blocks: dict[str, bytes] = {}
    frames = far_hops = 0
    pos = frontier = 12
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return blocks, frames, True
        if pos > frontier + NEAR:
            far_hops += 1
            if far_hops > MAX_FAR_HOPS:
                break
        header = fp.read_at(pos, 8)
        if len(header) < 8:
            break
        name, size = header[:4].decode("latin-1"), struct.unpack("<L", header[4:])[0]
        frontier = pos + 8
        if name in wanted and name not in blocks and size <= MAX_BLOCK_BYTES:
            blocks[name] = fp.read_at(pos + 8, size)
            frontier += size
        frames += name == "ANMF"
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes
        if not count_frames and set(blocks) == wanted:
            return blocks, frames, True
    return blocks, frames, pos >= end


# Bytes of the first chunk's data that hold the size: a lossless (VP8L) header
# is 5 bytes, so a valid lossless file can be as short as 28 bytes.
_SIZE_BYTES = {b"VP8X": 10, b"VP8L": 5, b"VP8 ": 10}


def _first_chunk(fp: BudgetedReader) -> ImageFacts:
    """WebP size and mode from the RIFF header and first chunk (at most 30 bytes)."""
    fp.seek(0)
    head = fp.read(30)
    if len(head) < 16 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ValueError("truncated WebP header")
    chunk, data = head[12:16], head[20:30]
    if len(data) < _SIZE_BYTES.get(chunk, 0):
        raise ValueError("truncated WebP header")
    if chunk == b"VP8X":
        flags = data[0]
        width = 1 + int.from_bytes(data[4:7], "little")
        height = 1 + int.from_bytes(data[7:10], "little")
        mode = "RGBA" if flags & 0x10 else "RGB"
    elif chunk == b"VP8L":
        if data[0] != 0x2F:
            raise ValueError("bad VP8L signature")
        bits = int.from_bytes(data[1:5], "little")
        width = 1 + (bits & 0x3FFF)
        height = 1 + ((bits >> 14) & 0x3FFF)
        mode = "RGBA" if (bits >> 28) & 1 else "RGB"
    elif chunk == b"VP8 ":
        if data[3:6] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width = int.from_bytes(data[6:8], "little") & 0x3FFF
        height = int.from_bytes(data[8:10], "little") & 0x3FFF
        mode = "RGB"
    else:
        raise ValueError(f"unknown WebP chunk {chunk!r}")
    return ImageFacts(format="WEBP", mime_type="image/webp", width=width, height=height, mode=mode)
