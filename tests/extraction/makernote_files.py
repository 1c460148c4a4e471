"""Maker notes laid out byte by byte, inside a camera JPEG's EXIF, and ExifTool's printed
reading of them: shared by the maker-note tests."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

from images import IfdRef, image_bytes, insert_jpeg_segment, tiff_structure

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
MARK = b"@MAKERNOTE@"


def ifd(entries: list[tuple[int, int, int, bytes]], order: str, at: int, base: int) -> bytes:
    """An IFD laid out at `at` in the notes, its data right after it; value offsets are
    written as (position in the notes + `base`)."""
    data_at = at + 2 + 12 * len(entries) + 4
    table, data = struct.pack(order + "H", len(entries)), b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack(order + "L", data_at + len(data) + base)
            data += value + b"\x00" * (len(value) & 1)
        table += struct.pack(order + "HHL", tag, kind, count) + field
    return table + struct.pack(order + "L", 0) + data


def shorts(values: list[int], order: str = "<") -> bytes:
    return struct.pack(f"{order}{len(values)}H", *(v & 0xFFFF for v in values))


def ascii(text: str) -> bytes:
    return text.encode() + b"\x00"


def jpeg_with_notes(make: str, model: str, notes, extra: list = ()) -> bytes:
    """A JPEG whose EXIF has Make, Model, an exposure time and the given maker notes (no ISO,
    no LensModel). `notes(offset)` builds them knowing where they land in the TIFF structure."""

    def structure(note: bytes) -> bytes:
        ifd0 = [(0x010F, 2, make), (0x0110, 2, model), (0x8769, 4, IfdRef(1))]
        exif = [(0x829A, 5, (1, 125)), (0x927C, 7, note), *extra]
        return tiff_structure([ifd0, exif])

    size = len(notes(0))
    probe = structure(MARK + bytes(size - len(MARK)))
    offset = probe.index(MARK)
    blob = structure(notes(offset))
    assert len(blob) == len(probe)
    return insert_jpeg_segment(image_bytes("JPEG", (16, 16)), 0xE1, b"Exif\x00\x00" + blob)


def exiftool_printed(folder: Path, files: dict[str, bytes]) -> dict[str, dict]:
    """ExifTool's printed tags (`-j -G1`) of each file, by name."""
    for name, data in files.items():
        (folder / f"{name}.jpg").write_bytes(data)
    output = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-q", str(folder)], check=True, capture_output=True
    ).stdout
    return {e["SourceFile"].rsplit("/", 1)[-1][:-4]: e for e in json.loads(output)}
