"""sniff_mime: the MIME type suggested by a file's first bytes."""

from __future__ import annotations

import pytest

from chalicelib.extraction.sniff import sniff_mime

CASES = [
    # Signatures
    ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    ("gif87a", b"GIF87a\x10\x00\x10\x00", "image/gif"),
    ("gif89a", b"GIF89a\x10\x00\x10\x00", "image/gif"),
    ("tiff-le", b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    ("tiff-be", b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
    ("bigtiff-le", b"II+\x00\x08\x00\x00\x00", "image/tiff"),
    ("bigtiff-be", b"MM\x00+\x00\x08\x00\x00", "image/tiff"),
    ("bmp", b"BM6$\x00\x00\x00\x00\x00\x006\x00\x00\x00(\x00", "image/bmp"),
    ("ico", b"\x00\x00\x01\x00\x01\x00\x20\x20", "image/x-icon"),
    ("jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "image/jp2"),
    ("j2k-codestream", b"\xff\x4f\xff\x51\x00\x2f\x00\x00", "image/x-j2c"),
    ("jpx", b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjpx ", "image/jpx"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ("zip", b"PK\x03\x04\x14\x00\x00\x00", "application/zip"),
    ("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "application/gzip"),
    ("psd", b"8BPS\x00\x01\x00\x00", "image/vnd.adobe.photoshop"),
    # RIFF containers: only WebP is an image
    ("webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ("riff-wave", b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
    # ISO base media (ftyp) brands
    ("avif", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "image/avif"),
    ("avif-sequence", b"\x00\x00\x00\x1cftypavis\x00\x00\x00\x00", "image/avif"),
    ("heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
    ("heif", b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heif"),
    ("quicktime", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    # Generic HEIF major brands name the codec among the compatible brands.
    ("mif1-avif", b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "image/avif"),
    ("mif1-heic", b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
    ("isom-mif1", b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommif1", "image/heif"),
    # Compatible brands past the ftyp box's own size do not count.
    ("brand-outside-box", b"\x00\x00\x00\x10ftypmif1\x00\x00\x00\x00avif", "image/heif"),
    ("heic-major-wins", b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1avif", "image/heic"),
    ("mp4-fallback", b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
    ("unknown-brand-fallback", b"\x00\x00\x00\x20ftypzzzz\x00\x00\x00\x00", "video/mp4"),
    # Text
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    ("svg-xml-prolog", b'<?xml version="1.0"?>\n<svg width="1"/>', "image/svg+xml"),
    ("svg-leading-space-uppercase", b"\n  <SVG>", "image/svg+xml"),
    ("xml-not-svg", b'<?xml version="1.0"?>\n<feed/>', "text/plain"),
    ("html-doctype", b"<!DOCTYPE html>\n<html>", "text/html"),
    ("html-tag", b"  <html lang=en>", "text/html"),
    ("text", b"hello, world\n", "text/plain"),
    ("utf8-text", "Grüße ☕ ok".encode(), "text/plain"),
    # A sample cut inside a multi-byte character at its end is still text.
    ("utf8-cut-2-byte", "caf\u00e9".encode()[:-1], "text/plain"),
    ("utf8-cut-3-byte", "tea \u2615".encode()[:-1], "text/plain"),
    ("utf8-cut-4-byte-after-3", "ok \U0001f600".encode()[:-1], "text/plain"),
    ("utf8-cut-4-byte-after-1", "ok \U0001f600".encode()[:-3], "text/plain"),
    # Binary
    ("nul-byte", b"hello\x00world", None),
    ("invalid-utf8-early", b"\xc3\x28 followed by plenty of ascii", None),
    ("high-bytes", bytes(range(0x80, 0xC0)), None),
    ("empty", b"", None),
]


@pytest.mark.parametrize(("head", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_sniff_mime(head, expected):
    assert sniff_mime(head) == expected


@pytest.mark.parametrize(
    "head",
    [b"BMI chart for 2024\nname,height\n", b"\x00\x00\x01\x00\x00\x00 not an icon"],
)
def test_weak_signatures_need_their_structure(head: bytes) -> None:
    assert sniff_mime(head) not in ("image/bmp", "image/x-icon")
