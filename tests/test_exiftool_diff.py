"""Differential tests: our record against `exiftool -n -j -G1` on the same files.

ExifTool is the reference reader. Every EXIF, XMP and IPTC value we keep must
equal ExifTool's (after the few documented value conversions ExifTool applies
in -n mode), every tag ExifTool reports that we know by name must be kept, and
the normalized fields must agree with ExifTool's composites.
"""

from __future__ import annotations

import io
import json
import math
import re
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

from chalicelib.exif_tags import GPS_TAGS, MAIN_TAGS
from chalicelib.extract import extract_metadata

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
EXIF_GROUPS = ("IFD0", "ExifIFD", "GPS")
# Our XMP prefixes -> ExifTool's XMP group names.
XMP_GROUPS = {"Iptc4xmpCore": "iptcCore", "Iptc4xmpExt": "iptcExt", "MicrosoftPhoto": "microsoft"}
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
    known = set(MAIN_TAGS.values()) | set(GPS_TAGS.values())
    for key in theirs:
        group, _, tag = key.partition(":")
        if group in EXIF_GROUPS and tag in known:
            assert tag in ours["exif"], f"{name}: {key} missing"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "simple-exif.jpg"])
def test_xmp_equals_exiftool(corpus, name):
    ours, theirs = corpus[name]
    assert ours["xmp"], f"{name}: no XMP found"
    for key, value in ours["xmp"].items():
        prefix, _, local = key.partition(":")
        their_key = f"XMP-{XMP_GROUPS.get(prefix, prefix)}:{local[0].upper()}{local[1:]}"
        assert their_key in theirs, f"{name}: {their_key} missing from ExifTool"
        assert _same(value, theirs[their_key]), (name, key, value, theirs[their_key])
    # And nothing ExifTool reads is missing (language alternates and the
    # skipped camera-raw settings aside).
    for key in theirs:
        group, _, local = key.partition(":")
        if not group.startswith("XMP-") or group in ("XMP-x", "XMP-crs"):
            continue
        if re.search(r"-[a-z]{2}(-[A-Z]{2})?$", local):
            continue
        prefix = next((p for p, g in XMP_GROUPS.items() if g == group[4:]), group[4:])
        # ExifTool capitalizes names (dc:title is "Title"): compare without case.
        assert f"{prefix}:{local}".lower() in {k.lower() for k in ours["xmp"]}, f"{name}: {key}"


def _iptc_as_exiftool(name: str, value):
    if name == "DateCreated":
        return f"{value[:4]}:{value[4:6]}:{value[6:]}"
    if name == "TimeCreated":
        return f"{value[:2]}:{value[2:4]}:{value[4:6]}{value[6:9]}:{value[9:]}"
    return value


@pytest.mark.parametrize("name", ["rich.jpg", "rich.tif", "exiftool.jpg", "exiftool.tif"])
def test_iptc_equals_exiftool(corpus, name):
    ours, theirs = corpus[name]
    their_fields = {
        k.partition(":")[2]: v
        for k, v in theirs.items()
        if k.startswith("IPTC:") and k != "IPTC:CodedCharacterSet"
    }
    assert ours["iptc"], f"{name}: no IPTC found"
    assert set(ours["iptc"]) == set(their_fields)
    for field, value in ours["iptc"].items():
        assert _same(_iptc_as_exiftool(field, value), their_fields[field]), (name, field)


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
    assert ours["camera_make"] == their("IFD0:Make")
    assert ours["camera_model"] == (
        str(their("IFD0:Model")) if their("IFD0:Model") is not None else None
    )
    for field, key in [
        ("exposure_time", "ExifIFD:ExposureTime"),
        ("f_number", "ExifIFD:FNumber"),
        ("iso", "ExifIFD:ISO"),
        ("focal_length", "ExifIFD:FocalLength"),
        ("focal_length_35mm", "ExifIFD:FocalLengthIn35mmFormat"),
    ]:
        expected = their(key)
        assert (ours[field] is None) == (expected is None), (name, field)
        if expected is not None:
            assert _same(ours[field], expected), (name, field)
    if their("ExifIFD:Flash") is not None:
        assert ours["flash"] == bool(their("ExifIFD:Flash") & 1)
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
    assert ours["color_profile"] == their("ICC_Profile:ProfileDescription")
    assert ours["title"] == their("XMP-dc:Title", "IPTC:ObjectName")


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith((".heic", ".avif"))])
def test_dimensions_equal_exiftool(corpus, name):
    ours, theirs = corpus[name]
    assert theirs["Composite:ImageSize"] == f"{ours['width']} {ours['height']}"


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
    assert mm["iptc"]["Keywords"] == ["statue", "nyc"]
    assert mm["orientation"] == 8
    assert (mm["display_width"], mm["display_height"]) == (30, 40)
