"""Guess a file's MIME type from its first bytes.

Used to tell a *corrupt* image (its signature says image, but it cannot be
parsed) from an *unsupported* file (not an image we read), and to name what an
unsupported file is.
"""

from __future__ import annotations

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"II+\x00", "image/tiff"),
    (b"MM\x00+", "image/tiff"),
    (b"\xff\x4f\xff\x51", "image/x-j2c"),  # a JPEG 2000 codestream
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
]

_BMP_DIB_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)

_FTYP_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"mif2": "image/heif",
    b"mif3": "image/heif",
    b"msf1": "image/heif-sequence",
    b"hevc": "image/heif-sequence",
    b"hevx": "image/heif-sequence",
    b"qt  ": "video/quicktime",
    b"crx ": "image/x-canon-cr3",
}


def sniff_mime(head: bytes) -> str | None:
    """MIME type suggested by the leading bytes, or None when unknown."""
    raw = _sniff_raw(head)
    if raw:
        return raw
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):  # JPEG 2000: the brand says which
        return {b"jpx ": "image/jpx", b"jpm ": "image/jpm"}.get(head[20:24], "image/jp2")
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # Two-byte "BM" and the ICO header are weak signatures: check the structure
    # too, or a text starting with "BM" would be called a corrupt bitmap.
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "image/bmp"
    if head[:4] == b"\x00\x00\x01\x00" and 0 < int.from_bytes(head[4:6], "little") <= 256:
        return "image/x-icon"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    return _sniff_text(head)


def _sniff_raw(head: bytes) -> str | None:
    """Camera raws with their own marks; the others (DNG, NEF, ARW, ...) look like TIFF."""
    if head[:4] == b"II*\x00" and head[8:10] == b"CR":
        return "image/x-canon-cr2"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "image/x-olympus-orf"
    if head[:4] == b"IIU\x00":
        return "image/x-panasonic-rw2"
    if head.startswith(b"FUJIFILMCCD-RAW "):
        return "image/x-fujifilm-raf"
    return None


def _sniff_ftyp(head: bytes) -> str:
    """ISO base media: the major brand, refined by the compatible brands.

    Generic HEIF (`mif1`) files name their codec only among the compatible
    brands, e.g. `mif1` + `avif` for AVIF written by some encoders.
    """
    major = _FTYP_BRANDS.get(head[8:12], "video/mp4")
    end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in ("image/heif", "video/mp4"):
        for brand, mime in (
            (b"avif", "image/avif"),
            (b"avis", "image/avif"),
            (b"heic", "image/heic"),
            (b"heix", "image/heic"),
            (b"mif1", "image/heif"),
        ):
            if brand in compatible:
                return mime
    return major


def _sniff_text(head: bytes) -> str | None:
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        if error.start < len(head) - 3:
            return None
        text = head[: error.start].decode("utf-8")
    stripped = text.lstrip().lower()
    if stripped.startswith("<svg") or (stripped.startswith("<?xml") and "<svg" in stripped):
        return "image/svg+xml"
    if stripped.startswith(("<!doctype html", "<html")):
        return "text/html"
    return "text/plain"
