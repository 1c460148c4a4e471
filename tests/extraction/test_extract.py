"""extract_metadata on generated images: good files, bad files, huge headers."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from images import (
    animated_gif,
    image_bytes,
    jpeg_with_exif,
    multi_frame,
    png_with_alpha,
    png_with_declared_size,
    rich_avif,
    rich_heif,
    rich_jpeg,
    rich_png,
    rich_tiff,
    rich_webp,
    tiny_lossless_webp,
)
from PIL import Image, ImageFile

from chalicelib.extraction.extract import extract_metadata

OK_KEYS = {
    "status",
    "format",
    "mime_type",
    "width",
    "height",
    "mode",
    "orientation",
    "display_width",
    "display_height",
    "megapixels",
    "has_alpha",
    "animated",
    "frames",
    "dpi",
    "bit_depth",
    "icc_profile",
    "camera",
    "exposure",
    "taken_at",
    "taken_at_source",
    "gps",
    "exif",
    "xmp",
    "iptc",
    "warnings",
}
SHAPE_KEYS = ("status", "format", "mime_type", "width", "height", "mode")


def shape(result: dict) -> dict:
    return {key: result[key] for key in SHAPE_KEYS}


# (id, bytes factory, format, mime_type, width, height, mode)
GOOD_IMAGES = [
    ("jpeg-exif", jpeg_with_exif, "JPEG", "image/jpeg", 64, 48, "RGB"),
    ("png-rgba", png_with_alpha, "PNG", "image/png", 64, 48, "RGBA"),
    ("gif-animated", lambda: animated_gif((40, 30), frames=3), "GIF", "image/gif", 40, 30, "P"),
    ("webp", lambda: image_bytes("WEBP"), "WEBP", "image/webp", 64, 48, "RGB"),
    (
        "webp-rgba",
        lambda: image_bytes("WEBP", mode="RGBA", lossless=True),
        "WEBP",
        "image/webp",
        64,
        48,
        "RGBA",
    ),
    # A valid 28-byte lossless WebP (shorter than a lossy header): was "truncated".
    ("webp-lossless-28-bytes", tiny_lossless_webp, "WEBP", "image/webp", 3, 2, "RGB"),
    ("tiff-le", lambda: image_bytes("TIFF"), "TIFF", "image/tiff", 64, 48, "RGB"),
    # Pillow writes 16-bit big-endian samples as a big-endian ("MM") TIFF.
    ("tiff-be", lambda: image_bytes("TIFF", mode="I;16B"), "TIFF", "image/tiff", 64, 48, "I;16B"),
    ("bigtiff", lambda: image_bytes("TIFF", big_tiff=True), "TIFF", "image/tiff", 64, 48, "RGB"),
    ("bmp", lambda: image_bytes("BMP"), "BMP", "image/bmp", 64, 48, "RGB"),
    (
        "ico",
        lambda: image_bytes("ICO", (32, 32), mode="RGBA", sizes=[(32, 32)]),
        "ICO",
        "image/x-icon",
        32,
        32,
        "RGBA",
    ),
    ("jp2", lambda: image_bytes("JPEG2000"), "JPEG2000", "image/jp2", 64, 48, "RGB"),
    (
        "j2k-codestream",
        lambda: image_bytes("JPEG2000", no_jp2=True),
        "JPEG2000",
        "image/x-j2c",
        64,
        48,
        "RGB",
    ),
    ("jpeg-rich", rich_jpeg, "JPEG", "image/jpeg", 64, 48, "RGB"),
    ("png-rich", rich_png, "PNG", "image/png", 64, 48, "RGB"),
    ("webp-rich", rich_webp, "WEBP", "image/webp", 64, 48, "RGB"),
    ("tiff-rich", rich_tiff, "TIFF", "image/tiff", 64, 48, "RGB"),
    ("heic", rich_heif, "HEIF", "image/heic", 64, 48, "RGB"),
    ("heic-rgba", lambda: rich_heif(mode="RGBA"), "HEIF", "image/heic", 64, 48, "RGBA"),
    ("avif", rich_avif, "AVIF", "image/avif", 64, 48, "RGB"),
    ("avif-rgba", lambda: rich_avif(mode="RGBA"), "AVIF", "image/avif", 64, 48, "RGBA"),
    ("mpo", lambda: multi_frame("MPO"), "MPO", "image/mpo", 40, 30, "RGB"),
    ("apng", lambda: multi_frame("PNG"), "PNG", "image/png", 40, 30, "RGBA"),
    ("webp-animated", lambda: multi_frame("WEBP"), "WEBP", "image/webp", 40, 30, "RGBA"),
    ("tiff-pages", lambda: multi_frame("TIFF"), "TIFF", "image/tiff", 40, 30, "RGB"),
]


@pytest.mark.parametrize(
    ("make", "fmt", "mime", "width", "height", "mode"),
    [pytest.param(*case[1:], id=case[0]) for case in GOOD_IMAGES],
)
def test_supported_images_are_described(make, fmt, mime, width, height, mode):
    result = extract_metadata(io.BytesIO(make()))

    assert shape(result) == {
        "status": "ok",
        "format": fmt,
        "mime_type": mime,
        "width": width,
        "height": height,
        "mode": mode,
    }
    assert set(result) == OK_KEYS
    assert "error" not in result
    assert result["warnings"] == []


def test_exif_orientation_does_not_swap_stored_dimensions():
    # Orientation 6 means "display rotated 90 degrees"; the service reports
    # the dimensions as stored, like every other format.
    result = extract_metadata(io.BytesIO(jpeg_with_exif((80, 20))))

    assert (result["status"], result["width"], result["height"]) == ("ok", 80, 20)
    # ... and says how it is displayed.
    assert result["orientation"] == 6
    assert (result["display_width"], result["display_height"]) == (20, 80)


@pytest.mark.parametrize(
    ("make", "fmt"),
    [pytest.param(case[1], case[2], id=case[0]) for case in GOOD_IMAGES],
)
def test_pixels_are_never_decoded(monkeypatch, make, fmt):
    """The module promises header-only parsing, so no supported format may reach
    ImageFile.load() (no reader uses Pillow; this keeps it that way)."""

    def refuse_to_decode(self):
        raise AssertionError(f"{self.format} pixels were decoded")

    data = make()
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)

    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "ok", f"{fmt} extraction decoded pixels: {result}"
    assert result["format"] == fmt


def test_extraction_leaves_the_file_usable_for_the_caller():
    data = png_with_alpha()
    fp = io.BytesIO(data)

    extract_metadata(fp)

    assert not fp.closed
    fp.seek(0)
    assert fp.read() == data


def test_huge_declared_dimensions_are_reported_without_decoding():
    data = png_with_declared_size(30_000, 30_000)
    # Pillow's default guard would refuse this header outright.
    assert 30_000 * 30_000 > 2 * 89_478_485

    result = extract_metadata(io.BytesIO(data))

    # The IDAT holds a single pixel: decoding 30000x30000 would fail, so "ok"
    # also proves that nothing was decoded.
    assert shape(result) == {
        "status": "ok",
        "format": "PNG",
        "mime_type": "image/png",
        "width": 30_000,
        "height": 30_000,
        "mode": "RGB",
    }
    # Extraction never needs Pillow, so Pillow's own bomb guard stays as it is.
    assert Image.MAX_IMAGE_PIXELS == 89_478_485


def test_extraction_does_not_import_pillow():
    """Every reader is ours: Pillow is for decoding pixels, elsewhere (and a cold start
    that does not import it is faster)."""
    code = "import sys, chalicelib.extraction.extract; print('PIL' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)

    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        pytest.param(jpeg_with_exif()[:100], "image/jpeg", id="jpeg-first-100-bytes"),
        pytest.param(png_with_alpha()[:8], "image/png", id="png-signature-only"),
        pytest.param(png_with_alpha()[:20], "image/png", id="png-inside-ihdr"),
        pytest.param(animated_gif()[:16], "image/gif", id="gif-inside-screen-descriptor"),
        pytest.param(
            image_bytes("TIFF")[:8],
            "image/tiff",
            id="tiff-header-only",
            marks=pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
        ),
        pytest.param(image_bytes("BMP")[:16], "image/bmp", id="bmp-inside-header"),
        pytest.param(image_bytes("JPEG2000")[:40], "image/jp2", id="jp2-inside-header"),
        pytest.param(png_with_declared_size(0, 5), "image/png", id="png-zero-width"),
        pytest.param(rich_heif()[:300], "image/heic", id="heic-inside-meta"),
        pytest.param(rich_avif()[:40], "image/avif", id="avif-ftyp-only"),
        pytest.param(b"\x00\x00\x00\x1cftypavif" + bytes(100), "image/avif", id="avif-no-meta"),
        pytest.param(rich_webp()[:20], "image/webp", id="webp-inside-header"),
    ],
)
def test_truncated_or_broken_images_are_corrupt(data, mime):
    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "corrupt"
    assert result["mime_type"] == mime
    assert result["format"] is None
    assert isinstance(result["error"], str)
    assert result["error"].strip()
    assert len(result["error"]) <= 300
    assert "width" not in result


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        pytest.param(random.Random(1234).randbytes(4096), None, id="random-bytes"),
        pytest.param(b"Dear diary,\nnothing happened today.\n" * 10, "text/plain", id="text"),
        pytest.param("Grüße, café ☕\n".encode() * 20, "text/plain", id="utf8-text"),
        pytest.param(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf", id="pdf"
        ),
        pytest.param(b"PK\x03\x04" + bytes(60), "application/zip", id="zip"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "image/svg+xml",
            id="svg",
        ),
        pytest.param(b"8BPS\x00\x01" + bytes(100), "image/vnd.adobe.photoshop", id="psd"),
        pytest.param(b"\x00\x00\x00\x14ftypisom" + bytes(100), "video/mp4", id="mp4"),
    ],
)
def test_non_images_are_unsupported(data, mime):
    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "unsupported"
    assert result["mime_type"] == mime
    assert result["format"] is None
    assert result["error"]
    assert "width" not in result


def test_empty_file_is_unsupported():
    result = extract_metadata(io.BytesIO(b""))

    assert result["status"] == "unsupported"
    assert result["mime_type"] is None
    assert result["error"]


def test_successful_result_has_exactly_the_documented_keys():
    assert set(extract_metadata(io.BytesIO(png_with_alpha()))) == OK_KEYS


def test_hostile_ico_embedding_a_huge_png_is_not_decoded():
    """An ICO may embed a PNG claiming any size; Pillow would decode it on open."""
    png = png_with_declared_size(20_000, 20_000)
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    ico = struct.pack("<HHH", 0, 1, 1) + entry + png

    result = extract_metadata(io.BytesIO(ico))

    # The directory says 0x0, which means 256x256; nothing else is read.
    assert shape(result) == {
        "status": "ok",
        "format": "ICO",
        "mime_type": "image/x-icon",
        "width": 256,
        "height": 256,
        "mode": "RGBA",
    }
