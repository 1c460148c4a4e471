"""TIFF headers read by our IFD reader: Pillow's names for the modes it opens, and the
valid variants Pillow refused (issue 12): big-endian BigTIFF, float samples, CMYK
with a predictor."""

from __future__ import annotations

import io

import pytest
from images import BlobRef, tiff_structure
from PIL import Image

from chalicelib.extraction.extract import extract_metadata


def striped(
    size: tuple[int, int] = (8, 6),
    bits: list[int] = (8,),
    photometric: int = 1,
    compression: int = 1,
    extra: list[tuple[int, int, object]] = (),
    order: str = "<",
    big: bool = False,
) -> bytes:
    """One-strip TIFF of zeroed pixels with the given sample layout."""
    samples = len(bits)
    strip = bytes(size[0] * size[1] * sum(bits) // 8)
    entries = [
        (0x0100, 3, size[0]),
        (0x0101, 3, size[1]),
        (0x0102, 3, list(bits)),
        (0x0103, 3, compression),
        (0x0106, 3, photometric),
        (0x0111, 16 if big else 4, BlobRef(0)),
        (0x0115, 3, samples),
        (0x0116, 3, size[1]),
        (0x0117, 4, len(strip)),
        *extra,
    ]
    return tiff_structure([entries], blobs=[strip], order=order, big=big)


# (id, file, (width, height, mode, bit_depth))
VARIANTS = [
    ("bigtiff-big-endian", striped(order=">", big=True), (8, 6, "L", 8)),
    ("bigtiff-little-endian", striped(big=True), (8, 6, "L", 8)),
    ("float32-grey", striped(bits=[32], extra=[(0x0153, 3, 3)]), (8, 6, "F", 32)),
    (
        "float32-rgb",
        striped(bits=[32, 32, 32], photometric=2, extra=[(0x0153, 3, [3, 3, 3])]),
        (8, 6, "RGB", 32),
    ),
    ("float16-grey", striped(bits=[16], extra=[(0x0153, 3, 3)]), (8, 6, "F", 16)),
    (
        "cmyk-deflate-predictor",
        striped(bits=[8] * 4, photometric=5, compression=8, extra=[(0x013D, 3, 2)]),
        (8, 6, "CMYK", 8),
    ),
    ("cmyk-16", striped(bits=[16] * 4, photometric=5), (8, 6, "CMYK", 16)),
    ("cmyk-1-bit", striped(bits=[1] * 4, photometric=5), (8, 6, "CMYK", 1)),
    (
        "cmyk-alpha-predictor",
        striped(bits=[8] * 5, photometric=5, compression=5, extra=[(0x0152, 3, 2), (0x013D, 3, 2)]),
        (8, 6, "CMYK", 8),
    ),
    (
        "rgba-unassociated",
        striped(bits=[8] * 4, photometric=2, extra=[(0x0152, 3, 2)]),
        (8, 6, "RGBA", 8),
    ),
    ("lab", striped(bits=[8] * 3, photometric=8), (8, 6, "LAB", 8)),
    ("ycbcr-jpeg", striped(bits=[8] * 3, photometric=6, compression=7), (8, 6, "RGB", 8)),
]


@pytest.mark.parametrize(
    ("data", "expected"), [pytest.param(c[1], c[2], id=c[0]) for c in VARIANTS]
)
def test_valid_tiffs_are_ok(data, expected):
    result = extract_metadata(io.BytesIO(data))

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "TIFF", "image/tiff")
    assert (result["width"], result["height"], result["mode"], result["bit_depth"]) == expected


PILLOW_MODES = ["1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "I;16B", "I", "F", "LA", "YCbCr"]


@pytest.mark.parametrize("mode", PILLOW_MODES)
@pytest.mark.parametrize("compression", [None, "tiff_deflate"])
def test_modes_are_named_as_pillow_names_them(mode, compression):
    save = {"compression": compression} if compression else {}
    out = io.BytesIO()
    Image.new(mode, (10, 7)).save(out, "TIFF", **save)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as image:
        expected = image.size, image.mode

    result = extract_metadata(io.BytesIO(data))

    assert ((result["width"], result["height"]), result["mode"]) == expected


def test_an_alpha_sample_beyond_the_mode_names_counts_as_alpha():
    data = striped(bits=[8] * 5, photometric=5, extra=[(0x0152, 3, 2)])

    assert extract_metadata(io.BytesIO(data))["has_alpha"] is True
    assert extract_metadata(io.BytesIO(striped(bits=[8] * 4, photometric=5)))["has_alpha"] is False


def test_a_tiff_without_a_size_is_corrupt():
    data = tiff_structure([[(0x0102, 3, 8), (0x0106, 3, 1)]])

    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "corrupt"
    assert "size" in result["error"]
