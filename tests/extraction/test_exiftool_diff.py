"""Differential tests: our record against `exiftool -n -j -G1` on the same files.

ExifTool is the reference reader. Every EXIF value we keep must equal
ExifTool's (after the few documented value conversions ExifTool applies in -n
mode), every EXIF tag ExifTool reports that we know by name must be kept, the
`xmp` and `iptc` fields must equal the tags they come from, and the record's
normalized fields must agree with ExifTool's tags and composites.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess

import pytest
from images import (
    RICH,
    image_bytes,
    jpeg_with_exif,
    rich_avif,
    rich_heif,
    rich_jpeg,
    rich_png,
    rich_tiff,
    rich_webp,
)

from chalicelib.extraction.exif_tags import GPS_TAGS, INTEROP_TAGS, MAIN_TAGS
from chalicelib.extraction.extract import extract_metadata

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
EXIF_GROUPS = ("IFD0", "ExifIFD", "GPS", "InteropIFD")
# Our `xmp` and `iptc` fields -> the ExifTool tags they hold.
XMP_FIELDS = {
    "title": "XMP-dc:Title",
    "description": "XMP-dc:Description",
    "keywords": "XMP-dc:Subject",
    "rating": "XMP-xmp:Rating",
    "creator": "XMP-dc:Creator",
}
IPTC_FIELDS = {
    "keywords": "IPTC:Keywords",
    "caption": "IPTC:Caption-Abstract",
    "byline": "IPTC:By-line",
}
# What ExifTool writes itself, into files that start without metadata (big-endian EXIF).
EXIFTOOL_ARGS = [
    "-Make=Written By ExifTool",
    "-Model=MM Camera",
    "-Orientation#=8",
    "-ExposureTime=1/60",
    "-FNumber=4",
    "-ISO=100",
    "-FocalLength=50",
    "-DateTimeOriginal=2023:12:31 23:59:58",
    "-OffsetTimeOriginal=-05:00",
    "-GPSLatitude=40.6892",
    "-GPSLatitudeRef=N",
    "-GPSLongitude=74.0445",
    "-GPSLongitudeRef=W",
    "-GPSAltitude=93",
    "-GPSAltitudeRef=0",
    "-Artist=Zoë Ünïcode",
    "-Software=ExifTool test",
    "-SerialNumber=ET 12345",
    "-LensModel=ET Lens 50mm",
    "-ExifIFD:Flash#=16",
    "-FocalLengthIn35mmFormat=75",
    "-XResolution=100",
    "-YResolution=50",
    "-ResolutionUnit#=3",
    "-InteropIndex=R98",
    "-XMP-dc:Description=A statue",
    "-XMP-dc:Creator=Zoë",
    "-XMP-dc:Title=Liberty",
    "-XMP-dc:Subject=statue",
    "-XMP-dc:Subject=harbor",
    "-XMP-xmp:Rating=3",
    "-XMP-photoshop:Headline=A headline",
]
EXIFTOOL_IPTC_ARGS = ["-IPTC:Keywords=statue", "-IPTC:Keywords=nyc", "-IPTC:By-line=Someone"]


def _corpus() -> dict[str, bytes]:
    return {
        "rich.jpg": rich_jpeg(),
        "rich-rotated.jpg": rich_jpeg((80, 40), orientation=6),
        "rich.png": rich_png(),
        "rich.webp": rich_webp(),
        "rich-lossless.webp": rich_webp(lossless=True),
        "rich.tif": rich_tiff(),
        "rich.heic": rich_heif(),
        "rich.avif": rich_avif(),
        "simple-exif.jpg": jpeg_with_exif(),
        "exiftool.jpg": image_bytes("JPEG", (40, 30)),
        "exiftool.png": image_bytes("PNG", (40, 30)),
        "exiftool.webp": image_bytes("WEBP", (40, 30)),
        "exiftool.tif": image_bytes("TIFF", (40, 30)),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """name -> (our record, ExifTool's JSON), with one ExifTool run for all files."""
    folder = tmp_path_factory.mktemp("exiftool")
    for name, data in _corpus().items():
        (folder / name).write_bytes(data)
    written = sorted(str(p) for p in folder.glob("exiftool.*"))
    subprocess.run(
        [EXIFTOOL, "-q", "-overwrite_original", *EXIFTOOL_ARGS, *written],
        check=True,
        capture_output=True,
    )
    iptc_capable = [p for p in written if p.endswith((".jpg", ".tif"))]
    subprocess.run(
        [EXIFTOOL, "-q", "-overwrite_original", *EXIFTOOL_IPTC_ARGS, *iptc_capable],
        check=True,
        capture_output=True,
    )
    output = subprocess.run(
        [EXIFTOOL, "-n", "-j", "-G1", "-charset", "iptc=UTF8", str(folder)],
        check=True,
        capture_output=True,
    ).stdout
    reference = {entry["SourceFile"].rsplit("/", 1)[-1]: entry for entry in json.loads(output)}
    return {
        path.name: (extract_metadata(io.BytesIO(path.read_bytes())), reference[path.name])
        for path in folder.iterdir()
    }


NAMES = sorted(_corpus())


def _same(ours, theirs) -> bool:
    """Equal as ExifTool prints it: numbers within rounding, lists as spaced strings."""
    if isinstance(ours, list) and len(ours) == 1 and not isinstance(theirs, list):
        return _same(ours[0], theirs)  # ExifTool prints a one-item list as the item
    if isinstance(ours, list) and isinstance(theirs, str):
        theirs = theirs.split(" ")
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    try:
        a, b = float(ours), float(theirs)
    except (TypeError, ValueError):
        return str(ours) == str(theirs)
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _exiftool_value(name: str, ours):
    """Our raw value converted the way ExifTool's -n output presents that tag."""
    if name in ("GPSLatitude", "GPSLongitude", "GPSDestLatitude", "GPSDestLongitude"):
        return sum(v / 60**i for i, v in enumerate(ours))
    if name == "GPSTimeStamp":
        return "{:02d}:{:02d}:{}".format(int(ours[0]), int(ours[1]), f"{ours[2]:g}".zfill(2))
    if name == "ShutterSpeedValue":
        return 2 ** (-ours)
    if name in ("ApertureValue", "MaxApertureValue"):
        return 2 ** (ours / 2)
    return ours


@pytest.mark.parametrize("name", NAMES)
def test_exif_values_equal_exiftool(corpus, name):
    ours, theirs = corpus[name]
    assert ours["status"] == "ok"
    assert ours["exif"], f"{name}: no EXIF found"
    for tag, value in ours["exif"].items():
        keys = [f"{group}:{tag}" for group in EXIF_GROUPS if f"{group}:{tag}" in theirs]
        assert keys, f"{name}: {tag} is not in ExifTool's output"
        expected = theirs[keys[0]]
        assert _same(_exiftool_value(tag, value), expected), (name, tag, value, expected)


@pytest.mark.parametrize("name", NAMES)
def test_every_named_exif_tag_exiftool_sees_is_kept(corpus, name):
    ours, theirs = corpus[name]
    known = set(MAIN_TAGS.values()) | set(GPS_TAGS.values()) | set(INTEROP_TAGS.values())
    for key in theirs:
        group, _, tag = key.partition(":")
        if group in EXIF_GROUPS and tag in known:
            assert tag in ours["exif"], f"{name}: {key} missing"


def _fields_equal_exiftool(ours: dict | None, theirs: dict, fields: dict[str, str]) -> None:
    """Each field we keep equals ExifTool's tag; each tag ExifTool has, we keep."""
    ours = ours or {}
    for field, key in fields.items():
        assert (field in ours) == (key in theirs), (field, key)
        if field in ours:
            assert _same(ours[field], theirs[key]), (field, ours[field], theirs[key])


@pytest.mark.parametrize("name", [n for n in NAMES if n != "simple-exif.jpg"])
def test_xmp_equals_exiftool(corpus, name):
    ours, theirs = corpus[name]
    assert ours["xmp"], f"{name}: no XMP found"
    assert set(ours["xmp"]) <= set(XMP_FIELDS)
    _fields_equal_exiftool(ours["xmp"], theirs, XMP_FIELDS)


@pytest.mark.parametrize("name", NAMES)
def test_iptc_equals_exiftool(corpus, name):
    ours, theirs = corpus[name]
    if name in ("rich.jpg", "rich.tif", "exiftool.jpg", "exiftool.tif"):
        assert ours["iptc"], f"{name}: no IPTC found"
    _fields_equal_exiftool(ours["iptc"], theirs, IPTC_FIELDS)


def _their_dpi(theirs: dict) -> list[float] | None:
    """Dots per inch as the record defines them, from ExifTool's resolution tags."""
    if theirs.get("JFIF:ResolutionUnit") in (1, 2):
        scale = 2.54 if theirs["JFIF:ResolutionUnit"] == 2 else 1
        return [theirs["JFIF:XResolution"] * scale, theirs["JFIF:YResolution"] * scale]
    if theirs.get("PNG:PixelUnits") == 1:
        return [theirs["PNG:PixelsPerUnitX"] * 0.0254, theirs["PNG:PixelsPerUnitY"] * 0.0254]
    unit = theirs.get("IFD0:ResolutionUnit", 2)
    if "IFD0:XResolution" not in theirs or unit not in (2, 3):
        return None
    scale = 2.54 if unit == 3 else 1
    return [theirs["IFD0:XResolution"] * scale, theirs["IFD0:YResolution"] * scale]


@pytest.mark.parametrize("name", NAMES)
def test_normalized_fields_agree_with_exiftool(corpus, name):
    ours, theirs = corpus[name]

    def their(*keys):
        return next((theirs[k] for k in keys if k in theirs), None)

    if name.endswith((".heic", ".avif")):
        # HEIF orientation is the container's irot/imir (EXIF's is informational).
        assert ours["orientation"] == 1
    else:
        assert ours["orientation"] == their("IFD0:Orientation")
    for field, key in [
        ("make", "IFD0:Make"),
        ("model", "IFD0:Model"),
        ("lens", "ExifIFD:LensModel"),
        ("serial", "ExifIFD:SerialNumber"),
        ("software", "IFD0:Software"),
    ]:
        expected = their(key)
        assert ours["camera"][field] == (None if expected is None else str(expected)), (name, field)
    for field, key in [
        ("exposure_time", "ExifIFD:ExposureTime"),
        ("f_number", "ExifIFD:FNumber"),
        ("iso", "ExifIFD:ISO"),
        ("focal_length", "ExifIFD:FocalLength"),
        ("focal_length_35mm", "ExifIFD:FocalLengthIn35mmFormat"),
    ]:
        expected = their(key)
        assert (ours["exposure"][field] is None) == (expected is None), (name, field)
        if expected is not None:
            assert _same(ours["exposure"][field], expected), (name, field)
    flash = their("ExifIFD:Flash")
    assert ours["exposure"]["flash_fired"] == (None if flash is None else bool(flash & 1))
    if their("Composite:GPSLatitude") is None:
        assert ours["gps"] is None
    else:
        assert _same(ours["gps"]["latitude"], their("Composite:GPSLatitude"))
        assert _same(ours["gps"]["longitude"], their("Composite:GPSLongitude"))
        assert _same(ours["gps"]["altitude"], their("Composite:GPSAltitude"))
    taken = their("Composite:SubSecDateTimeOriginal", "ExifIFD:DateTimeOriginal")
    if taken is not None:
        date, _, clock = taken.partition(" ")
        assert ours["taken_at"] == f"{date.replace(':', '-')}T{clock}"
        assert ours["taken_at_source"] == "DateTimeOriginal"
    assert ours["icc_profile"] == their("ICC_Profile:ProfileDescription")
    expected_dpi = _their_dpi(theirs)
    assert (ours["dpi"] is None) == (expected_dpi is None), (name, ours["dpi"], expected_dpi)
    if expected_dpi is not None:
        pairs = zip(ours["dpi"], expected_dpi, strict=True)
        assert all(math.isclose(a, b, abs_tol=0.005) for a, b in pairs), name
    depth = their("File:BitsPerSample", "PNG:BitDepth", "IFD0:BitsPerSample")
    if depth is not None:
        assert ours["bit_depth"] == int(str(depth).split()[0]), name
    if their("PNG:ColorType") is not None:
        assert ours["has_alpha"] == (their("PNG:ColorType") in (4, 6))


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith((".heic", ".avif"))])
def test_dimensions_equal_exiftool(corpus, name):
    ours, theirs = corpus[name]
    assert theirs["Composite:ImageSize"] == f"{ours['width']} {ours['height']}"
    assert _same(ours["megapixels"], theirs["Composite:Megapixels"])


def test_the_corpus_exercises_what_it_claims(corpus):
    """Guards the differential tests against silently comparing nothing."""
    ours, _ = corpus["rich.jpg"]
    assert ours["exif"]["Make"] == RICH["make"]
    assert "MakerNote" not in json.dumps(ours)
    assert ours["gps"]["latitude"] < 0 and ours["gps"]["altitude"] < 0
    mm, theirs_mm = corpus["exiftool.jpg"]
    assert theirs_mm["File:ExifByteOrder"] == "MM"
    assert mm["exif"]["Artist"] == "Zoë Ünïcode"
    assert mm["gps"]["longitude"] < 0
    assert mm["iptc"] == {"keywords": ["statue", "nyc"], "byline": ["Someone"]}
    assert mm["exif"]["InteropIndex"] == "R98"
    assert mm["camera"]["serial"] == "ET 12345"
    assert mm["dpi"] == [254, 127]  # 100 x 50 per centimetre
    assert mm["exposure"]["flash_fired"] is False
    assert ours["camera"]["serial"] == RICH["serial"]  # NUL and space padding stripped
    assert ours["xmp"]["creator"] == RICH["creators"]
    assert mm["orientation"] == 8
    assert (mm["display_width"], mm["display_height"]) == (30, 40)
