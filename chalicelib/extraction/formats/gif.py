"""GIF: the logical screen, the first frame's palette and transparency, and the frame count.

Pillow's GIF plugin reports a size grown to fit any frame that extends past
the logical screen, and its `n_frames` reads the whole file. We read the
first WINDOW bytes (two ranged requests), which hold the entire file for most
GIFs: the logical screen is the size, the first frame's palette names the
mode as Pillow does (`P`, or `L` for a grey ramp), and the walk counts the
frames. A GIF is animated when it has a second frame: a single frame with a
looping extension is a still image. Beyond the window the count is unknown;
a looping extension then stands in for the second frame the window did not
reach (encoders write it for animations).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts

WINDOW = 128 * 1024


@dataclass
class _Walk:
    frames: int = 0
    complete: bool = False  # the trailer was reached
    first_palette: bytes | None = None  # the first frame's local colour table
    transparency: bool = False  # a transparent colour for the first frame
    looping: bool = False  # a NETSCAPE2.0 / ANIMEXTS1.0 application extension


def read_gif(fp: BudgetedReader) -> ImageFacts:
    """Facts from the screen descriptor and a walk over the first WINDOW bytes."""
    data = fp.read_at(0, min(fp.size, WINDOW))
    if len(data) < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("truncated GIF header")
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    palette = None
    if flags & 0x80:
        palette = data[13 : 13 + (3 << ((flags & 7) + 1))]
    walk = _walk(data, flags)
    if walk.frames == 0 and (walk.complete or len(data) == fp.size):
        raise ValueError("no image in the GIF")
    if walk.first_palette is not None:
        palette = walk.first_palette  # a local table replaces the global one
    return ImageFacts(
        format="GIF",
        mime_type="image/gif",
        width=width,
        height=height,
        mode="P" if palette and _palette_needed(palette) else "L",
        frames=walk.frames if walk.complete else None,
        animated=walk.frames > 1 or (walk.looping and not walk.complete),
        transparency=walk.transparency,
        # The global colour table's size, as ExifTool's BitsPerPixel.
        bit_depth=(flags & 7) + 1 if flags & 0x80 else None,
    )


def _palette_needed(palette: bytes) -> bool:
    """False for the identity grey ramp, which Pillow reads as mode L."""
    return any(palette[i : i + 3] != bytes([i // 3]) * 3 for i in range(0, len(palette), 3))


def _walk(data: bytes, flags: int) -> _Walk:
    found = _Walk()
    pos = 13 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            found.complete = True
            return found
        if block == 0x21:  # extension: label, then sub-blocks
            if pos + 2 >= len(data):
                break
            if data[pos + 1] == 0xF9 and found.frames == 0 and pos + 4 < len(data):
                found.transparency = bool(data[pos + 3] & 1)  # graphic control
            elif data[pos + 1] == 0xFF and data[pos + 3 : pos + 14] in (
                b"NETSCAPE2.0",
                b"ANIMEXTS1.0",
            ):
                found.looping = True
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor (10 bytes), local colour table, LZW size
            if pos + 10 > len(data):
                break
            local = data[pos + 9]
            pos += 10
            if local & 0x80:
                size = 3 << ((local & 7) + 1)
                if found.frames == 0:
                    found.first_palette = data[pos : pos + size]
                pos += size
            found.frames += 1
            pos = _skip_sub_blocks(data, pos + 1)
        else:
            break  # not a GIF block: damaged data; stop counting
    return found


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Position after a chain of length-prefixed sub-blocks (ends with a 0 length)."""
    while pos < len(data):
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos
    return len(data) + 1
