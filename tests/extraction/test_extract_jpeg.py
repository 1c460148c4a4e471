"""Our JPEG header reader against Pillow's: same verdicts on the same files.

extract.py reads JPEG headers itself (Pillow's plugin is slow for this); Pillow
stays the reference for what is a readable JPEG and what it looks like.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from images import (
    image_bytes,
    insert_jpeg_segment,
    jpeg_with_dnl,
    multi_frame,
    rich_jpeg,
    xmp_packet,
)
from PIL import Image

from chalicelib.extraction.extract import extract_metadata

# Pillow, the reference here, warns about the damaged EXIF it reads on the way.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _pillow(data: bytes) -> tuple | None:
    guard, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # headers of any size
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            return image.format, image.size, image.mode, getattr(image, "n_frames", 1)
    except Exception:  # noqa: BLE001 - any refusal
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = guard


def _ours(data: bytes) -> tuple | None:
    result = extract_metadata(io.BytesIO(data))
    if result["status"] != "ok":
        return None
    return result["format"], (result["width"], result["height"]), result["mode"], result["frames"]


def _cmyk() -> bytes:
    return image_bytes("JPEG", (30, 20), mode="CMYK")


def _with_fill_bytes_and_junk() -> bytes:
    data = image_bytes("JPEG", (30, 20))
    # Fill bytes before a marker are legal; so is skipping junk, for Pillow.
    return data[:2] + b"\xff\xff\xff" + b"junk" + data[2:]


def _ultra_hdr_like() -> bytes:
    """An MPO-style file whose XMP marks a gain map: Pillow calls it JPEG."""
    xmp = xmp_packet().replace(b"<rdf:Description", b'<rdf:Description hdrgm:Version="1.0"', 1)
    data = multi_frame("MPO", (30, 20), 2)
    return insert_jpeg_segment(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp)


VARIANTS = {
    "baseline": lambda: image_bytes("JPEG", (30, 20)),
    "grey": lambda: image_bytes("JPEG", (30, 20), mode="L"),
    "cmyk": _cmyk,
    "progressive": lambda: image_bytes("JPEG", (30, 20), progressive=True),
    "optimized": lambda: image_bytes("JPEG", (30, 20), optimize=True, quality=30),
    "restart-markers": lambda: image_bytes("JPEG", (64, 64), restart_marker_blocks=1),
    "subsampling-444": lambda: image_bytes("JPEG", (30, 20), subsampling=0),
    "rich-metadata": rich_jpeg,
    "mpo": lambda: multi_frame("MPO", (30, 20), 3),
    "fill-bytes-and-junk": _with_fill_bytes_and_junk,
    "ultra-hdr-like": _ultra_hdr_like,
    "huge-declared-size": lambda: _patch_size(image_bytes("JPEG", (30, 20)), 65535, 65000),
    "twelve-bit": lambda: _patch_precision(image_bytes("JPEG", (30, 20)), 12),
}


def _sof_offset(data: bytes) -> int:
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        if marker in data:
            return data.index(marker)
    raise AssertionError("no SOF")


def _patch_size(data: bytes, width: int, height: int) -> bytes:
    at = _sof_offset(data) + 5
    return data[:at] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 4 :]


def _patch_precision(data: bytes, bits: int) -> bytes:
    at = _sof_offset(data) + 4
    return data[:at] + bytes([bits]) + data[at + 1 :]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_same_verdict_as_pillow(name):
    data = VARIANTS[name]()

    assert _ours(data) == _pillow(data)


def test_the_variants_cover_what_they_claim():
    assert _pillow(VARIANTS["mpo"]())[0] == "MPO"
    assert _pillow(VARIANTS["ultra-hdr-like"]())[0] == "JPEG"
    assert _pillow(VARIANTS["twelve-bit"]()) is None
    assert _pillow(VARIANTS["cmyk"]())[2] == "CMYK"


def test_every_truncation_gets_the_same_verdict_as_pillow():
    data = rich_jpeg((16, 16))
    header_end = data.index(b"\xff\xda") + 20
    for cut in range(0, header_end, 7):
        assert (_ours(data[:cut]) is None) == (_pillow(data[:cut]) is None), cut


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.data())
def test_random_damage_to_the_header_gets_the_same_shape_as_pillow(data):
    """Where both read a damaged header, they must read the same picture."""
    original = bytearray(rich_jpeg((16, 16)))
    header_end = original.index(b"\xff\xda")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(2, header_end - 1))
        original[at] = data.draw(st.integers(0, 255))
    damaged = bytes(original)

    ours, pillow = _ours(damaged), _pillow(damaged)

    if ours is not None and pillow is not None:
        assert ours == pillow


def test_a_height_given_by_a_dnl_marker_is_read():
    """Frame height 0, defined by a DNL marker after the first scan (legal, rare).

    Here we differ from Pillow on purpose: it refuses the file. ExifTool
    reports the height as 0 (it does not read DNL); the spec says the DNL
    value is the height.
    """
    data = jpeg_with_dnl((40, 30))
    assert _pillow(data) is None

    result = extract_metadata(io.BytesIO(data))

    assert (result["status"], result["width"], result["height"]) == ("ok", 40, 30)


def test_a_zero_height_without_a_dnl_marker_is_corrupt():
    data = _patch_size(image_bytes("JPEG", (30, 20)), 30, 0)

    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "corrupt"
    assert "DNL" in result["error"]


def test_the_dnl_search_stays_within_the_read_budget():
    """A scan of 12 MB without the marker: the search stops at the budget."""
    head = _patch_size(image_bytes("JPEG", (30, 20)), 30, 0)
    data = head[: head.index(b"\xff\xda") + 14] + b"\x55" * (12 * 1024 * 1024)

    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "corrupt"
    assert "header needs more than" in result["error"]
