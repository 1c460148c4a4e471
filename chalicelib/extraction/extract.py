"""Image metadata from any seekable binary file. Pure: no AWS, no network.

Only headers are parsed (pixels are never decoded) and every read goes
through a byte budget, so a 40 MB photo costs about as much as a 40 KB one
and no file can make extraction read, hold or store much more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.fields import (
    FIELDS,
    bit_depth,
    dpi,
    has_alpha,
    iptc_fields,
    normalized_fields,
    xmp_fields,
)
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.formats.bmp import read_bmp
from chalicelib.extraction.formats.cr3 import read_cr3
from chalicelib.extraction.formats.gif import read_gif
from chalicelib.extraction.formats.heif import read_heif
from chalicelib.extraction.formats.ico import read_ico
from chalicelib.extraction.formats.jp2 import read_jp2
from chalicelib.extraction.formats.jpeg import read_jpeg
from chalicelib.extraction.formats.png import read_png
from chalicelib.extraction.formats.raw import RAW_MIMES, read_raf, read_tiff_or_raw
from chalicelib.extraction.formats.webp import read_webp
from chalicelib.extraction.metadata import read_metadata
from chalicelib.extraction.sniff import sniff_mime

# One header reader per container family, by the MIME type the first bytes suggest.
# All are ours: Pillow's plugins read whole files, decode on open, build an object
# per strip or chunk, or refuse valid files (see each reader's docstring).
OWN_READERS: dict[str, Callable[[BudgetedReader], ImageFacts]] = {
    "image/jpeg": read_jpeg,
    "image/png": read_png,
    "image/bmp": read_bmp,
    "image/gif": read_gif,
    "image/jp2": read_jp2,
    "image/jpx": read_jp2,
    "image/x-j2c": read_jp2,
    "image/tiff": read_tiff_or_raw,  # and the TIFF-based camera raws
    "image/x-canon-cr2": read_tiff_or_raw,
    "image/x-olympus-orf": read_tiff_or_raw,
    "image/x-panasonic-rw2": read_tiff_or_raw,
    "image/x-fujifilm-raf": read_raf,
    "image/x-canon-cr3": read_cr3,
    "image/webp": read_webp,
    "image/x-icon": read_ico,
    "image/heic": read_heif,
    "image/heif": read_heif,
    "image/avif": read_heif,
    "image/heif-sequence": read_heif,
}
SUPPORTED_MIMES = set(OWN_READERS) | set(RAW_MIMES.values())

_SNIFF_BYTES = 64
_MAX_ERROR_CHARS = 300


def extract_metadata(fp: BinaryIO) -> dict[str, Any]:
    """Describe the image in `fp`; never raises for bad content.

    Returns `status` (`ok`, `unsupported` or `corrupt`), `format`, `mime_type`,
    and for readable images `width`, `height`, `mode` and the normalized and
    raw metadata fields documented in the README; `error` explains any status
    other than `ok`. Exceptions raised by `fp` itself (I/O) propagate when the
    parser lets them; callers that read remote files should also check their
    reader for swallowed I/O errors.
    """
    head = fp.read(_SNIFF_BYTES)
    fp.seek(0)
    if not head:
        return _failure("unsupported", "the file is empty", None)
    sniffed = sniff_mime(head)
    reader = BudgetedReader(fp)
    read = OWN_READERS.get(sniffed)
    if read is None:
        return _failure("unsupported", "not an image format this service reads", sniffed)
    try:
        facts = read(reader)
        if facts.width <= 0 or facts.height <= 0:
            raise ValueError(f"invalid dimensions {facts.width}x{facts.height}")
    except Exception as error:  # noqa: BLE001 - any parser failure means a bad file
        return _failure("corrupt", _describe_error(error), sniffed)
    return _ok(facts, reader)


def _ok(facts: ImageFacts, reader: BudgetedReader) -> dict[str, Any]:
    found = read_metadata(facts, reader)
    exif, xmp, iptc = found.exif or {}, found.xmp or {}, found.iptc or {}
    derived = normalized_fields(
        facts.width, facts.height, facts.orientation, exif, xmp, iptc, found.maker
    )
    derived.update(
        has_alpha=has_alpha(facts.mode, facts.transparency),
        animated=bool(facts.animated),
        frames=facts.frames,
        dpi=dpi(facts.dpi, exif),
        bit_depth=bit_depth(facts.bit_depth, facts.mode, exif, facts.exif_is_file),
        icc_profile=found.icc_profile,
    )
    return {
        "status": "ok",
        "format": facts.format,
        "mime_type": facts.mime_type,
        "width": facts.width,
        "height": facts.height,
        "mode": facts.mode,
        **{name: derived[name] for name in FIELDS},
        "exif": found.exif,
        "xmp": xmp_fields(xmp),
        "iptc": iptc_fields(iptc),
        "warnings": found.warnings,
    }


def _failure(status: str, error: str, mime_type: str | None) -> dict[str, Any]:
    return {"status": status, "error": error, "format": None, "mime_type": mime_type}


def _describe_error(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text[:_MAX_ERROR_CHARS]
