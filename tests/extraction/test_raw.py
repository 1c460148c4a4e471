"""Camera raws (issue 12): format, MIME type, the full-resolution size, EXIF, header-only.

The files are built from the published layouts (raw_files.py); ExifTool agrees
with every format, MIME type and size (test_exiftool_formats.py).
"""

from __future__ import annotations

import io

import pytest
from images import tiff_structure
from raw_files import RAW, arw, nef

from chalicelib.extraction.extract import extract_metadata
from chalicelib.extraction.formats.raw import RAW_MIMES

BLOCK = 64 * 1024
MB = 1024 * 1024


class RangedFile(io.BytesIO):
    """Counts what S3RangeFile would fetch: 64 KiB blocks, one request per read that needs
    blocks not fetched yet (the first block comes with opening the object)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.fetched = {0}
        self.requests = 1

    def read(self, size: int | None = -1) -> bytes:
        start = self.tell()
        data = super().read(size)
        if data:
            blocks = set(range(start // BLOCK, (start + len(data) - 1) // BLOCK + 1))
            missing = blocks - self.fetched
            if missing:
                self.requests += 1
                self.fetched |= set(range(min(missing), max(missing) + 1))
        return data


def extract(data: bytes) -> dict:
    return extract_metadata(io.BytesIO(data))


@pytest.mark.parametrize("kind", sorted(RAW))
def test_raws_are_ok_with_their_full_resolution_size(kind):
    make, size, depth = RAW[kind]

    result = extract(make())

    assert (result["status"], result["format"], result["mime_type"]) == (
        "ok",
        kind,
        RAW_MIMES[kind],
    )
    assert (result["width"], result["height"]) == size
    assert (result["mode"], result["bit_depth"]) == ("RGB", depth)
    assert result["exposure"]["iso"] == 400
    assert result["exposure"]["exposure_time"] == 0.004
    assert result["camera"]["lens"] in ("Raw Lens 50mm F1.8", "Acme 24-70mm f/2.8")
    assert result["taken_at"] == "2024-05-17T10:30:15" or kind == "RAF"
    assert abs(round(result["gps"]["latitude"], 4)) == 48.8584  # (RAF: rich_jpeg, south)
    assert result["warnings"] == []


@pytest.mark.parametrize("kind", sorted(RAW))
def test_raws_are_read_from_their_header_only(kind):
    """A 24 MB raw costs a request or two, and a few blocks."""
    data = RAW[kind][0]() + bytes(24 * MB)  # the pixel data
    reader = RangedFile(data)

    result = extract_metadata(reader)

    assert result["status"] == "ok"
    assert reader.requests <= 2, reader.requests
    assert len(reader.fetched) * BLOCK <= 4 * BLOCK


def test_a_nikon_tiff_without_raw_data_is_a_tiff():
    """Make alone is not enough: a scanner's TIFF is a TIFF."""
    data = tiff_structure(
        [[(0x0100, 3, 8), (0x0101, 3, 8), (0x0102, 3, 8), (0x0106, 3, 1), (0x010F, 2, "Nikon")]]
    )

    result = extract(data)

    assert (result["format"], result["mime_type"]) == ("TIFF", "image/tiff")


def test_a_preview_ifd0_is_not_the_image():
    """A NEF's IFD0 is a 160x120 thumbnail: the record describes the raw in its SubIFD."""
    result = extract(nef())

    assert result["exif"]["ImageWidth"] == 160  # IFD0's own tags, as ExifTool's IFD0 group
    assert (result["width"], result["height"]) == (8288, 5520)


def test_sony_maker_notes_tell_sr2_from_arw():
    assert extract(arw(b"\x01\x00\x00\x00"))["format"] == "SR2"
    assert extract(arw(b"\x02\x00\x00\x00"))["format"] == "ARW"
