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

from chalicelib.extraction.dates import taken_at
from chalicelib.extraction.exif import parse_exif
from chalicelib.extraction.extract import extract_metadata
from chalicelib.extraction.fields import (
    bit_depth,
    camera,
    dpi,
    exposure,
    gps,
    iptc_fields,
    megapixels,
    normalized_fields,
    xmp_fields,
)
from chalicelib.extraction.icc import profile_description
from chalicelib.extraction.iptc import iptc_from_photoshop, parse_iim
from chalicelib.extraction.xmp import parse_xmp

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
    ("exif", "xmp", "iptc", "expected", "source"),
    [
        (
            {"DateTimeOriginal": "2024:05:17 10:30:15"},
            {},
            {},
            "2024-05-17T10:30:15",
            "DateTimeOriginal",
        ),
        (
            {
                "DateTimeOriginal": "2024:05:17 10:30:15",
                "SubSecTimeOriginal": "07",
                "OffsetTimeOriginal": "-03:30",
                "CreateDate": "2020:01:02 03:04:05",
            },
            {},
            {},
            "2024-05-17T10:30:15.07-03:30",
            "DateTimeOriginal",
        ),
        (
            {
                "DateTimeOriginal": "0000:00:00 00:00:00",
                "CreateDate": "2020:01:02 03:04:05",
                "SubSecTimeDigitized": "5",
                "OffsetTimeDigitized": "+02:00",
                "OffsetTimeOriginal": "+09:00",
            },
            {},
            {},
            "2020-01-02T03:04:05.5+02:00",
            "DateTimeDigitized",
        ),
        (
            {"ModifyDate": "2021:06:07 08:09:10", "OffsetTime": "+01:00"},
            {"exif:DateTimeOriginal": "2019-07-04T12:00:00+01:00"},
            {},
            "2021-06-07T08:09:10+01:00",
            "DateTime",
        ),
        ({"DateTimeOriginal": "    :  :     :  :  "}, {}, {}, None, None),
        ({"DateTimeOriginal": "2024:02:30 10:00:00"}, {}, {}, None, None),
        (
            {},
            {"exif:DateTimeOriginal": "2019-07-04T12:00:00+01:00"},
            {},
            "2019-07-04T12:00:00+01:00",
            "XMP-exif:DateTimeOriginal",
        ),
        ({}, {"photoshop:DateCreated": "2019-07"}, {}, "2019-07", "XMP-photoshop:DateCreated"),
        ({}, {"xmp:CreateDate": "yesterday"}, {}, None, None),
        (
            {},
            {},
            {"DateCreated": "20240517", "TimeCreated": "103015+0200"},
            "2024-05-17T10:30:15+02:00",
            "IPTC:DateCreated",
        ),
        ({}, {}, {"DateCreated": "20240517"}, "2024-05-17", "IPTC:DateCreated"),
        ({}, {}, {"DateCreated": "20241341"}, None, None),
    ],
)
def test_taken_at(exif, xmp, iptc, expected, source):
    assert taken_at(exif, xmp, iptc) == (expected, source)


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
        ({"GPSLatitude": [10.0, 0.0, 0.0], "GPSLongitude": [181.0]}, None),
        ({"GPSLatitude": [10.0, 0.0, 0.0]}, None),
        ({"GPSLatitude": "north", "GPSLongitude": [1.0]}, None),
    ],
)
def test_gps(tags, expected):
    assert gps(tags) == expected


def test_camera_prefers_exif_and_falls_back_to_xmp():
    exif = {"Make": "Exif make", "SerialNumber": "123"}
    xmp = {
        "tiff:Make": "xmp make",
        "tiff:Model": "xmp model",
        "aux:Lens": "xmp lens",
        "xmp:CreatorTool": "Editor",
    }

    assert camera(exif, xmp) == {
        "make": "Exif make",
        "model": "xmp model",
        "lens": "xmp lens",
        "serial": "123",
        "software": "Editor",
    }
    assert camera({}, {}) == dict.fromkeys(("make", "model", "lens", "serial", "software"))


@pytest.mark.parametrize(
    ("flash", "fired"), [(0x19, True), (0x10, False), (0, False), (None, None), ("x", None)]
)
def test_exposure(flash, fired):
    exif = {"ExposureTime": 0.5, "FNumber": 0.0, "ISO": [200, 400], "FocalLength": -1.0}
    if flash is not None:
        exif["Flash"] = flash

    assert exposure(exif) == {
        "exposure_time": 0.5,
        "f_number": None,  # zero and negative values are no measurement
        "iso": 200,
        "focal_length": None,
        "focal_length_35mm": None,
        "flash_fired": fired,
    }


@pytest.mark.parametrize(
    ("container", "exif", "expected"),
    [
        ((72.0, 72.0), {"XResolution": 300.0, "YResolution": 300.0}, [72, 72]),
        (None, {"XResolution": 300.0, "YResolution": 150.0}, [300, 150]),
        (None, {"XResolution": 100.0, "YResolution": 100.0, "ResolutionUnit": 3}, [254, 254]),
        (None, {"XResolution": 1.0, "YResolution": 1.0, "ResolutionUnit": 1}, None),
        (None, {"XResolution": 0.0, "YResolution": 72.0}, None),
        (None, {"XResolution": 72.0}, None),
        ((72.009, 0.0), {}, None),
        ((72.0089, 72.0089), {}, [72.01, 72.01]),
    ],
)
def test_dpi(container, exif, expected):
    assert dpi(container, exif) == expected


def test_megapixels_are_exact():
    assert megapixels(64, 48) == 0.003072
    assert megapixels(6000, 4000) == 24
    assert megapixels(30000, 30000) == 900


