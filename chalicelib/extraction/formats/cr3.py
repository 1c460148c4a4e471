"""Canon CR3: ISO base media with Canon's boxes, read with the BMFF box walker.

`moov` holds a Canon `uuid` box whose CMT1, CMT2 and CMT4 boxes are TIFF
structures for IFD0, the Exif IFD and the GPS IFD (CMT3 holds the maker
notes), and one track per image: the full-size JPEG preview, a small raw, the
raw itself (`CRAW` sample entries). The size is IFD0's ImageWidth/ImageHeight
(as ExifTool reports it), else the largest image track's.
"""

from __future__ import annotations

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.bmff import file_boxes
from chalicelib.extraction.formats.heif_track import read_tracks
from chalicelib.extraction.formats.tiff import IMAGE_LENGTH, IMAGE_WIDTH, TiffReader

CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
MAX_CMT_BYTES = 1024 * 1024  # one EXIF structure; real ones are a few KiB (CMT3 tens)
EXIF_ROLES = {b"CMT1": "IFD0", b"CMT2": "Exif", b"CMT4": "GPS"}


def read_cr3(fp: BudgetedReader) -> ImageFacts:
    moov = next(((s, e) for kind, s, e in file_boxes(fp, 0, fp.size) if kind == b"moov"), None)
    if moov is None:
        raise ValueError("CR3 without a moov box")
    parts: list[tuple[str, bytes]] = []
    size = None
    for kind, start, end in file_boxes(fp, *moov):
        if kind != b"uuid" or fp.read_at(start, 16) != CANON_UUID:
            continue
        for name, begin, stop in file_boxes(fp, start + 16, end):
            if name in EXIF_ROLES and stop - begin <= MAX_CMT_BYTES:
                parts.append((EXIF_ROLES[name], fp.read_at(begin, stop - begin)))
            if name == b"CMT1":
                size = _ifd0_size(fp, begin)
    if size is None:
        tracks = list(read_tracks(fp, *moov))
        if not tracks:
            raise ValueError("CR3 without an image size")
        largest = max(tracks, key=lambda track: track.width * track.height)
        size = largest.width, largest.height
    return ImageFacts(
        format="CR3",
        mime_type="image/x-canon-cr3",
        width=size[0],
        height=size[1],
        mode="RGB",
        exif_parts=parts,
    )


def _ifd0_size(fp: BudgetedReader, start: int) -> tuple[int, int] | None:
    try:
        tiff = TiffReader(fp, base=start)
        ifd0 = tiff.ifd(tiff.first)
    except ValueError:
        return None
    width, height = tiff.number(ifd0, IMAGE_WIDTH), tiff.number(ifd0, IMAGE_LENGTH)
    return (width, height) if width and height else None
