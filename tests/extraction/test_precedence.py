"""Which copy of a value the record takes (issue 12): IPTC from APP13 over an IFD0 copy, the
more precise of two capture times for the same day, and ExifTool's view of each."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from images import (
    iim,
    image_bytes,
    insert_jpeg_segment,
    photoshop_resources,
    tiff_structure,
    xmp_packet,
)

from chalicelib.extraction.extract import extract_metadata

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
GOOD_IIM = iim([(1, 90, b"\x1b%G"), (2, 80, b"Good Byline"), (2, 120, b"The caption")])
GARBLED_IIM = iim([(2, 80, b"G\xe4rbled \xff\xfe")])


def jpeg(ifd0: list, app13: bytes | None = None, xmp: bytes | None = None) -> bytes:
    data = image_bytes("JPEG", (16, 16))
    if app13 is not None:
        data = insert_jpeg_segment(data, 0xED, b"Photoshop 3.0\x00" + photoshop_resources(app13))
    if xmp is not None:
        data = insert_jpeg_segment(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp)
    exif = b"Exif\x00\x00" + tiff_structure([[(0x010F, 2, "Acme"), *ifd0]])
    return insert_jpeg_segment(data, 0xE1, exif)


FILES = {
    "iptc-both": jpeg([(0x83BB, 7, GARBLED_IIM)], app13=GOOD_IIM),
    "iptc-ifd0-only": jpeg([(0x83BB, 7, GARBLED_IIM)]),
    "date-xmp-and-iptc-time": jpeg(
        [],
        app13=iim([(2, 55, b"20061029"), (2, 60, b"062751-0500")]),
        xmp=xmp_packet().replace(b'xmp:Rating="4"', b'photoshop:DateCreated="2006-10-29"'),
    ),
    "related-image-size": jpeg([(0x1001, 3, 4000), (0x1002, 3, 3000)]),
}


def extract(name: str) -> dict:
    return extract_metadata(io.BytesIO(FILES[name]))


def test_app13_iptc_wins_over_an_ifd0_copy():
    result = extract("iptc-both")

    assert result["iptc"] == {"byline": ["Good Byline"], "caption": "The caption"}


def test_an_ifd0_copy_alone_is_still_read():
    assert extract("iptc-ifd0-only")["iptc"]["byline"]


def test_a_date_is_completed_by_a_time_for_the_same_day():
    """XMP photoshop:DateCreated has only the day; IPTC has the time and offset."""
    result = extract("date-xmp-and-iptc-time")

    assert result["taken_at"] == "2006-10-29T06:27:51-05:00"
    assert result["taken_at_source"] == "IPTC:DateCreated"


def test_canon_related_image_size_in_ifd0_is_kept():
    result = extract("related-image-size")

    assert (result["exif"]["RelatedImageWidth"], result["exif"]["RelatedImageHeight"]) == (
        4000,
        3000,
    )


@pytest.fixture(scope="module")
def exiftool(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("precedence")
    for name, data in FILES.items():
        (folder / f"{name}.jpg").write_bytes(data)
    output = subprocess.run(
        [EXIFTOOL, "-j", "-n", "-G1", "-q", "-charset", "iptc=UTF8", str(folder)],
        check=True,
        capture_output=True,
    ).stdout
    return {e["SourceFile"].rsplit("/", 1)[-1][:-4]: e for e in json.loads(output)}


def test_exiftool_takes_the_same_iptc(exiftool):
    theirs = exiftool["iptc-both"]
    assert theirs["IPTC:By-line"] == "Good Byline"
    assert theirs["IPTC:Caption-Abstract"] == "The caption"


def test_exiftool_sees_the_same_date_and_time(exiftool):
    theirs = exiftool["date-xmp-and-iptc-time"]
    assert theirs["XMP-photoshop:DateCreated"] == "2006:10:29"
    assert (theirs["IPTC:DateCreated"], theirs["IPTC:TimeCreated"]) == (
        "2006:10:29",
        "06:27:51-05:00",
    )


def test_exiftool_names_the_related_image_size_in_ifd0(exiftool):
    theirs = exiftool["related-image-size"]
    assert (theirs["IFD0:RelatedImageWidth"], theirs["IFD0:RelatedImageHeight"]) == (4000, 3000)
