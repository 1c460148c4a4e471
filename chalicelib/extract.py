"""Image metadata from any seekable binary file. Pure: no AWS, no network.

Pillow's `Image.open` parses only the header; pixels are never decoded here,
so a 40 MB photo costs about as much as a 40 KB one.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError

from chalicelib.headers import parse_ico, parse_webp
from chalicelib.sniff import sniff_mime

# We never decode pixels, so Pillow's decompression-bomb guard would only stop
# us from reading the header of a legitimately huge image. Code that decodes
# pixels must check width * height itself before doing so.
Image.MAX_IMAGE_PIXELS = None

# Formats Pillow reads for us, by plugin name (the JPEG plugin also yields
# MPO). Restricting Image.open to these keeps exotic plugins (EPS, PSD, ...)
# away from untrusted uploads.
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "BMP", "JPEG2000")
# Formats whose Pillow plugin reads the whole file or decodes on open.
OWN_PARSERS = {"image/webp": parse_webp, "image/x-icon": parse_ico}
Image.init()
_SUPPORTED_MIMES = {Image.MIME.get(fmt) for fmt in PILLOW_FORMATS} | {"image/jp2", *OWN_PARSERS}

_SNIFF_BYTES = 64
_MAX_ERROR_CHARS = 300


def extract_metadata(fp: BinaryIO) -> dict[str, Any]:
    """Describe the image in `fp`; never raises for bad content.

    Returns `status` (`ok`, `unsupported` or `corrupt`), `format`, `mime_type`,
    and for readable images `width`, `height` and `mode`; `error` explains any
    status other than `ok`. Exceptions raised by `fp` itself (I/O) propagate
    when the parser lets them; callers that read remote files should also
    check their reader for swallowed I/O errors.
    """
    head = fp.read(_SNIFF_BYTES)
    fp.seek(0)
    if not head:
        return _failure("unsupported", "the file is empty", None)
    sniffed = sniff_mime(head)
    try:
        if sniffed in OWN_PARSERS:
            return _checked({"status": "ok", **OWN_PARSERS[sniffed](fp)})
        with Image.open(fp, formats=PILLOW_FORMATS) as image:
            return _checked(
                {
                    "status": "ok",
                    "format": image.format,
                    "mime_type": image.get_format_mimetype() or Image.MIME.get(image.format),
                    "width": image.width,
                    "height": image.height,
                    "mode": image.mode,
                }
            )
    except UnidentifiedImageError:
        if sniffed in _SUPPORTED_MIMES:
            return _failure("corrupt", f"the {sniffed} header cannot be parsed", sniffed)
        return _failure("unsupported", "not an image format this service reads", sniffed)
    except Exception as error:  # noqa: BLE001 - any parser failure means a bad file
        return _failure("corrupt", _describe_error(error), sniffed)


def _checked(metadata: dict[str, Any]) -> dict[str, Any]:
    if metadata["width"] <= 0 or metadata["height"] <= 0:
        raise ValueError(f"invalid dimensions {metadata['width']}x{metadata['height']}")
    return metadata


def _failure(status: str, error: str, mime_type: str | None) -> dict[str, Any]:
    return {"status": status, "error": error, "format": None, "mime_type": mime_type}


def _describe_error(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text[:_MAX_ERROR_CHARS]
