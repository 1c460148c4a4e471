"""BMP headers read by us: every valid bitmap gets an `ok` record (issue 12).

Pillow refused many of these on open (OS/2 2.x headers, 2-bit palettes,
unusual bitfields, RLE24, Huffman 1D, embedded JPEG/PNG); where Pillow does
open a file, our size and mode must equal its.
"""

from __future__ import annotations

import io

import pytest
from images import bmp_file, image_bytes
from PIL import Image

from chalicelib.extraction.extract import extract_metadata

GREY = [(i, i, i) for i in range(256)]
COLOUR = [(i, 255 - i, i // 2) for i in range(256)]
BW = [(0, 0, 0), (255, 255, 255)]

# (id, file, (width, height, mode, bit_depth, has_alpha))
VARIANTS = [
    ("os2-1x-12-byte-header", bmp_file((6, 4), 8, 12, palette=COLOUR), (6, 4, "P", 8, False)),
    ("os2-2x-16-byte-header", bmp_file((6, 4), 24, 16), (6, 4, "RGB", 8, False)),
    ("os2-2x-64-byte-header", bmp_file((6, 4), 24, 64), (6, 4, "RGB", 8, False)),
    (
        "os2-rle24",
        bmp_file((6, 4), 24, 64, compression=4, data=b"\x00\x01"),
        (6, 4, "RGB", 8, False),
    ),
    (
        "os2-huffman-1d",
        bmp_file((6, 4), 1, 64, compression=3, palette=BW, data=bytes(8)),
        (6, 4, "1", 1, False),
    ),
    ("palette-2-bit", bmp_file((6, 4), 2, palette=COLOUR[:4]), (6, 4, "P", 2, False)),
    ("palette-1-bit-bw", bmp_file((6, 4), 1, palette=BW), (6, 4, "1", 1, False)),
    ("palette-8-bit-grey", bmp_file((6, 4), 8, palette=GREY), (6, 4, "L", 8, False)),
    ("palette-8-bit-colour", bmp_file((6, 4), 8, palette=COLOUR), (6, 4, "P", 8, False)),
    (
        "rle8",
        bmp_file((6, 4), 8, compression=1, palette=COLOUR, data=b"\x00\x01"),
        (6, 4, "P", 8, False),
    ),
    (
        "rle4",
        bmp_file((6, 4), 4, compression=2, palette=COLOUR[:16], data=b"\x00\x01"),
        (6, 4, "P", 4, False),
    ),
    ("top-down", bmp_file((6, -4), 24), (6, 4, "RGB", 8, False)),
    ("rgb-32", bmp_file((6, 4), 32), (6, 4, "RGB", 8, False)),
    (
        "bitfields-16-565",
        bmp_file((6, 4), 16, compression=3, masks=(0xF800, 0x7E0, 0x1F)),
        (6, 4, "RGB", 6, False),
    ),
    (
        "bitfields-16-4444-v3",
        bmp_file((6, 4), 16, 56, compression=3, masks=(0xF00, 0xF0, 0xF, 0xF000)),
        (6, 4, "RGBA", 4, True),
    ),
    (
        "alphabitfields-16-5551",
        bmp_file((6, 4), 16, compression=6, masks=(0x7C00, 0x3E0, 0x1F, 0x8000)),
        (6, 4, "RGBA", 5, True),
    ),
    (
        "bitfields-16-231",
        bmp_file((6, 4), 16, 52, compression=3, masks=(0x30, 0xE, 0x1)),
        (6, 4, "RGB", 3, False),
    ),
    (
        "bitfields-16-3103-v5",
        bmp_file((6, 4), 16, 124, compression=3, masks=(0xE000, 0x1FF8, 0x7, 0)),
        (6, 4, "RGB", 10, False),
    ),
    (
        "bitfields-32-1010102-v5",
        bmp_file((6, 4), 32, 124, compression=3, masks=(0x3FF00000, 0xFFC00, 0x3FF, 0xC0000000)),
        (6, 4, "RGBA", 10, True),
    ),
    (
        "bitfields-32-bgra-v4",
        bmp_file((6, 4), 32, 108, compression=3, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)),
        (6, 4, "RGBA", 8, True),
    ),
    (
        "bi-jpeg",
        bmp_file((16, 16), 0, compression=4, data=image_bytes("JPEG", (16, 16))),
        (16, 16, "RGB", 8, False),
    ),
    (
        "bi-png",
        bmp_file((16, 16), 0, compression=5, data=image_bytes("PNG", (16, 16), mode="RGBA")),
        (16, 16, "RGBA", 8, True),
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [pytest.param(c[1], c[2], id=c[0]) for c in VARIANTS]
)
def test_valid_bitmaps_are_ok(data, expected):
    result = extract_metadata(io.BytesIO(data))

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "BMP", "image/bmp")
    found = (
        result["width"],
        result["height"],
        result["mode"],
        result["bit_depth"],
        result["has_alpha"],
    )
    assert found == expected


def _pillow_shape(data: bytes) -> tuple | None:
    try:
        with Image.open(io.BytesIO(data), formats=["BMP"]) as image:
            return image.size, image.mode
    except Exception:  # noqa: BLE001 - the variants Pillow refuses
        return None


def test_where_pillow_opens_a_bitmap_we_agree_on_size_and_mode():
    opened = 0
    for name, data, _ in VARIANTS:
        theirs = _pillow_shape(data)
        if theirs is None:
            continue
        opened += 1
        ours = extract_metadata(io.BytesIO(data))
        assert ((ours["width"], ours["height"]), ours["mode"]) == theirs, name
    assert opened >= 8  # the comparison covers the common layouts


def test_density_comes_from_pixels_per_metre():
    result = extract_metadata(io.BytesIO(bmp_file(ppm=(11811, 3937))))

    assert result["dpi"] == [300, 100]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(bmp_file((0, 4)), id="zero-width"),
        pytest.param(bmp_file((6, 0)), id="zero-height"),
        pytest.param(bmp_file((6, 4), 7), id="7-bit"),
        pytest.param(bmp_file()[:20], id="truncated-header"),
        pytest.param(bmp_file((6, 4), 16, compression=3, masks=())[:54], id="truncated-masks"),
    ],
)
def test_broken_headers_are_corrupt(data):
    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "corrupt"
    assert result["mime_type"] == "image/bmp"
