"""Parse the metadata blocks a header reader found: EXIF, XMP, IPTC, ICC.

A damaged block never makes the image corrupt: it is left out and a warning
says why, because the picture itself is fine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.exif import ExifData, parse_exif, parse_exif_parts, parse_tiff_file
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.icc import profile_description
from chalicelib.extraction.iptc import iptc_from_photoshop, parse_iim
from chalicelib.extraction.makernotes import MakerFacts, maker_note_facts
from chalicelib.extraction.xmp import parse_xmp

MAX_WARNINGS = 8
MAX_WARNING_CHARS = 200
MAX_ICC_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


@dataclass
class Metadata:
    exif: dict[str, Any] | None = None
    maker: MakerFacts = field(default_factory=MakerFacts)  # ISO and lens from maker notes
    xmp: dict[str, Any] | None = None
    iptc: dict[str, Any] | None = None
    icc_profile: str | None = None
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS and message not in self.warnings:
            self.warnings.append(message[:MAX_WARNING_CHARS])


def read_metadata(facts: ImageFacts, reader: BudgetedReader) -> Metadata:
    """Parsed EXIF, XMP, IPTC and ICC description, with warnings for what was left out."""
    found = Metadata()
    for message in facts.warnings:
        found.warn(message)
    blocks: dict[str, bytes] = {}
    if facts.exif_is_file or facts.exif or facts.exif_parts:
        exif = _guarded(found, "EXIF", lambda: _exif(facts, reader))
        if exif is not None:
            found.exif = exif.tags
            blocks = exif.blocks
            for message in exif.warnings:
                found.warn(message)
            make, model = exif.tags.get("Make"), exif.tags.get("Model")
            model = model if isinstance(model, str) else ""
            if exif.maker_note and isinstance(make, str):
                maker = _guarded(
                    found, "Maker notes", lambda: maker_note_facts(make, *_note(exif), model)
                )
                found.maker = maker or found.maker
    xmp_packet = facts.xmp or blocks.get("xmp")
    if xmp_packet:
        xmp = _guarded(found, "XMP", lambda: parse_xmp(xmp_packet))
        if xmp is not None:
            found.xmp = xmp.properties
            for message in xmp.warnings:
                found.warn(message)
    iim = _iim(found, facts, blocks)
    if iim:
        iptc = _guarded(found, "IPTC", lambda: parse_iim(iim))
        if iptc is not None:
            found.iptc = iptc.fields
            for message in iptc.warnings:
                found.warn(message)
    icc = facts.icc or blocks.get("icc")
    if icc and len(icc) <= MAX_ICC_BYTES:
        found.icc_profile = _guarded(found, "ICC profile", lambda: profile_description(icc))
    return found


def _iim(found: Metadata, facts: ImageFacts, blocks: dict[str, bytes]) -> bytes | None:
    """IPTC IIM in ExifTool's order of precedence: the container's own block (a JPEG's
    APP13 Photoshop resources, a PNG raw profile) before the copy in an EXIF IFD0 (tags
    33723 and 34377), which editors leave stale or garbled."""
    sources = (
        ("iptc", facts.iptc),
        ("photoshop", facts.photoshop),
        ("iptc", blocks.get("iptc")),
        ("photoshop", blocks.get("photoshop")),
    )
    for kind, data in sources:
        if data and kind == "iptc":
            return data
        if data:
            iim = _guarded(found, "Photoshop resources", lambda d=data: iptc_from_photoshop(d))
            if iim:
                return iim
    return None


def _exif(facts: ImageFacts, reader: BudgetedReader) -> ExifData:
    if facts.exif_parts:
        return parse_exif_parts(facts.exif_parts)
    if facts.exif_is_file:
        return parse_tiff_file(reader.read_at, reader.size)
    return parse_exif(facts.exif)


def _note(exif: ExifData) -> tuple[bytes, int, str]:
    offset, note, order = exif.maker_note
    return note, offset, order


def _guarded(found: Metadata, what: str, parse: Callable[[], T]) -> T | None:
    try:
        return parse()
    except Exception as error:  # noqa: BLE001 - a bad block is left out, not fatal
        found.warn(f"{what} ignored: {type(error).__name__}: {error}")
        return None
