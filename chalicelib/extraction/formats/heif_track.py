"""Image sequences in ISO BMFF (HEIF `msf1`/`hevc`, AVIF `avis`): the first visual track.

A sequence keeps its frames in a `moov` track, with or without a still image
in `meta`. The track header (`tkhd`) gives the display size, the sample entry
(`stsd`) the codec and the coded size, the sample-size box (`stsz`/`stz2`) the
frame count. Boxes are walked by their headers over ranged reads: the sample
tables (one entry per frame) are never read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats.bmff import file_boxes

VISUAL_HANDLERS = (b"pict", b"vide")
MAX_TRACK_BOXES = 512


@dataclass
class Track:
    width: int
    height: int
    codec: bytes  # the sample entry's type: hvc1, hev1, av01, ...
    frames: int | None


def read_track(fp: BudgetedReader, start: int, end: int) -> Track | None:
    """The first visual track of the `moov` box at [start, end) that is not an auxiliary
    (alpha, depth) track; None when there is none."""
    return next(read_tracks(fp, start, end), None)


def read_tracks(fp: BudgetedReader, start: int, end: int) -> Iterator[Track]:
    """The visual, non-auxiliary tracks of the `moov` box at [start, end), in order."""
    walk = _Walk(fp)
    for kind, begin, stop in walk.children(start, end):
        if kind == b"trak":
            track = walk.trak(begin, stop)
            if track is not None:
                yield track


class _Walk:
    """moov > trak > (tkhd, tref, mdia > (hdlr, minf > stbl > (stsd, stsz))), at most
    MAX_TRACK_BOXES box headers in all, whatever the nesting or the number of tracks."""

    def __init__(self, fp: BudgetedReader) -> None:
        self.fp = fp
        self.left = MAX_TRACK_BOXES

    def children(self, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
        for box in file_boxes(self.fp, start, end):
            self.left -= 1
            if self.left < 0:
                return
            yield box

    def trak(self, start: int, end: int) -> Track | None:
        size = (0, 0)
        found: dict[str, object] = {}
        for kind, begin, stop in self.children(start, end):
            if kind == b"tkhd":
                size = _display_size(self.fp.read_at(begin, min(stop - begin, 96)))
            elif kind == b"tref" and any(k == b"auxl" for k, _, _ in self.children(begin, stop)):
                return None  # an alpha or depth plane of another track
            elif kind == b"mdia":
                self.media(begin, stop, found)
        if found.get("handler") not in VISUAL_HANDLERS or "codec" not in found:
            return None
        width, height = size if all(size) else found.get("coded", (0, 0))
        if not width or not height:
            return None
        return Track(width, height, found["codec"], found.get("frames"))

    def media(self, start: int, end: int, found: dict[str, object], level: int = 0) -> None:
        """Handler type (mdia), then codec, coded size and frame count (minf > stbl)."""
        inner = (b"minf", b"stbl")[level] if level < 2 else None
        for kind, begin, stop in self.children(start, end):
            if kind == b"hdlr" and level == 0:
                found["handler"] = self.fp.read_at(begin + 8, 4)
            elif kind == inner:
                self.media(begin, stop, found, level + 1)
            elif kind == b"stsd" and level == 2:
                entry = self.fp.read_at(begin + 8, 8 + 28)  # the first sample entry
                if len(entry) == 36:
                    found["codec"] = entry[4:8]
                    found["coded"] = struct.unpack_from(">HH", entry, 8 + 24)
            elif kind in (b"stsz", b"stz2") and level == 2:
                header = self.fp.read_at(begin, 12)  # version and flags, 4 bytes, sample count
                if len(header) == 12:
                    found["frames"] = struct.unpack_from(">L", header, 8)[0] or None


def _display_size(tkhd: bytes) -> tuple[int, int]:
    """Width and height (16.16 fixed point) at the end of a version 0 or 1 track header."""
    at = 88 if tkhd[:1] == b"\x01" else 76
    if len(tkhd) < at + 8:
        return 0, 0
    width, height = struct.unpack_from(">LL", tkhd, at)
    return width >> 16, height >> 16
