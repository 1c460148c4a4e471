"""Header readers, one per container family; each returns the same ImageFacts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImageFacts:
    """What a header reader found: the picture's shape and its raw metadata blocks."""

    format: str
    mime_type: str
    width: int
    height: int
    mode: str
    frames: int | None = 1  # None: only reading far into the file would tell
    animated: bool | None = False
    orientation: int | None = None  # set by containers that carry it (HEIF irot/imir)
    bit_depth: int | None = None  # bits per sample, when the header says (else from mode)
    dpi: tuple[float, float] | None = None  # the container's own density (JFIF, pHYs, BMP)
    transparency: bool = False  # a transparent colour (PNG tRNS, GIF) in a mode without A
    exif: bytes | None = None  # a TIFF structure, with or without "Exif\0\0"
    exif_is_file: bool = False  # TIFF: the file itself holds the EXIF tags
    # EXIF kept as one TIFF structure per IFD (CR3): [("IFD0" | "Exif" | "GPS", bytes)]
    exif_parts: list[tuple[str, bytes]] = field(default_factory=list)
    xmp: bytes | None = None
    iptc: bytes | None = None  # IPTC IIM datasets
    photoshop: bytes | None = None  # Photoshop image resources (may hold IIM)
    icc: bytes | None = None
    warnings: list[str] = field(default_factory=list)
