"""The metadata parsers and the normalized fields, one by one, and round trips through writers."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from images import iim, image_bytes, insert_jpeg_segment, photoshop_resources, rich_jpeg, srgb_icc
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from chalicelib.exif import parse_exif
from chalicelib.extract import extract_metadata
from chalicelib.fields import gps, keywords, normalized_fields, taken_at
from chalicelib.icc import profile_description
from chalicelib.iptc import iptc_from_photoshop, parse_iim
from chalicelib.xmp import parse_xmp

ROUND_TRIP = settings(max_examples=60, deadline=None, derandomize=True)


# --- EXIF -------------------------------------------------------------------
printable = (
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool)
)
rational = st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1))


@ROUND_TRIP
@given(
    make=printable,
    model=printable,
    orientation=st.integers(1, 8),
    iso=st.integers(1, 65535),
    exposure=rational,
    f_number=rational,
    lat=st.tuples(st.integers(0, 89), st.integers(0, 59), st.integers(0, 5999)),
    ref=st.sampled_from(["N", "S"]),
    big_endian=st.booleans(),
)
def test_exif_written_by_pillow_reads_back(
    make, model, orientation, iso, exposure, f_number, lat, ref, big_endian
):
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x8827] = iso
    sub[0x829A] = IFDRational(*exposure)
    sub[0x829D] = IFDRational(*f_number)
    g = exif.get_ifd(0x8825)
    g[1] = ref
    g[2] = (IFDRational(lat[0]), IFDRational(lat[1]), IFDRational(lat[2], 100))
    exif.endian = ">" if big_endian else "<"
    blob = exif.tobytes()
    assert blob[6:8] == (b"MM" if big_endian else b"II")

    tags = parse_exif(blob).tags

    assert tags["Make"] == make and tags["Model"] == model
    assert tags["Orientation"] == orientation and tags["ISO"] == iso
    assert tags["ExposureTime"] == pytest.approx(exposure[0] / exposure[1])
    assert tags["FNumber"] == pytest.approx(f_number[0] / f_number[1])
    latitude = gps({**tags, "GPSLongitude": [0.0], "GPSLongitudeRef": "E"})["latitude"]
    expected = lat[0] + lat[1] / 60 + lat[2] / 360000
    assert latitude == pytest.approx(-expected if ref == "S" else expected, abs=1e-7)


def test_exif_without_prefix_and_with_it_are_the_same():
    blob = Image.Exif()
    blob[0x010F] = "Same"
    data = blob.tobytes()
    assert data.startswith(b"Exif\x00\x00")

    assert parse_exif(data).tags == parse_exif(data[6:]).tags == {"Make": "Same"}


@pytest.mark.parametrize(
    ("prefix", "body", "expected"),
    [
        (b"ASCII\x00\x00\x00", b"plain text\x00\x00", "plain text"),
        (b"UNICODE\x00", "Grüße".encode("utf-16-le"), "Grüße"),
        (b"UNICODE\x00", "Grüße".encode("utf-16-be"), "Grüße"),
        (bytes(8), b"undefined code", "undefined code"),
        (bytes(8), b"\x00" * 20, None),  # blank comments are common; they are no text
    ],
)
def test_user_comment_character_codes(prefix, body, expected):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = prefix + body

    assert parse_exif(exif.tobytes()).tags.get("UserComment") == expected


def test_makernote_thumbnail_and_unknown_tags_are_dropped():
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    exif[0xC4A5] = b"PrintIM" + bytes(100)  # PrintIM: not a named tag
    exif.get_ifd(0x8769)[0x927C] = b"Nikon\x00" + bytes(5000)  # MakerNote
    exif.get_ifd(0x8769)[0xEA1C] = b"\x1c\xea" + bytes(2000)  # Microsoft padding
    data = image_bytes("JPEG", (16, 16), exif=exif.tobytes())

    result = extract_metadata(io.BytesIO(data))

    assert result["exif"] == {"Make": "Maker"}


# --- normalized fields ------------------------------------------------------
@pytest.mark.parametrize(
    ("exif", "xmp", "iptc", "expected"),
    [
        ({"DateTimeOriginal": "2024:05:17 10:30:15"}, {}, {}, "2024-05-17T10:30:15"),
        (
            {
                "DateTimeOriginal": "2024:05:17 10:30:15",
                "SubSecTimeOriginal": "07",
                "OffsetTimeOriginal": "-03:30",
            },
            {},
            {},
            "2024-05-17T10:30:15.07-03:30",
        ),
        (
            {"DateTimeOriginal": "0000:00:00 00:00:00", "CreateDate": "2020:01:02 03:04:05"},
            {},
            {},
            "2020-01-02T03:04:05",
        ),
        ({"DateTimeOriginal": "    :  :     :  :  "}, {}, {}, None),
        ({"DateTimeOriginal": "2024:02:30 10:00:00"}, {}, {}, None),
        (
            {},
            {"exif:DateTimeOriginal": "2019-07-04T12:00:00+01:00"},
            {},
            "2019-07-04T12:00:00+01:00",
        ),
        ({}, {"photoshop:DateCreated": "2019-07"}, {}, "2019-07"),
        ({}, {"xmp:CreateDate": "yesterday"}, {}, None),
        (
            {},
            {},
            {"DateCreated": "20240517", "TimeCreated": "103015+0200"},
            "2024-05-17T10:30:15+02:00",
        ),
        ({}, {}, {"DateCreated": "20240517"}, "2024-05-17"),
        ({}, {}, {"DateCreated": "20241341"}, None),
    ],
)
def test_taken_at(exif, xmp, iptc, expected):
    assert taken_at(exif, xmp, iptc) == expected


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            {
                "GPSLatitude": [10.0, 30.0, 0.0],
                "GPSLatitudeRef": "N",
                "GPSLongitude": [20.0, 15.0, 0.0],
                "GPSLongitudeRef": "W",
            },
            {"latitude": 10.5, "longitude": -20.25, "altitude": None},
        ),
        (
            {
                "GPSLatitude": [1.5],
                "GPSLatitudeRef": "S",
                "GPSLongitude": 2.5,
                "GPSAltitude": 7.0,
                "GPSAltitudeRef": 1,
            },
            {"latitude": -1.5, "longitude": 2.5, "altitude": -7.0},
        ),
        ({"GPSLatitude": [91.0, 0.0, 0.0], "GPSLongitude": [0.0, 0.0, 0.0]}, None),
        ({"GPSLatitude": [10.0, 0.0, 0.0]}, None),
        ({"GPSLatitude": "north", "GPSLongitude": [1.0]}, None),
    ],
)
def test_gps(tags, expected):
    assert gps(tags) == expected


def test_keywords_merge_in_order_without_duplicates():
    assert keywords(
        {"dc:subject": ["b", "a"]}, {"Keywords": ["a", "c"]}, {"XPKeywords": "c;d; e "}
    ) == ["b", "a", "c", "d", "e"]


def test_descriptive_fields_prefer_xmp_then_iptc_then_exif():
    exif = {"ImageDescription": "exif", "Artist": "exif artist", "Copyright": "exif ©"}
    iptc = {"Caption-Abstract": "iptc", "By-line": ["iptc author"], "ObjectName": "iptc title"}
    xmp = {"dc:description": "xmp", "dc:creator": ["a", "b"]}

    fields = normalized_fields(10, 20, None, exif, xmp, iptc)

    assert (fields["description"], fields["creator"], fields["copyright"]) == (
        "xmp",
        "a; b",
        "exif ©",
    )
    assert fields["title"] == "iptc title"
    assert normalized_fields(10, 20, None, exif, {}, {})["creator"] == "exif artist"


@pytest.mark.parametrize(
    ("orientation", "display"),
    [(None, (10, 20)), (1, (10, 20)), (4, (10, 20)), (5, (20, 10)), (8, (20, 10))],
)
def test_display_size_follows_orientation(orientation, display):
    fields = normalized_fields(10, 20, orientation, {}, {}, {})

    assert (fields["display_width"], fields["display_height"]) == display


@pytest.mark.parametrize(
    ("xmp", "exif", "expected"),
    [
        ("5", None, 5),
        ("2.5", None, 2.5),
        ("-1", None, -1),
        ("9", None, None),
        ("x", 3, 3),
        (None, 4, 4),
        ("nan", None, None),
    ],
)
def test_rating(xmp, exif, expected):
    fields = normalized_fields(
        1,
        1,
        None,
        {"Rating": exif} if exif is not None else {},
        {"xmp:Rating": xmp} if xmp else {},
        {},
    )

    assert fields["rating"] == expected


# --- XMP --------------------------------------------------------------------
def _xmp(body: str, extra_ns: str = "") -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f" {extra_ns}>{body}"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def test_xmp_alternatives_and_structures():
    packet = _xmp(
        '<dc:title><rdf:Alt><rdf:li xml:lang="de">Titel</rdf:li></rdf:Alt></dc:title>'
        '<dc:source rdf:resource="http://example.com/"/>'
        '<dc:coverage rdf:parseType="Resource"><dc:x>1</dc:x></dc:coverage>'
        "<my:thing>kept</my:thing><ps:City>Lyon</ps:City>",
        'xmlns:my="http://example.com/mine/" xmlns:ps="http://ns.adobe.com/photoshop/1.0/"',
    )

    properties = parse_xmp(packet).properties

    assert properties == {
        "dc:title": "Titel",  # no x-default: the first alternative
        "dc:source": "http://example.com/",
        "my:thing": "kept",  # unknown namespace: the packet's own prefix
        "photoshop:City": "Lyon",  # well-known namespace: its usual prefix
    }


def test_xmp_packet_padding_and_nul_bytes():
    packet = b"\x00\x00  " + _xmp("<dc:format>image/jpeg</dc:format>") + b"\x00" * 10

    assert parse_xmp(packet).properties == {"dc:format": "image/jpeg"}


def test_xmp_not_well_formed_raises_for_the_caller_to_report():
    with pytest.raises(ValueError):
        parse_xmp(b"just text")
    with pytest.raises(SyntaxError):
        parse_xmp(b"<unclosed>")


# --- IPTC -------------------------------------------------------------------
def test_iptc_without_a_character_set_falls_back_to_latin_1():
    data = iim([(2, 120, "Café".encode("latin-1")), (2, 25, "naïve".encode())])

    fields = parse_iim(data).fields

    assert fields == {"Caption-Abstract": "Café", "Keywords": ["naïve"]}


def test_iptc_inside_photoshop_resources_after_other_resources():
    other = b"8BIM" + struct.pack(">H", 0x0425) + b"\x03abc" + struct.pack(">L", 3) + b"xyz\x00"
    data = iim([(2, 5, b"Name")])

    found = iptc_from_photoshop(b"Photoshop 3.0\x00" + other + photoshop_resources(data))

    assert found == data


def test_iptc_in_a_jpeg_end_to_end():
    data = iim([(1, 90, b"\x1b%G"), (2, 80, "Zoë".encode()), (2, 80, b"Max"), (2, 116, b"(c) Me")])
    jpeg = insert_jpeg_segment(
        image_bytes("JPEG", (8, 8)), 0xED, b"Photoshop 3.0\x00" + photoshop_resources(data)
    )

    result = extract_metadata(io.BytesIO(jpeg))

    assert result["iptc"] == {"By-line": ["Zoë", "Max"], "CopyrightNotice": "(c) Me"}
    assert (result["creator"], result["copyright"]) == ("Zoë; Max", "(c) Me")


# --- ICC --------------------------------------------------------------------
def test_icc_v2_description():
    assert profile_description(srgb_icc()) == "sRGB built-in"


def test_icc_v4_multilocalized_description():
    text = "Display P3".encode("utf-16-be")
    mluc = b"mluc" + bytes(4) + struct.pack(">LL", 2, 12)
    mluc += struct.pack(">4sLL", b"frFR", 4, 40) + struct.pack(">4sLL", b"enUS", len(text), 44)
    mluc += b"\x00\x00\x00\x00" + text
    header = bytes(36) + b"acsp" + bytes(88)
    profile = header + struct.pack(">L4sLL", 1, b"desc", 144, len(mluc)) + mluc

    assert profile_description(profile) == "Display P3"


def test_not_an_icc_profile():
    assert profile_description(b"\x00" * 200) is None


def test_rich_jpeg_has_every_block():
    result = extract_metadata(io.BytesIO(rich_jpeg()))

    assert result["exif"] and result["xmp"] and result["iptc"]
    assert result["color_profile"] == "sRGB built-in"
    assert result["warnings"] == []
