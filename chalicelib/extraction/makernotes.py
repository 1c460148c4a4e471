"""ISO and lens from a camera's maker notes, for files whose EXIF lacks them.

Many older cameras record the ISO speed or the lens only in their maker
notes. We read exactly those two values, nothing else: Canon (CameraSettings,
ShotInfo, LensModel), Nikon (ISO, Lens), Panasonic (ISO or ProgramISO,
LensType), Olympus and OM System (the Equipment IFD's LensModel), Pentax (the
ISO code), Casio (ISO), Kodak (the ISO of the common "KDK" layout; the other
eleven layouts are per model) and Sony (makernotes_sony.py). Fujifilm notes
hold no ISO, and their lens is only a focal and aperture range that ExifTool
prints as four numbers, never as a Lens or LensID: we read nothing from them.
Values are ExifTool's (its printed ISO and lens, where the two differ).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from chalicelib.extraction.makernote_ifd import MakerIfd
from chalicelib.extraction.makernotes_sony import SONY_HEADERS, sony_facts

# Pentax ISO codes (ExifTool's table): 1/3-stop steps from ISO 50, then half stops.
_THIRDS = [50, 64, 80, 100, 125, 160, 200, 250, 320, 400, 500, 640, 800, 1000, 1250, 1600]
_THIRDS += [2000, 2500, 3200, 4000, 5000, 6400, 8000, 10000, 12800, 16000, 20000, 25600]
_THIRDS += [32000, 40000, 51200, 64000, 80000, 102400, 128000, 160000, 204800, 256000]
_THIRDS += [320000, 409600, 512000, 640000, 819200]
_HALVES = [50, 70, 100, 140, 200, 280, 400, 560, 800, 1100, 1600, 2200, 3200, 4500, 6400]
_HALVES += [9000, 12800, 18000, 25600, 36000, 51200, 72000, 102400, 144000, 204800]
PENTAX_ISO = {3 + i: iso for i, iso in enumerate(_THIRDS)}
PENTAX_ISO |= {258 + i: iso for i, iso in enumerate(_HALVES)}
PENTAX_ISO |= {iso: iso for iso in (50, 100, 200, 400, 800, 1600, 3200)}
CANON_ISO_CODES = {16: 50, 17: 100, 18: 200, 19: 400, 20: 800}
CASIO_ISO_CODES = {3: 50, 4: 64, 6: 100, 9: 200}
KODAK_ISO_AT = 8 + 0x60  # after the 8-byte "KDK INFO" header
# Sony-made notes in other makers' layouts (Olympus-style, Sony Ericsson) or other tables.
NOT_SONY_IFD = (b"\x01\x00", b"SONY PI", b"PREMI\x00", b"SEMC MS", b"\x00\x00SONY PIC")


@dataclass
class MakerFacts:
    iso: int | None = None
    lens: str | None = None


def maker_note_facts(
    make: str, note: bytes, offset: int, order: str, model: str = ""
) -> MakerFacts:
    """ISO and lens from the maker notes `note`, found at `offset` of the EXIF structure
    whose byte order is `order` (the notes' own offsets may count from either), of a
    camera of that `make` and `model`."""
    make = make.upper()
    if note.startswith(SONY_HEADERS) or (
        make.startswith("SONY") and not note.startswith(NOT_SONY_IFD)
    ):
        return MakerFacts(*sony_facts(model, note, offset, order))
    if make.startswith("EASTMAN KODAK") and note.startswith(b"KDK"):
        return _kodak(note)
    if note.startswith(b"Nikon\x00\x02"):
        return _nikon(note)
    if make.startswith("CANON"):
        return _canon(MakerIfd(note, 0, order, -offset))
    if note.startswith(b"Panasonic\x00"):
        ifd = MakerIfd(note, 12, order, -offset)
        iso = ifd.number(0x00D1)  # ISO; older models: ProgramISO (65534: "Intelligent ISO")
        if not iso or iso > 0xFFFFFFF0:
            iso = ifd.number(0x003C)
            iso = iso if iso and iso < 65534 else None
        return MakerFacts(iso, ifd.text(0x0051))
    if note.startswith((b"OLYMPUS\x00", b"OM SYSTEM\x00")):
        return _olympus(note)
    if note.startswith(b"AOC\x00"):
        pentax_order = "<" if note[4:6] == b"II" else ">" if note[4:6] == b"MM" else order
        return MakerFacts(PENTAX_ISO.get(MakerIfd(note, 6, pentax_order, 0).number(0x0014)))
    if make.startswith("CASIO"):
        if note.startswith((b"QVC\x00", b"DCI\x00")):
            return MakerFacts(CASIO_ISO_CODES.get(MakerIfd(note, 6, order, -offset).number(0x0014)))
        iso = MakerIfd(note, 0, order, -offset).number(0x0014)
        return MakerFacts(iso if iso and iso < 65535 else None)
    return MakerFacts()


def _canon(notes: MakerIfd) -> MakerFacts:
    """CameraISO (CameraSettings[16]) when numeric, else BaseISO * AutoISO / 100 (ShotInfo)."""
    iso = None
    # Both arrays are int16s; the IFD calls them SHORT.
    settings, shot = (
        [v - 65536 if v >= 32768 else v for v in notes.numbers(tag)] for tag in (0x0001, 0x0004)
    )
    camera_iso = int(settings[16]) & 0xFFFF if len(settings) > 16 else None
    if camera_iso is not None and camera_iso != 0x7FFF:
        iso = camera_iso & 0x3FFF if camera_iso & 0x4000 else CANON_ISO_CODES.get(camera_iso)
    if iso is None and len(shot) > 2 and shot[1] and shot[2]:
        auto = math.exp(shot[1] / 32 * math.log(2)) * 100
        base = math.exp(shot[2] / 32 * math.log(2)) * 100 / 32
        iso = round(base * auto / 100)
    return MakerFacts(iso or None, notes.text(0x0095))


def _nikon(note: bytes) -> MakerFacts:
    """Nikon type 3: an embedded TIFF header at 10; ISO is the second value of tag 2."""
    header = note[10:18]
    if header[:2] not in (b"II", b"MM"):
        return MakerFacts()
    order = "<" if header[:2] == b"II" else ">"
    start = struct.unpack_from(order + "L", header, 4)[0]
    notes = MakerIfd(note, 10 + start, order, 10)
    iso = notes.number(0x0002, 1)
    return MakerFacts(iso or None, _lens_info(notes.numbers(0x0084)))


def _kodak(note: bytes) -> MakerFacts:
    """Kodak type 1: binary fields after "KDK INFO" (big-endian) or "KDK" (little-endian)."""
    raw = note[KODAK_ISO_AT : KODAK_ISO_AT + 2]
    if len(raw) < 2:
        return MakerFacts()
    iso = struct.unpack((">" if note.startswith(b"KDK INFO") else "<") + "H", raw)[0]
    return MakerFacts(iso or None)  # 0 when the camera did not record it


def _olympus(note: bytes) -> MakerFacts:
    """The Equipment IFD (0x2010) of new-style notes; offsets count from the notes' start."""
    at = 16 if note.startswith(b"OM SYSTEM") else 12
    order = "<" if note[at - 4 : at - 2] == b"II" else ">"
    main = MakerIfd(note, at, order, 0)
    entry = main.entries.get(0x2010)
    if entry is None:
        return MakerFacts()
    equipment = struct.unpack(main.order + "L", entry[2])[0]
    return MakerFacts(None, MakerIfd(note, equipment, main.order, 0).text(0x0203))


def _lens_info(values: list[float]) -> str | None:
    """ExifTool's printed lens specification: "24-70mm f/2.8", "18-55mm f/3.5-5.6"."""
    if len(values) != 4 or not all(math.isfinite(v) and v > 0 for v in values):
        return None
    low, high, wide, tele = (f"{v:.15g}" for v in values)
    text = low + (f"-{high}" if high != low else "") + f"mm f/{wide}"
    return text + (f"-{tele}" if tele != wide else "")
