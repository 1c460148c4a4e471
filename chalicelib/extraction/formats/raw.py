"""Camera raws: which raw format, and the full-resolution image's size, from the header alone.

TIFF-based raws (DNG, CR2, NEF, NRW, ARW, SR2, ORF, RW2, PEF) are told apart
by their header (CR2, ORF, RW2 have their own marks), IFD0's DNGVersion tag
or the maker, and described by the IFD ExifTool treats as the full-resolution
image: the first whose NewSubfileType is 0 (IFD0, its SubIFDs, then the next
IFDs). A DNG's or NEF's IFD0 is only a preview. CR2 takes the Exif image size
and RW2 its sensor borders, as ExifTool does. Fujifilm's RAF has a header of
its own and keeps its EXIF in the JPEG preview it embeds. CR3 is in cr3.py.
"""

from __future__ import annotations

import struct

from chalicelib.extraction.bounded import clean_text
from chalicelib.extraction.budget import BudgetedReader, Window
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.jpeg import read_jpeg
from chalicelib.extraction.formats.tiff import (
    EXIF_IFD,
    NEW_SUBFILE_TYPE,
    SUB_IFDS,
    Ifd,
    TiffReader,
    picture,
    read_tiff,
)

RAW_MIMES = {
    "DNG": "image/x-adobe-dng",
    "CR2": "image/x-canon-cr2",
    "CR3": "image/x-canon-cr3",
    "NEF": "image/x-nikon-nef",
    "NRW": "image/x-nikon-nrw",
    "ARW": "image/x-sony-arw",
    "SR2": "image/x-sony-sr2",
    "ORF": "image/x-olympus-orf",
    "RW2": "image/x-panasonic-rw2",
    "PEF": "image/x-pentax-pef",
    "RAF": "image/x-fujifilm-raf",
    "RAW": "image/x-raw",  # Panasonic's RW2 before it was called so (ExifTool's type)
}
MAX_RAW_IFDS = 12  # IFDs visited looking for the full-resolution one (a NEF has 4)
DNG_VERSION = 0xC612
OLD_SUBFILE_TYPE = 0x00FF
MAKE = 0x010F
MODEL = 0x0110
COMPRESSION = 0x0103
MAKER_NOTE = 0x927C
EXIF_WIDTH, EXIF_HEIGHT = 0xA002, 0xA003
# Panasonic RW2 IFD0: sensor borders (the image is what lies between) and bits per sample.
RW2_TOP, RW2_LEFT, RW2_BOTTOM, RW2_RIGHT, RW2_BITS = 0x04, 0x05, 0x06, 0x07, 0x0A
RW2_SIGNATURE = bytes.fromhex("88e774d8f8251d4d947a6e77822b5d6a")
RAF_MAGIC = b"FUJIFILMCCD-RAW "
RAF_FULL_SIZE, RAF_CROPPED_SIZE = 0x100, 0x111


def read_tiff_or_raw(fp: BudgetedReader) -> ImageFacts:
    """A TIFF-structured file: a camera raw when it is one, else a plain TIFF."""
    tiff = TiffReader(fp)
    ifd0 = tiff.ifd(tiff.first)
    kind = _raw_kind(fp, tiff, ifd0)
    if kind is None:
        return read_tiff(fp)
    if kind in ("RW2", "RAW"):
        width, height, depth = _rw2_size(tiff, ifd0)
    elif kind == "CR2":
        # ExifTool's size for CR2 is the Exif one; the raw IFD has no BitsPerSample, so
        # the record falls back to IFD0's (the full-size preview's).
        (width, height), depth = _cr2_size(tiff, ifd0), None
    else:
        found = picture(tiff, _full_resolution(tiff, ifd0) or ifd0)
        width, height, depth = found.width, found.height, found.bit_depth
    return ImageFacts(
        format=kind,
        mime_type=RAW_MIMES[kind],
        width=width,
        height=height,
        mode="RGB",  # what a raw decoder makes of it
        bit_depth=depth,
        exif_is_file=True,
    )


def _raw_kind(fp: BudgetedReader, tiff: TiffReader, ifd0: Ifd) -> str | None:
    head = fp.read_at(0, 12)
    magic = head[2:4]
    if head[8:10] == b"CR":
        return "CR2"
    if magic in (b"RO", b"RS", b"OR"):
        return "ORF"
    if magic == b"U\x00":
        # As ExifTool: RW2 has a signature after the header; without it, Panasonic's RAW.
        return "RW2" if fp.read_at(8, 16) == RW2_SIGNATURE else "RAW"
    if DNG_VERSION in ifd0.entries:
        return "DNG"
    make = (clean_text(tiff.data(ifd0, MAKE, 64) or b"") or "").upper()
    if make.startswith("NIKON"):
        if not _has_raw_image(tiff, ifd0):
            return None  # a TIFF written by a Nikon scanner or editor
        # As ExifTool: a JPEG-compressed thumbnail in IFD0 marks a Coolpix NRW.
        return "NRW" if tiff.number(ifd0, COMPRESSION) == 6 else "NEF"
    if make.startswith("SONY") and _has_raw_image(tiff, ifd0):
        return "SR2" if _sony_file_format(tiff, ifd0) == (1, 0, 0, 0) else "ARW"
    if make.startswith(("PENTAX", "RICOH", "ASAHI")) and _has_raw_image(tiff, ifd0):
        return "PEF"
    return None


