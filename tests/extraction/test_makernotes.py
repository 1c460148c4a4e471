"""ISO and lens from maker notes when EXIF lacks them (issue 12), against ExifTool's printed
values (its -n value for Pentax ISO is a code, not the ISO)."""

from __future__ import annotations

import io
import struct

import pytest
from makernote_files import ascii, exiftool_printed, ifd, jpeg_with_notes, shorts

from chalicelib.extraction.extract import extract_metadata


def canon(camera_iso: int, auto: int = 0, base: int = 0):
    def notes(offset: int) -> bytes:
        settings = [2 * 30] + [0] * 15 + [camera_iso] + [0] * 13
        shot = [2 * 30, auto, base] + [0] * 27
        entries = [
            (0x0001, 3, 30, shorts(settings)),
            (0x0004, 3, 30, shorts(shot)),
            (0x0095, 2, 23, ascii("EF24-105mm f/4L IS USM")),
        ]
        return ifd(entries, "<", 0, offset)

    return notes


def nikon(offset: int) -> bytes:
    rationals = struct.pack(">8L", 18, 1, 55, 1, 35, 10, 56, 10)
    entries = [
        (0x0001, 7, 4, b"0210"),
        (0x0002, 3, 2, shorts([0, 640], ">")),
        (0x0084, 5, 4, rationals),
    ]
    return b"Nikon\x00\x02\x10\x00\x00" + b"MM\x00*\x00\x00\x00\x08" + ifd(entries, ">", 8, 0)


def panasonic_program_iso(offset: int) -> bytes:
    """An older model: ProgramISO (0x3C) only."""
    return b"Panasonic\x00\x00\x00" + ifd([(0x003C, 3, 1, shorts([320]))], "<", 12, offset)


def panasonic(offset: int) -> bytes:
    entries = [
        (0x00D1, 4, 1, struct.pack("<L", 1600)),
        (0x0051, 2, 29, ascii("LUMIX G VARIO 14-42/F3.5-5.6")),
    ]
    return b"Panasonic\x00\x00\x00" + ifd(entries, "<", 12, offset)


def olympus(offset: int) -> bytes:
    equipment = ifd([(0x0000, 7, 4, b"0100"), (0x0203, 2, 23, ascii("OLYMPUS M.12-40mm F2.8"))],
                    "<", 12 + 2 + 24 + 4, 0)  # fmt: skip
    main = [(0x0000, 7, 4, b"0100"), (0x2010, 13, 1, struct.pack("<L", 12 + 2 + 24 + 4))]
    return b"OLYMPUS\x00II\x03\x00" + ifd(main, "<", 12, 0) + equipment


def pentax(offset: int) -> bytes:
    entries = [(0x0000, 1, 4, b"\x03\x00\x00\x00"), (0x0014, 3, 1, shorts([12], ">"))]
    return b"AOC\x00MM" + ifd(entries, ">", 6, 0)


def casio_type2(offset: int) -> bytes:
    return b"QVC\x00\x00\x00" + ifd([(0x0014, 3, 1, shorts([4]))], "<", 6, offset)


def casio_type1(offset: int) -> bytes:
    return ifd([(0x0014, 3, 1, shorts([100]))], "<", 0, offset)


# name -> (file, expected ISO, expected lens, ExifTool's ISO tag, ExifTool's lens tag)
CASES = {
    "canon-camera-iso": (
        jpeg_with_notes("Canon", "Canon EOS 5D", canon(0x4000 | 800)),
        800,
        "EF24-105mm f/4L IS USM",
        "Composite:ISO",
        "Canon:LensModel",
    ),
    "canon-auto-iso": (
        jpeg_with_notes("Canon", "Canon EOS 5D", canon(15, auto=32, base=160)),
        200,
        "EF24-105mm f/4L IS USM",
        "Composite:ISO",
        "Canon:LensModel",
    ),
    "nikon": (
        jpeg_with_notes("NIKON CORPORATION", "NIKON D200", nikon),
        640,
        "18-55mm f/3.5-5.6",
        "Nikon:ISO",
        "Nikon:Lens",
    ),
    "panasonic": (
        jpeg_with_notes("Panasonic", "DMC-G1", panasonic),
        1600,
        "LUMIX G VARIO 14-42/F3.5-5.6",
        "Panasonic:ISO",
        "Panasonic:LensType",
    ),
    "panasonic-program-iso": (
        jpeg_with_notes("Panasonic", "DMC-FZ8", panasonic_program_iso),
        320,
        None,
        "Panasonic:ProgramISO",
        None,
    ),
    "olympus": (
        jpeg_with_notes("OLYMPUS IMAGING CORP.", "E-M5", olympus),
        None,
        "OLYMPUS M.12-40mm F2.8",
        None,
        "Olympus:LensModel",
    ),
    "pentax": (
        jpeg_with_notes("PENTAX Corporation", "PENTAX K10D", pentax),
        400,
        None,
        "Pentax:ISO",
        None,
    ),
    "casio-type2": (
        jpeg_with_notes("CASIO COMPUTER CO.,LTD.", "EX-Z750", casio_type2),
        64,
        None,
        "Casio:ISO",
        None,
    ),
    "casio-type1": (
        jpeg_with_notes("CASIO", "QV-4000", casio_type1),
        100,
        None,
        "Casio:ISO",
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_iso_and_lens_come_from_the_maker_notes(name):
    data, iso, lens, _, _ = CASES[name]

    result = extract_metadata(io.BytesIO(data))

    assert result["status"] == "ok"
    assert "ISO" not in result["exif"] and "LensModel" not in result["exif"]
    assert (result["exposure"]["iso"], result["camera"]["lens"]) == (iso, lens)
    assert not any("MakerNote" in key or "Canon" in key for key in result["exif"])


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, dict]:
    files = {name: case[0] for name, case in CASES.items()}
    return exiftool_printed(tmp_path_factory.mktemp("makernotes"), files)


@pytest.mark.parametrize("name", sorted(CASES))
def test_maker_note_values_equal_exiftools_printed_ones(printed, name):
    _, iso, lens, iso_tag, lens_tag = CASES[name]
    theirs = printed[name]
    if iso_tag:
        assert str(theirs[iso_tag]) == str(iso)
    if lens_tag:
        assert theirs[lens_tag] == lens


def test_exif_iso_and_lens_win_over_the_maker_notes():
    exif = [(0x8827, 3, 100), (0xA434, 2, "EXIF lens")]
    data = jpeg_with_notes("Canon", "Canon EOS 5D", canon(0x4000 | 800), extra=exif)

    result = extract_metadata(io.BytesIO(data))

    assert (result["exposure"]["iso"], result["camera"]["lens"]) == (100, "EXIF lens")


def test_damaged_maker_notes_are_ignored():
    def damaged(offset: int) -> bytes:
        return b"\xff\xff" + bytes(30)  # 65535 entries, in either byte order

    result = extract_metadata(io.BytesIO(jpeg_with_notes("Canon", "Canon EOS 5D", damaged)))

    assert result["status"] == "ok"
    assert (result["exposure"]["iso"], result["camera"]["lens"]) == (None, None)
