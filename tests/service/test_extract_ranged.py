"""Header-only reads through S3RangeFile on moto: the Pillow traps are real, we avoid them.

Each trap is measured, not assumed: the naive Pillow (or pillow-heif) call on
the same S3-backed file reads (nearly) the whole object, while
extract_metadata reads the header in at most two or three ranged requests,
and returns exactly what it returns for the file in memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pillow_heif
import pytest
from conftest import BUCKET
from images import (
    image_bytes,
    multi_frame,
    noisy_jpeg,
    rich_avif,
    rich_heif,
    rich_jpeg,
    rich_png,
    rich_webp,
    with_free_box,
)
from PIL import Image

from chalicelib.extraction.extract import extract_metadata
from chalicelib.s3file import BLOCK_SIZE, S3RangeFile

MB = 1024 * 1024


def _big_jpeg() -> bytes:
    """A 5 MB JPEG whose EXIF, XMP and IPTC come first, as cameras write them."""
    return rich_jpeg()[:-2] + noisy_jpeg(5 * MB)[2:]  # metadata segments, then a big image


def _gif_frames(reader):
    with Image.open(reader) as image:
        return image.n_frames


def _png_getexif(reader):
    with Image.open(reader) as image:
        return image.getexif()


def _pillow_open(fmt: str) -> Callable:
    def open_it(reader):
        with Image.open(reader, formats=[fmt]) as image:
            return image.size

    return open_it


# (id, bytes factory, the naive call, what it costs at least, as a share of the file)
TRAPS = [
    ("webp-open", lambda: rich_webp((1400, 1400), lossless=True), _pillow_open("WEBP"), 0.9),
    ("avif-open", lambda: with_free_box(rich_avif((320, 320)), 4 * MB), _pillow_open("AVIF"), 0.9),
    (
        "heic-open",
        lambda: with_free_box(rich_heif((320, 320)), 4 * MB),
        lambda reader: pillow_heif.open_heif(reader).size,
        0.9,
    ),
    ("gif-n-frames", lambda: multi_frame("GIF", (800, 800), 3, loop=0), _gif_frames, 0.9),
    # No eXIf before IDAT: Pillow decodes the image looking for chunks after it.
    ("png-getexif", lambda: image_bytes("PNG", (1400, 1400)), _png_getexif, 0.9),
]


@pytest.fixture(scope="module")
def trap_files() -> dict[str, bytes]:
    return {case[0]: case[1]() for case in TRAPS}


@pytest.mark.parametrize(
    ("name", "naive", "share"), [pytest.param(c[0], c[2], c[3], id=c[0]) for c in TRAPS]
)
def test_pillow_trap_is_real_and_avoided(s3, trap_files, name, naive, share):
    data = trap_files[name]
    assert len(data) > 2 * MB
    s3.put_object(Bucket=BUCKET, Key=name, Body=data)

    trapped = S3RangeFile(s3, BUCKET, name)
    naive(trapped)
    ours = S3RangeFile(s3, BUCKET, name)
    result = extract_metadata(ours)

    assert trapped.bytes_read >= share * len(data), f"{name}: the trap did not trigger"
    assert result["status"] == "ok", result
    assert ours.failure is None
    assert ours.requests <= 3, f"{name}: {ours.requests} requests"
    assert ours.bytes_read <= 3 * BLOCK_SIZE, f"{name}: {ours.bytes_read} bytes"
    assert ours.bytes_read * 10 < trapped.bytes_read


def test_multipage_tiff_page_count_would_cost_a_request_per_page(s3):
    """Pillow's n_frames follows the IFD chain: one ranged read per page."""
    data = multi_frame("TIFF", (1000, 1000), 4)
    s3.put_object(Bucket=BUCKET, Key="pages.tif", Body=data)

    trapped = S3RangeFile(s3, BUCKET, "pages.tif")
    with Image.open(trapped) as image:
        assert image.n_frames == 4
    ours = S3RangeFile(s3, BUCKET, "pages.tif")
    result = extract_metadata(ours)

    assert trapped.requests >= 4
    assert (result["status"], result["frames"], result["animated"]) == ("ok", None, False)
    assert ours.requests < trapped.requests
    assert ours.requests <= 2


# Big files with metadata in the usual places; the record must be the same
# whether the bytes come from memory or from S3 through ranged reads.
BIG = [
    ("jpeg", _big_jpeg, 2),
    ("png", lambda: rich_png((1400, 1400)), 2),
    ("webp-lossless", lambda: rich_webp((1400, 1400), lossless=True), 2),  # EXIF at the end
    ("webp-animated", lambda: multi_frame("WEBP", (700, 700), 4, lossless=True), 3),
    ("gif-single", lambda: image_bytes("GIF", (1400, 1400), mode="L"), 2),
    ("gif-animated", lambda: multi_frame("GIF", (800, 800), 3, loop=0), 2),
    ("heic", lambda: with_free_box(rich_heif((320, 320)), 4 * MB), 3),
    ("avif", lambda: with_free_box(rich_avif((320, 320)), 4 * MB), 2),
    ("tiff", lambda: image_bytes("TIFF", (1400, 1400)), 2),
]


@pytest.mark.parametrize(("make", "max_requests"), [pytest.param(c[1], c[2], id=c[0]) for c in BIG])
def test_big_files_cost_a_few_requests_and_match_in_memory_extraction(s3, make, max_requests):
    data = make()
    assert len(data) > 2 * MB
    s3.put_object(Bucket=BUCKET, Key="big", Body=data)
    expected = extract_metadata(io.BytesIO(data))

    reader = S3RangeFile(s3, BUCKET, "big")
    result = extract_metadata(reader)

    assert result == expected
    assert result["status"] == "ok"
    assert reader.failure is None
    assert reader.requests <= max_requests
    assert reader.bytes_read <= max_requests * BLOCK_SIZE


def test_big_file_metadata_is_complete(s3):
    """What the ranged reads found is the real metadata, not a partial read."""
    data = with_free_box(rich_heif((320, 320)), 4 * MB)
    s3.put_object(Bucket=BUCKET, Key="big.heic", Body=data)

    result = extract_metadata(S3RangeFile(s3, BUCKET, "big.heic"))

    assert result["exif"]["Make"] == "Acme"
    assert result["xmp"]["title"] == "Tour Eiffel at dawn"
    assert result["gps"] is not None
    webp = rich_webp((1400, 1400), lossless=True)
    s3.put_object(Bucket=BUCKET, Key="big.webp", Body=webp)
    assert webp.index(b"EXIF") > len(webp) - 64 * 1024  # really at the end
    result = extract_metadata(S3RangeFile(s3, BUCKET, "big.webp"))
    assert result["exif"]["Model"] == "Acme X100"
    assert result["icc_profile"] == "sRGB built-in"