def _ifds(tiff: TiffReader, ifd0: Ifd):
    """IFD0, its SubIFDs, IFD1, its SubIFDs, ...: ExifTool's order, at most MAX_RAW_IFDS."""
    seen: set[int] = set()
    ifd: Ifd | None = ifd0
    while ifd is not None and len(seen) < MAX_RAW_IFDS:
        seen.add(ifd.offset)
        yield ifd
        for offset in tiff.values(ifd, SUB_IFDS, 8):
            if isinstance(offset, int) and offset not in seen and len(seen) < MAX_RAW_IFDS:
                seen.add(offset)
                try:
                    yield tiff.ifd(offset)
                except ValueError:
                    continue
        following = ifd.next
        ifd = None
        if following and following not in seen:
            try:
                ifd = tiff.ifd(following)
            except ValueError:
                ifd = None


def _full_resolution(tiff: TiffReader, ifd0: Ifd) -> Ifd | None:
    """The first IFD marked as the full-resolution image (NewSubfileType 0, or the old
    SubfileType 1), as ExifTool picks the image its ImageSize describes."""
    for ifd in _ifds(tiff, ifd0):
        if tiff.number(ifd, NEW_SUBFILE_TYPE) == 0 or tiff.number(ifd, OLD_SUBFILE_TYPE) == 1:
            return ifd
    return None


def _has_raw_image(tiff: TiffReader, ifd0: Ifd) -> bool:
    """A CFA, linear-raw or vendor-compressed image among the IFDs."""
    for ifd in _ifds(tiff, ifd0):
        photometric, compression = tiff.number(ifd, 0x0106), tiff.number(ifd, COMPRESSION)
        if photometric in (32803, 34892) or compression in (32767, 34713, 65535):
            return True
    return False


def _cr2_size(tiff: TiffReader, ifd0: Ifd) -> tuple[int, int]:
    """The Exif image size (ExifTool's ImageSize for CR2), else IFD0's (the preview's)."""
    pointer = tiff.number(ifd0, EXIF_IFD)
    try:
        exif = tiff.ifd(pointer) if pointer else None
    except ValueError:
        exif = None
    if exif is not None:
        width, height = tiff.number(exif, EXIF_WIDTH), tiff.number(exif, EXIF_HEIGHT)
        if width and height:
            return width, height
    found = picture(tiff, ifd0)
    return found.width, found.height


def _rw2_size(tiff: TiffReader, ifd0: Ifd) -> tuple[int, int, int | None]:
    """Width and height between RW2's sensor borders (ExifTool's composite), bits per sample."""
    top, left, bottom, right = (
        tiff.number(ifd0, tag) for tag in (RW2_TOP, RW2_LEFT, RW2_BOTTOM, RW2_RIGHT)
    )
    if None in (top, left, bottom, right) or right <= left or bottom <= top:
        raise ValueError("RW2 without sensor borders")
    bits = tiff.number(ifd0, RW2_BITS)
    return right - left, bottom - top, bits if bits and 0 < bits <= 64 else None


def _sony_file_format(tiff: TiffReader, ifd0: Ifd) -> tuple[int, ...] | None:
    """Sony's FileFormat maker-note tag (0xB000): 1.0.0.0 is SR2, 2.x and 3.x ARW."""
    pointer = tiff.number(ifd0, EXIF_IFD)
    try:
        exif = tiff.ifd(pointer) if pointer else None
        entry = exif.entries.get(MAKER_NOTE) if exif else None
        if entry is None or entry[1] < 14:
            return None
        start = struct.unpack(tiff.order + "L", entry[2])[0]
        header = tiff.fp.read_at(start, 12)
        notes = tiff.ifd(start + 12 if header.startswith(b"SONY") else start)
    except ValueError:
        return None
    found = tiff.values(notes, 0xB000, 4)
    return tuple(found) if len(found) == 4 else None


def read_raf(fp: BudgetedReader) -> ImageFacts:
    """Fujifilm RAF: the raw image's size from the RAF directory, EXIF from the JPEG preview."""
    head = fp.read_at(0, 100)
    if len(head) < 100 or not head.startswith(RAF_MAGIC):
        raise ValueError("truncated RAF header")
    jpeg_at, jpeg_length, directory = struct.unpack_from(">LLL", head, 84)
    preview = read_jpeg(Window(fp, jpeg_at, jpeg_length))
    size = _raf_size(fp, directory) if directory else None
    width, height = size or (preview.width, preview.height)
    return ImageFacts(
        format="RAF",
        mime_type=RAW_MIMES["RAF"],
        width=width,
        height=height,
        mode="RGB",
        exif=preview.exif,
        xmp=preview.xmp,
        icc=preview.icc,
        photoshop=preview.photoshop,
    )


def _raf_size(fp: BudgetedReader, offset: int) -> tuple[int, int] | None:
    """RawImageCroppedSize, else RawImageFullSize (height, width) from the RAF directory."""
    count_bytes = fp.read_at(offset, 4)
    if len(count_bytes) < 4:
        return None
    count = struct.unpack(">L", count_bytes)[0]
    if count >= 256:
        return None
    found: dict[int, tuple[int, int]] = {}
    pos = offset + 4
    for _ in range(count):
        header = fp.read_at(pos, 4)
        if len(header) < 4:
            break
        tag, length = struct.unpack(">HH", header)
        if tag in (RAF_FULL_SIZE, RAF_CROPPED_SIZE) and length == 4:
            height, width = struct.unpack(">HH", fp.read_at(pos + 4, 4))
            found.setdefault(tag, (width, height))
        pos += 4 + length
    size = found.get(RAF_CROPPED_SIZE) or found.get(RAF_FULL_SIZE)
    return size if size and all(size) else None