@pytest.mark.parametrize(
    ("found", "mode", "exif", "is_tiff", "expected"),
    [
        (4, "P", {}, False, 4),
        (None, "RGB", {"BitsPerSample": [16, 16, 16]}, True, 16),
        (None, "RGB", {"BitsPerSample": [16, 16, 16]}, False, 8),  # a JPEG's EXIF says nothing
        (None, "1", {}, False, 1),
        (None, "I;16B", {}, False, 16),
        (None, "F", {}, False, 32),
    ],
)
def test_bit_depth(found, mode, exif, is_tiff, expected):
    assert bit_depth(found, mode, exif, is_tiff) == expected


def test_xmp_and_iptc_fields_keep_only_the_contract():
    xmp = {
        "dc:title": "T",
        "dc:subject": "single",
        "dc:creator": ["a", "b", "a"],
        "photoshop:City": "Paris",
    }
    iptc = {"Caption-Abstract": "c", "By-line": ["x"], "City": "Paris"}

    assert xmp_fields(xmp) == {"title": "T", "keywords": ["single"], "creator": ["a", "b"]}
    assert iptc_fields(iptc) == {"caption": "c", "byline": ["x"]}
    assert xmp_fields({"photoshop:City": "Paris"}) is None
    assert iptc_fields({}) is None


def test_keyword_lists_are_bounded():
    words = [f"keyword-{i:04d}-" + "x" * 150 for i in range(100)]

    kept = xmp_fields({"dc:subject": words})["keywords"]

    assert kept == words[: len(kept)] and 0 < len(kept) < 100
    assert sum(len(w) + 1 for w in kept) <= 8 * 1024


@pytest.mark.parametrize(
    ("orientation", "display"),
    [(None, (10, 20)), (1, (10, 20)), (4, (10, 20)), (5, (20, 10)), (8, (20, 10))],
)
def test_display_size_follows_orientation(orientation, display):
    fields = normalized_fields(10, 20, orientation, {}, {}, {})

    assert (fields["display_width"], fields["display_height"]) == display


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), ("2.5", 2.5), ("-1", -1), ("9", None), ("x", None), ("nan", None)],
)
def test_xmp_rating(value, expected):
    assert (xmp_fields({"xmp:Rating": value}) or {}).get("rating") == expected


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

    assert result["iptc"] == {"byline": ["Zoë", "Max"]}


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
    assert result["icc_profile"] == "sRGB built-in"
    assert result["warnings"] == []


def test_rich_jpeg_record_matches_the_documented_contract():
    """The README's example record, field for field (the exif map aside)."""
    result = extract_metadata(io.BytesIO(rich_jpeg()))
    result.pop("exif")

    assert result == {
        "status": "ok",
        "format": "JPEG",
        "mime_type": "image/jpeg",
        "width": 64,
        "height": 48,
        "mode": "RGB",
        "orientation": 1,
        "display_width": 64,
        "display_height": 48,
        "megapixels": 0.003072,
        "has_alpha": False,
        "animated": False,
        "frames": 1,
        "dpi": [300, 300],
        "bit_depth": 8,
        "icc_profile": "sRGB built-in",
        "camera": {
            "make": "Acme",
            "model": "Acme X100",
            "lens": "Acme 24-70mm f/2.8",
            "serial": "SN-0042",
            "software": "TestSuite 1.0",
        },
        "exposure": {
            "exposure_time": 0.004,
            "f_number": 2.8,
            "iso": 400,
            "focal_length": 35.0,
            "focal_length_35mm": 52,
            "flash_fired": True,
        },
        "taken_at": "2024-05-17T10:30:15.250+02:00",
        "taken_at_source": "DateTimeOriginal",
        "gps": {"latitude": -48.8584, "longitude": 2.2945, "altitude": -35.25},
        "xmp": {
            "title": "Tour Eiffel at dawn",
            "description": "Café au lait ☕ on the Champ-de-Mars",
            "keywords": ["paris", "tower", "morning"],
            "rating": 4,
            "creator": ["Ada Lovelace", "Grace Hopper"],
        },
        "iptc": {
            "keywords": ["paris", "travel"],
            "caption": "IPTC caption, UTF-8: Zürich",
            "byline": ["Ada Lovelace"],
        },
        "warnings": [],
    }


def _palette_png(bits: int) -> bytes:
    image = Image.new("P", (8, 8))
    image.putpalette(list(range(3 * 2**bits)))
    image.putdata([i % 2**bits for i in range(64)])
    out = io.BytesIO()
    image.save(out, "PNG", bits=bits, transparency=0)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: image_bytes("PNG", mode="RGBA"), (True, 8)),
        (lambda: _palette_png(bits=4), (True, 4)),
        (lambda: _palette_png(bits=2), (True, 2)),
        (lambda: image_bytes("PNG", mode="I;16"), (False, 16)),
        (lambda: image_bytes("PNG", mode="1"), (False, 1)),
        (lambda: image_bytes("JPEG", mode="L"), (False, 8)),
        (lambda: image_bytes("WEBP", mode="RGBA"), (True, 8)),
        (lambda: image_bytes("TIFF", mode="I;16"), (False, 16)),
    ],
)
def test_alpha_and_bit_depth_from_the_header(make, expected):
    result = extract_metadata(io.BytesIO(make()))

    assert (result["has_alpha"], result["bit_depth"]) == expected


@pytest.mark.parametrize(
    ("save", "expected"),
    [({"dpi": (72, 72)}, [72, 72]), ({"dpi": (300, 150)}, [300, 150]), ({}, None)],
)
def test_jfif_and_png_densities(save, expected):
    for fmt in ("JPEG", "PNG"):
        result = extract_metadata(io.BytesIO(image_bytes(fmt, **save)))
        got = result["dpi"] and [round(v) for v in result["dpi"]]  # pHYs counts per metre
        assert got == expected, fmt
