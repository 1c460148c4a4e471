"""GIF frame count from the first bytes only.

Counting frames means walking every frame's data sub-blocks: Pillow's
`n_frames` reads the whole file. We walk only the first WINDOW bytes (two
ranged requests), which holds the entire file for most GIFs; beyond it the
count is unknown, but a second frame or a looping extension inside the window
still tells that the GIF is animated.
"""

from __future__ import annotations

from chalicelib.extraction.budget import BudgetedReader

WINDOW = 128 * 1024


def scan_gif(fp: BudgetedReader) -> tuple[int | None, bool | None]:
    """(frames, animated): exact when the walk reaches the trailer, else partial."""
    data = fp.read_at(0, min(fp.size, WINDOW))
    frames, looping, complete = _walk(data)
    if complete:
        return frames, frames > 1
    return None, True if frames > 1 or looping else None


def _walk(data: bytes) -> tuple[int, bool, bool]:
    """(frames seen, looping extension seen, trailer reached)."""
    frames, looping = 0, False
    if len(data) < 13:
        return 0, False, False
    pos = 13
    if data[10] & 0x80:  # global colour table
        pos += 3 << ((data[10] & 7) + 1)
    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            return frames, looping, True
        if block == 0x21:  # extension: label, then sub-blocks
            if pos + 2 >= len(data):
                break
            if data[pos + 1] == 0xFF and data[pos + 3 : pos + 14] in (
                b"NETSCAPE2.0",
                b"ANIMEXTS1.0",
            ):
                looping = True
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor (10 bytes), local colour table, LZW size
            if pos + 10 > len(data):
                break
            flags = data[pos + 9]
            pos += 10
            if flags & 0x80:
                pos += 3 << ((flags & 7) + 1)
            frames += 1
            pos = _skip_sub_blocks(data, pos + 1)
        else:
            break  # not a GIF block: damaged data; stop counting
    return frames, looping, False


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Position after a chain of length-prefixed sub-blocks (ends with a 0 length)."""
    while pos < len(data):
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos
    return len(data) + 1
