"""TIFF and BigTIFF (either byte order): the image's shape from its IFD, read by us.

Pillow builds one object per strip or tile when it opens a TIFF, so a 3.5 MB
file listing millions of strips costs it hundreds of megabytes and seconds
(and it refuses valid files: big-endian BigTIFF, float samples, some CMYK).
We read one IFD table (at most MAX_IFD_ENTRIES entries, one read) and only the
few small values that describe the picture; strip and tile arrays are never
touched. Camera raws (formats/raw.py) walk their IFDs with the same reader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.exif_values import TYPES
from chalicelib.extraction.formats import ImageFacts

MAX_IFD_ENTRIES = 1000  # a real IFD has fewer than 100; the rest of a longer one is ignored
MAX_VALUES = 16  # values read per tag (BitsPerSample has one per sample)

# TIFF tags describing the picture.
NEW_SUBFILE_TYPE = 0x00FE
IMAGE_WIDTH = 0x0100
IMAGE_LENGTH = 0x0101
BITS_PER_SAMPLE = 0x0102
COMPRESSION = 0x0103
PHOTOMETRIC = 0x0106
SAMPLES_PER_PIXEL = 0x0115
SUB_IFDS = 0x014A
EXTRA_SAMPLES = 0x0152
SAMPLE_FORMAT = 0x0153
EXIF_IFD = 0x8769

NON_NUMBERS = ("s", "LL", "ll")  # ASCII and UNDEFINED, RATIONAL, SRATIONAL
# The field types whose values are single numbers (not text, bytes or fractions).
_TYPES = {kind: size_code for kind, size_code in TYPES.items() if size_code[1] not in NON_NUMBERS}


@dataclass
class Ifd:
    offset: int
    entries: dict[int, tuple[int, int, bytes]]  # tag -> (type, count, value or offset field)
    next: int  # offset of the next IFD, 0 at the end of the chain


class TiffReader:
    """Bounded access to the IFDs of a TIFF structure starting at `base` in the file."""

    def __init__(self, fp: BudgetedReader, base: int = 0) -> None:
        self.fp = fp
        self.base = base
        head = fp.read_at(base, 16)
        if head[:2] not in (b"II", b"MM"):
            raise ValueError("no TIFF byte-order mark")
        self.order = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack_from(self.order + "H", head, 2)[0] if len(head) >= 4 else 0
        if magic == 43 and len(head) >= 16:
            self.big = True
            self.first = struct.unpack_from(self.order + "Q", head, 8)[0]
        elif magic != 43 and len(head) >= 8:
            # Raw formats use their own magic numbers (ORF "RO", RW2 0x55).
            self.big = False
            self.first = struct.unpack_from(self.order + "L", head, 4)[0]
        else:
            raise ValueError("truncated TIFF header")

    def ifd(self, offset: int) -> Ifd:
        """The IFD at `offset` (relative to base); ValueError when it is outside the file."""
        count_size, entry_size, offset_size = (8, 20, 8) if self.big else (2, 12, 4)
        if not 0 < offset < self.fp.size - self.base:
            raise ValueError(f"IFD offset {offset} is outside the file")
        raw = self.fp.read_at(self.base + offset, count_size)
        if len(raw) < count_size:
            raise ValueError("truncated IFD")
        count = struct.unpack(self.order + ("Q" if self.big else "H"), raw)[0]
        kept = min(count, MAX_IFD_ENTRIES)
        table = self.fp.read_at(self.base + offset + count_size, kept * entry_size + offset_size)
        kept = min(kept, len(table) // entry_size)
        if kept == 0:
            raise ValueError("empty or truncated IFD")
        layout = struct.Struct(self.order + ("HHQ8s" if self.big else "HHL4s"))
        entries: dict[int, tuple[int, int, bytes]] = {}
        for at in range(0, kept * entry_size, entry_size):
            tag, kind, n, field = layout.unpack_from(table, at)
            entries.setdefault(tag, (kind, n, field))
        tail = table[count * entry_size : count * entry_size + offset_size]
        following = 0
        if count == kept and len(tail) == offset_size:
            following = struct.unpack(self.order + ("Q" if self.big else "L"), tail)[0]
        return Ifd(offset, entries, following)

    def values(self, ifd: Ifd, tag: int, limit: int = MAX_VALUES) -> list[int | float]:
        """The first `limit` numbers of a numeric tag; [] when absent or unreadable."""
        entry = ifd.entries.get(tag)
        if entry is None or entry[0] not in _TYPES:
            return []
        kind, count, field = entry
        size, code = _TYPES[kind]
        n = min(count, limit)
        if count * size <= len(field):
            raw = field[: n * size]
        else:
            where = struct.unpack(self.order + ("Q" if self.big else "L"), field)[0]
            raw = self.fp.read_at(self.base + where, n * size)
        n = len(raw) // size
        return list(struct.unpack(f"{self.order}{n}{code}", raw[: n * size]))

    def number(self, ifd: Ifd, tag: int, default: int | None = None) -> int | None:
        found = self.values(ifd, tag, 1)
        return int(found[0]) if found and isinstance(found[0], int) else default

    def data(self, ifd: Ifd, tag: int, limit: int) -> bytes | None:
        """The bytes of a BYTE/UNDEFINED/ASCII tag, or None when absent or over `limit`."""
        entry = ifd.entries.get(tag)
        if entry is None or entry[0] not in (1, 2, 7) or entry[1] > limit:
            return None
        _, count, field = entry
        if count <= len(field):
            return field[:count]
        where = struct.unpack(self.order + ("Q" if self.big else "L"), field)[0]
        return self.fp.read_at(self.base + where, count)


@dataclass
class Picture:
    """What one IFD says about its image."""

    width: int
    height: int
    mode: str
    bit_depth: int | None
    extra_alpha: bool = False


def picture(tiff: TiffReader, ifd: Ifd) -> Picture:
    """Size, mode and bits per sample of the image an IFD describes; ValueError without a size."""
    width, height = tiff.number(ifd, IMAGE_WIDTH), tiff.number(ifd, IMAGE_LENGTH)
    if not width or not height:
        raise ValueError("the TIFF image has no size")
    bits = tiff.values(ifd, BITS_PER_SAMPLE) or [1]
    depth = int(bits[0]) if isinstance(bits[0], int) and 0 < bits[0] <= 64 else None
    extra = [int(v) for v in tiff.values(ifd, EXTRA_SAMPLES)]
    mode = tiff_mode(
        photometric=tiff.number(ifd, PHOTOMETRIC, 0),
        samples=tiff.number(ifd, SAMPLES_PER_PIXEL, 1),
        bits=depth or 8,
        extra=extra,
        sample_format=tiff.number(ifd, SAMPLE_FORMAT, 1),
        compression=tiff.number(ifd, COMPRESSION, 1),
        big_endian=tiff.order == ">",
    )
    # An alpha sample in a mode without one (CMYK + alpha): has_alpha still says so.
    alpha = "A" not in mode and bool(set(extra[:1]) & {1, 2})
    return Picture(width, height, mode, depth, alpha)


def tiff_mode(
    photometric: int,
    samples: int,
    bits: int,
    extra: list[int],
    sample_format: int,
    compression: int,
    big_endian: bool,
) -> str:
    """Pillow's name for the picture's mode (what Pillow reports for the TIFFs it opens)."""
    alpha = extra[0] if extra else None
    if compression == 6:  # old-style JPEG: YCbCr whatever the tag says
        photometric = 6
    if photometric in (0, 1):
        if samples >= 2 and alpha in (1, 2):
            return "La" if alpha == 1 else "LA"
        if bits == 1:
            return "1"
        if bits <= 8:
            return "L"
        if sample_format == 3:
            return "F"
        if bits <= 16 and sample_format != 2:
            return "I;16B" if big_endian and photometric == 1 and bits == 16 else "I;16"
        return "I"
    if photometric == 2:
        rgba = samples >= 4 and (alpha is None or alpha in (1, 2, 999))
        return "RGBA" if rgba else "RGB"
    if photometric == 3:
        return "PA" if samples >= 2 and alpha == 2 else "P"
    if photometric == 4:
        return "1"
    if photometric == 5:
        return "CMYK"
    if photometric in (8, 9, 10):
        return "LAB"
    if photometric == 6 and compression == 1:
        return "YCbCr"  # Pillow converts YCbCr to RGB only where libtiff decodes
    if photometric in (6, 32845, 32803, 34892):  # YCbCr, LogLuv, CFA and linear raw: colour
        return "RGB"
    # Unknown interpretations: judge by the number of samples.
    return {1: "L", 2: "LA", 3: "RGB"}.get(samples, "RGBA")


def read_tiff(fp: BudgetedReader) -> ImageFacts:
    """Facts of a TIFF's first image (IFD0); its tags are the file's EXIF."""
    tiff = TiffReader(fp)
    ifd0 = tiff.ifd(tiff.first)
    found = picture(tiff, ifd0)
    return ImageFacts(
        format="TIFF",
        mime_type="image/tiff",
        width=found.width,
        height=found.height,
        mode=found.mode,
        bit_depth=found.bit_depth,
        transparency=found.extra_alpha,
        # Counting pages means walking every IFD: unknown when there is a second one.
        frames=None if ifd0.next else 1,
        exif_is_file=True,
    )
