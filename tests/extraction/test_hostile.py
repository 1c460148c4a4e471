"""Hostile and malformed files: extraction never raises, stays bounded, records stay storable.

A hand-made corpus of attacks on every parser (loops, lying sizes, bombs,
absurd numbers, broken text) plus Hypothesis fuzzing of valid files. Every
result must satisfy the record contract: the documented keys, plain values
DynamoDB accepts (numbers inside its range), an item far below 400 KB, and
bounded time, bytes read and memory.
"""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
import zlib
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from images import (
    iim,
    image_bytes,
    insert_jpeg_segment,
    multi_frame,
    photoshop_resources,
    rich_avif,
    rich_heif,
    rich_jpeg,
    rich_png,
    rich_tiff,
    rich_webp,
    xmp_packet,
)
from test_extract import OK_KEYS

from chalicelib.catalog.records import to_dynamo
from chalicelib.extraction.budget import MAX_HEADER_BYTES
from chalicelib.extraction.exif_tags import MAIN_TAGS
from chalicelib.extraction.extract import extract_metadata

MAX_ITEM_BYTES = 128 * 1024  # what a record may cost at most (DynamoDB allows 400 KB)
MAX_SECONDS = 3.0
_serializer = TypeSerializer()


class CountingFile(io.BytesIO):
    """BytesIO that counts the bytes handed out, to bound what a parser reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def dynamo_size(value) -> int:
    """DynamoDB's item-size rules: UTF-8 strings, numbers ~ digits/2, 3 + 1/element containers."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, Decimal)):
        return min(21, (len(Decimal(value).as_tuple().digits) + 1) // 2 + 1)
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + 1 + dynamo_size(v) for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + dynamo_size(v) for v in value)
    raise AssertionError(f"unexpected {type(value).__name__} in a stored record")


def check_contract(result: dict) -> None:
    """Everything the ingest path and DynamoDB rely on."""
    assert isinstance(result, dict)
    assert result["status"] in ("ok", "unsupported", "corrupt")
    assert result["mime_type"] is None or isinstance(result["mime_type"], str)
    if result["status"] == "ok":
        assert set(result) == OK_KEYS
        assert result["format"].isalnum() and result["format"].isupper()
        for side in ("width", "height", "display_width", "display_height"):
            assert isinstance(result[side], int) and result[side] > 0
        assert isinstance(result["mode"], str)
        assert result["orientation"] in (None, 1, 2, 3, 4, 5, 6, 7, 8)
        assert isinstance(result["warnings"], list)
        assert isinstance(result["has_alpha"], bool) and isinstance(result["animated"], bool)
        assert result["frames"] is None or (
            isinstance(result["frames"], int) and result["frames"] > 0
        )
        assert result["dpi"] is None or (len(result["dpi"]) == 2 and min(result["dpi"]) > 0)
        assert isinstance(result["bit_depth"], int) and 0 < result["bit_depth"] <= 64
        assert result["icc_profile"] is None or isinstance(result["icc_profile"], str)
        assert set(result["camera"]) == {"make", "model", "lens", "serial", "software"}
        assert all(v is None or isinstance(v, str) for v in result["camera"].values())
        assert set(result["exposure"]) == {
            "exposure_time",
            "f_number",
            "iso",
            "focal_length",
            "focal_length_35mm",
            "flash_fired",
        }
        assert (result["taken_at"] is None) == (result["taken_at_source"] is None)
        gps = result["gps"]
        assert gps is None or (-90 <= gps["latitude"] <= 90 and -180 <= gps["longitude"] <= 180)
        assert set(result["xmp"] or {}) <= {"title", "description", "keywords", "rating", "creator"}
        assert set(result["iptc"] or {}) <= {"keywords", "caption", "byline"}
        for block in ("exif", "xmp", "iptc", "camera", "exposure", "gps"):
            assert result[block] is None or isinstance(result[block], dict)
            assert all(key for key in result[block] or {})  # DynamoDB map keys are non-empty
    else:
        assert set(result) == {"status", "error", "format", "mime_type"}
        assert result["format"] is None
        assert isinstance(result["error"], str) and 0 < len(result["error"]) <= 300
    stored = to_dynamo(result)  # raises TypeError for bytes and other non-plain values
    _serializer.serialize(stored)  # raises for numbers outside DynamoDB's range
    assert dynamo_size(stored) <= MAX_ITEM_BYTES
    json.dumps(result, allow_nan=False)


def extract_checked(data: bytes) -> dict:
    fp = CountingFile(data)
    started = time.perf_counter()
    result = extract_metadata(fp)
    elapsed = time.perf_counter() - started
    check_contract(result)
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f}s"
    assert fp.bytes_read <= MAX_HEADER_BYTES + 64 * 1024
    return result


# --- builders for raw structures ------------------------------------------------
def tiff_blob(
    entries: list[tuple[int, int, int, bytes]], data: bytes = b"", first: int = 8, next_ifd: int = 0
) -> bytes:
    """A little-endian TIFF structure: header, one IFD at `first`, then `data`.

    Entries are (tag, type, count, 4-byte value or offset).
    """
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHL", tag, kind, count) + value.ljust(4, b"\x00")
        for tag, kind, count, value in entries
    )
    return b"II*\x00" + struct.pack("<L", first) + ifd + le32(next_ifd) + data


def offset_of_data(entries: int) -> int:
    """Where `data` starts in tiff_blob (header 8 + count 2 + entries + next 4)."""
    return 8 + 2 + 12 * entries + 4


def le32(value: int) -> bytes:
    return struct.pack("<L", value)


def grey_tiff(
    extra: list[tuple[int, int, int, bytes]] = (), data: bytes = b"", next_ifd: int = 0
) -> bytes:
    """An 8x8 grey TIFF (pixels right after the IFD), with extra IFD0 entries and their data."""
    entries = 9 + len(extra)
    pixels_at = offset_of_data(entries)
    base = [
        (0x0100, 3, 1, struct.pack("<H", 8)),
        (0x0101, 3, 1, struct.pack("<H", 8)),
        (0x0102, 3, 1, struct.pack("<H", 8)),
        (0x0103, 3, 1, struct.pack("<H", 1)),
        (0x0106, 3, 1, struct.pack("<H", 1)),
        (0x0111, 4, 1, le32(pixels_at)),
        (0x0115, 3, 1, struct.pack("<H", 1)),
        (0x0116, 3, 1, struct.pack("<H", 8)),
        (0x0117, 4, 1, le32(64)),
    ]
    return tiff_blob(sorted(base + list(extra)), bytes(64) + data, next_ifd=next_ifd)


def tiff_with_big_tag(size: int) -> bytes:
    """A valid TIFF whose XMP tag (700) holds `size` bytes: Pillow reads it all on open."""
    at = offset_of_data(10) + 64
    return grey_tiff([(0x02BC, 1, size, le32(at))], bytes(size))


def jpeg_with_exif_blob(blob: bytes) -> bytes:
    return insert_jpeg_segment(image_bytes("JPEG", (16, 16)), 0xE1, b"Exif\x00\x00" + blob)


def jpeg_with_xmp(packet: bytes) -> bytes:
    return insert_jpeg_segment(
        image_bytes("JPEG", (16, 16)), 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet
    )


def jpeg_with_iim(data: bytes) -> bytes:
    payload = b"Photoshop 3.0\x00" + photoshop_resources(data)
    return insert_jpeg_segment(image_bytes("JPEG", (16, 16)), 0xED, payload)


def jpeg_with_icc(profile: bytes) -> bytes:
    return insert_jpeg_segment(
        image_bytes("JPEG", (16, 16)), 0xE2, b"ICC_PROFILE\x00\x01\x01" + profile
    )


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">L", len(payload)) + kind + payload + struct.pack(">L", crc)


def png_with_chunks_before_idat(chunks: list[bytes]) -> bytes:
    png = image_bytes("PNG", (8, 8))
    at = png.index(b"IDAT") - 4
    return png[:at] + b"".join(chunks) + png[at:]


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">L", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


FTYP = box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")


def heif(meta_children: list[bytes], tail: bytes = b"") -> bytes:
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"pict" + b"\x00" * 13)
    return FTYP + full_box(b"meta", hdlr + b"".join(meta_children)) + tail


def heif_item(item_type: bytes = b"hvc1", ispe: tuple[int, int] = (64, 48)) -> list[bytes]:
    """pitm, iinf, iprp for one image item (id 1) with the given size."""
    infe = full_box(b"infe", struct.pack(">HH", 1, 0) + item_type + b"\x00", version=2)
    ipco = box(b"ipco", full_box(b"ispe", struct.pack(">LL", *ispe)))
    ipma = full_box(b"ipma", struct.pack(">LHB", 1, 1, 1) + b"\x81")
    return [
        full_box(b"pitm", struct.pack(">H", 1)),
        full_box(b"iinf", struct.pack(">H", 1) + infe),
        box(b"iprp", ipco + ipma),
    ]


def riff_webp(chunks: list[bytes], riff_size: int | None = None) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + le32(riff_size if riff_size is not None else len(body)) + body


def webp_chunk(name: bytes, payload: bytes, size: int | None = None) -> bytes:
    pad = b"\x00" if len(payload) & 1 else b""
    return name + le32(len(payload) if size is None else size) + payload + pad


VP8X_ALL_FLAGS = webp_chunk(b"VP8X", bytes([0x3E, 0, 0, 0]) + (63).to_bytes(3, "little") * 2)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>'
)


def many_keywords_xmp(count: int, length: int = 30) -> bytes:
    words = "".join(f"<rdf:li>{'k' * length}{i}</rdf:li>" for i in range(count))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:subject><rdf:Bag>{words}</rdf:Bag></dc:subject>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def many_properties_xmp(count: int, length: int) -> bytes:
    attributes = " ".join(f'ns:p{i}="{"v" * length}"' for i in range(count))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:ns="http://example.com/ns/" {attributes}/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def every_tag_with_long_text(length: int) -> bytes:
    """A TIFF whose IFD0 has every descriptive tag as a long ASCII string."""
    tags = [t for t in MAIN_TAGS if t >= 0x8000 or t in (0x010D, 0x010E, 0x010F, 0x0110, 0x0131)]
    text = b"X" * length + b"\x00"
    start = offset_of_data(9 + len(tags)) + 64
    entries = [(tag, 2, len(text), le32(start + i * len(text))) for i, tag in enumerate(tags)]
    return grey_tiff(entries, text * len(tags))


# (id, bytes, expected status or None for "whatever, but within the contract")
HOSTILE: list[tuple[str, bytes, str | None]] = [
    # --- EXIF -------------------------------------------------------------
    ("exif-ifd-loop", jpeg_with_exif_blob(tiff_blob([(0x8769, 4, 1, le32(8))])), "ok"),
    (
        "exif-gps-points-at-ifd0",
        jpeg_with_exif_blob(tiff_blob([(0x8825, 4, 1, le32(8)), (0x8769, 4, 1, le32(8))])),
        "ok",
    ),
    ("exif-65535-entries", jpeg_with_exif_blob(b"II*\x00\x08\x00\x00\x00\xff\xff"), "ok"),
    ("exif-ifd-past-end", jpeg_with_exif_blob(b"II*\x00" + le32(0x7FFFFFFF)), "ok"),
    ("exif-bad-byte-order", jpeg_with_exif_blob(b"XX*\x00" + le32(8) + bytes(20)), "ok"),
    (
        "exif-values-past-end",
        jpeg_with_exif_blob(tiff_blob([(0x010F, 2, 5000, le32(0xFFFFFF00))])),
        "ok",
    ),
    (
        "exif-zero-denominators",
        jpeg_with_exif_blob(
            tiff_blob(
                [
                    (0x829A, 5, 1, le32(offset_of_data(2))),
                    (0x829D, 5, 1, le32(offset_of_data(2) + 8)),
                ],
                le32(1) + le32(0) + le32(0) + le32(0),
            )
        ),
        "ok",
    ),
    (
        "exif-absurd-doubles",
        jpeg_with_exif_blob(
            tiff_blob(
                [(0x920A, 12, 4, le32(offset_of_data(1)))],
                struct.pack("<4d", float("inf"), float("nan"), 1e300, 5e-324),
            )
        ),
        "ok",
    ),
    (
        "exif-tiny-doubles",
        jpeg_with_exif_blob(
            tiff_blob([(0x9204, 12, 1, le32(offset_of_data(1)))], struct.pack("<d", 5e-324))
        ),
        "ok",
    ),
    (
        "exif-60k-make",
        jpeg_with_exif_blob(
            tiff_blob([(0x010F, 2, 60_000, le32(offset_of_data(1)))], b"A" * 60_000)
        ),
        "ok",
    ),
    (
        "exif-broken-text",
        jpeg_with_exif_blob(
            tiff_blob(
                [
                    (0x9286, 7, 11, le32(offset_of_data(3))),  # UNICODE, odd length
                    (0x9C9B, 1, 4, b"\x00\xd8\x00\xdc"),  # XPTitle, surrogates
                    (0x0110, 2, 4, b"\x01\x7f\x00\x00"),  # Model: control characters
                ],
                b"UNICODE\x00\x00\xd8\x41",
            )
        ),
        "ok",
    ),
    (
        "exif-nonsense-values",
        jpeg_with_exif_blob(
            tiff_blob(
                [
                    (0x0112, 3, 1, struct.pack("<H", 65535)),  # Orientation
                    (0x8827, 3, 1, struct.pack("<H", 0)),  # ISO 0
                    (0x9003, 2, 20, le32(offset_of_data(4))),  # DateTimeOriginal
                    (0x8825, 4, 1, le32(offset_of_data(4) + 20)),  # GPS
                ],
                b"0000:00:00 00:00:00\x00"
                + struct.pack("<H", 2)
                + struct.pack("<HHL", 2, 5, 1)  # GPSLatitude: a single 200/1
                + le32(offset_of_data(4) + 20 + 2 + 24 + 4)
                + struct.pack("<HHL", 4, 2, 4)  # GPSLongitude as ASCII
                + b"abc\x00"
                + le32(0)
                + le32(200)
                + le32(1),
            )
        ),
        "ok",
    ),
    ("tiff-every-tag-long-text", every_tag_with_long_text(30_000), "ok"),
    # Pillow reads tag data twice on open: 5 MB of tags exceed the 8 MiB budget.
    ("tiff-5mb-of-text-tags", every_tag_with_long_text(50_000), "corrupt"),
    ("tiff-every-tag-short-text", every_tag_with_long_text(900), "ok"),
    # --- XMP --------------------------------------------------------------
    ("xmp-billion-laughs", jpeg_with_xmp(BILLION_LAUGHS), "ok"),
    ("xmp-external-entity", jpeg_with_xmp(EXTERNAL_ENTITY), "ok"),
    # An attack hidden from a byte scan for "<!": another encoding declared, or UTF-16.
    (
        "xmp-ebcdic-entities",
        jpeg_with_xmp(
            b'<?xml version="1.0" encoding="cp037"?>' + BILLION_LAUGHS[21:].decode().encode("cp037")
        ),
        "ok",
    ),
    ("xmp-utf16-entities", jpeg_with_xmp(BILLION_LAUGHS.decode().encode("utf-16")), "ok"),
    ("xmp-not-xml", jpeg_with_xmp(b"<x:xmpmeta><unclosed>" * 100), "ok"),
    ("xmp-no-xml-at-all", jpeg_with_xmp(b"\x00\x01\x02 binary"), "ok"),
    ("xmp-deep-nesting", jpeg_with_xmp(b"<a>" * 9_000 + b"</a>" * 9_000), "ok"),
    (
        "xmp-huge-png-itxt",
        png_with_chunks_before_idat(
            [
                png_chunk(
                    b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + many_keywords_xmp(40_000)
                )
            ]
        ),
        "ok",
    ),
    (
        "xmp-many-big-properties",
        png_with_chunks_before_idat(
            [
                png_chunk(
                    b"iTXt",
                    b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + many_properties_xmp(500, 2000),
                )
            ]
        ),
        "ok",
    ),
    # --- IPTC -------------------------------------------------------------
    ("iptc-5000-keywords", jpeg_with_iim(iim([(2, 25, b"kw%d" % i) for i in range(5000)])), "ok"),
    (
        "iptc-extended-length",
        jpeg_with_iim(b"\x1c\x02\x78\x80\x04\xff\xff\xff\xff" + b"x" * 100),
        "ok",
    ),
    ("iptc-truncated", jpeg_with_iim(b"\x1c\x02\x19\x10\x00abc"), "ok"),
    (
        "photoshop-lying-sizes",
        insert_jpeg_segment(
            image_bytes("JPEG", (16, 16)),
            0xED,
            b"Photoshop 3.0\x008BIM\x04\x04\xff" + b"\xff" * 300,
        ),
        "ok",
    ),
    # --- ICC --------------------------------------------------------------
    (
        "icc-absurd-tag-count",
        jpeg_with_icc(bytes(36) + b"acsp" + bytes(88) + b"\xff\xff\xff\xff" + b"desc" + bytes(8)),
        "ok",
    ),
    (
        "icc-mluc-lies",
        jpeg_with_icc(
            bytes(36)
            + b"acsp"
            + bytes(88)
            + struct.pack(">L4sLL", 1, b"desc", 144, 1000)
            + b"mluc"
            + bytes(4)
            + struct.pack(">LL", 0xFFFFFFFF, 0)
        ),
        "ok",
    ),
    # --- PNG --------------------------------------------------------------
    (
        "png-ztxt-bomb",
        png_with_chunks_before_idat(
            [png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(200 * 1024 * 1024), 9))]
        ),
        None,
    ),
    (
        "png-20000-text-chunks",
        png_with_chunks_before_idat([png_chunk(b"tEXt", b"k\x00" + b"v" * 300)] * 20_000),
        None,
    ),
    (
        "png-garbage-exif",
        png_with_chunks_before_idat([png_chunk(b"eXIf", b"MM\x00*garbage")]),
        "ok",
    ),
    # --- JPEG -------------------------------------------------------------
    (
        "jpeg-million-markers",
        image_bytes("JPEG", (8, 8))[:2]
        + b"\xff\xfe\x00\x02" * 500_000
        + image_bytes("JPEG", (8, 8))[2:],
        None,
    ),
    (
        "jpeg-empty-exif",
        insert_jpeg_segment(image_bytes("JPEG", (8, 8)), 0xE1, b"Exif\x00\x00"),
        "ok",
    ),
    # --- TIFF -------------------------------------------------------------
    ("tiff-ifd-past-end", b"II*\x00" + le32(0xFFFFFF00) + bytes(100), "corrupt"),
    ("tiff-grey-control", grey_tiff(), "ok"),
    ("tiff-tag-claims-most-of-the-file", tiff_with_big_tag(12 * 1024 * 1024), "corrupt"),
    (
        "tiff-tag-claims-more-than-the-file",
        grey_tiff([(0x02BC, 1, 0x7FFFFFFF, le32(offset_of_data(10) + 64))]),
        "ok",
    ),
    ("tiff-next-ifd-loop", grey_tiff(next_ifd=8), "ok"),
    ("bigtiff-absurd-offset", b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 2**63 + 5), "corrupt"),
    # --- WebP -------------------------------------------------------------
    (
        "webp-lying-riff-and-chunks",
        riff_webp(
            [VP8X_ALL_FLAGS, webp_chunk(b"EXIF", b"", size=0xFFFFFFF0)], riff_size=0xFFFFFFFF
        ),
        "ok",
    ),
    (
        "webp-100k-tiny-chunks",
        riff_webp([VP8X_ALL_FLAGS] + [webp_chunk(b"JUNK", b"")] * 100_000),
        "ok",
    ),
    (
        "webp-garbage-metadata",
        riff_webp([VP8X_ALL_FLAGS, webp_chunk(b"EXIF", b"\xff" * 99), webp_chunk(b"XMP ", b"<")]),
        "ok",
    ),
    # --- GIF --------------------------------------------------------------
    (
        "gif-endless-extensions",
        image_bytes("GIF", (8, 8))[: 13 + 768] + b"\x21\xfe\x00" * 200_000 + b"\x3b",
        None,
    ),
    # --- HEIF -------------------------------------------------------------
    ("heif-no-meta", FTYP + box(b"mdat", bytes(100)), "corrupt"),
    ("heif-box-smaller-than-header", FTYP + struct.pack(">L4s", 4, b"meta") + bytes(50), "corrupt"),
    ("heif-meta-largesize", FTYP + struct.pack(">L4sQ", 1, b"meta", 2**62) + bytes(50), "corrupt"),
    ("heif-no-primary", heif(heif_item()[1:]), "corrupt"),
    ("heif-zero-size", heif(heif_item(ispe=(0, 0))), "corrupt"),
    ("heif-huge-size", heif(heif_item(ispe=(0xFFFFFFFF, 0xFFFFFFFF))), "ok"),
    ("heif-100k-boxes", heif([*heif_item(), box(b"free", b"") * 100_000]), None),
    (
        "heif-iloc-past-end",
        heif(
            [
                *heif_item(),
                full_box(
                    b"iinf",
                    struct.pack(">H", 1)
                    + full_box(b"infe", struct.pack(">HH", 2, 0) + b"Exif\x00", version=2),
                ),
                full_box(
                    b"iloc", bytes([0x44, 0x00]) + struct.pack(">HHHHLL", 1, 2, 0, 1, 2**31, 2**20)
                ),
            ]
        ),
        "ok",
    ),
    (
        "heif-iloc-truncated",
        heif([*heif_item(), full_box(b"iloc", bytes([0x44, 0x00]) + b"\xff\xff")]),
        "corrupt",
    ),
    (
        "heif-ipma-bad-indexes",
        heif(
            [
                *heif_item()[:2],
                box(
                    b"iprp",
                    box(b"ipco", b"")
                    + full_box(b"ipma", struct.pack(">LHB", 1, 1, 2) + b"\x00\x7f"),
                ),
            ]
        ),
        "corrupt",
    ),
    (
        "heif-sequence-only",
        box(b"ftyp", b"msf1\x00\x00\x00\x00msf1") + box(b"moov", bytes(40)),
        "unsupported",
    ),
]


@pytest.mark.parametrize(("data", "status"), [pytest.param(c[1], c[2], id=c[0]) for c in HOSTILE])
def test_hostile_file(data, status):
    result = extract_checked(data)
    if status is not None:
        assert result["status"] == status, result


def test_loops_and_lies_leave_the_sane_parts():
    result = extract_checked(
        jpeg_with_exif_blob(tiff_blob([(0x8769, 4, 1, le32(8)), (0x010F, 2, 4, b"Abc\x00")]))
    )
    assert result["exif"] == {"Make": "Abc"}
    assert result["camera"]["make"] == "Abc"
    assert any("offset" in w for w in result["warnings"])


def test_absurd_numbers_are_dropped_not_stored():
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-absurd-doubles"])
    assert "FocalLength" not in result["exif"]  # inf and NaN have no honest value
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-tiny-doubles"])
    assert result["exif"]["ExposureCompensation"] == 0.0
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-zero-denominators"])
    assert "ExposureTime" not in result["exif"] and "FNumber" not in result["exif"]


def test_nonsense_values_do_not_become_fields():
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-nonsense-values"])
    assert result["orientation"] is None
    assert result["exposure"]["iso"] is None
    assert result["taken_at"] is None and result["taken_at_source"] is None
    assert result["gps"] is None
    assert result["exif"]["Orientation"] == 65535  # the raw map still says what the file says


def test_text_is_printable_and_capped():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    result = extract_checked(by_id["exif-60k-make"])
    assert result["camera"]["make"] == "A" * 1000
    result = extract_checked(by_id["exif-broken-text"])
    for value in result["exif"].values():
        assert isinstance(value, str) and value.isprintable()


def test_entity_attacks_are_refused():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    cases = (
        "xmp-billion-laughs",
        "xmp-external-entity",
        "xmp-ebcdic-entities",
        "xmp-utf16-entities",
    )
    for case in cases:
        result = extract_checked(by_id[case])
        assert result["xmp"] is None
        assert any("XMP ignored" in w for w in result["warnings"]), result["warnings"]
        assert "root:" not in json.dumps(result)


def test_big_metadata_is_capped_with_a_warning():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    result = extract_checked(by_id["xmp-huge-png-itxt"])
    assert len(result["xmp"]["keywords"]) == 100
    result = extract_checked(by_id["xmp-many-big-properties"])
    assert any("dropped" in w for w in result["warnings"])
    result = extract_checked(by_id["iptc-5000-keywords"])
    assert len(result["iptc"]["keywords"]) == 100
    result = extract_checked(by_id["tiff-every-tag-short-text"])
    assert any("EXIF tags dropped" in w for w in result["warnings"])


def test_budget_stops_a_tag_that_claims_the_whole_file():
    """Pillow would read a 12 MB tag of a 12 MB TIFF; the budget stops at 8 MiB."""
    fp = CountingFile(tiff_with_big_tag(12 * 1024 * 1024))

    result = extract_metadata(fp)

    check_contract(result)
    assert result["status"] == "corrupt"
    assert "header" in result["error"]
    assert fp.bytes_read <= MAX_HEADER_BYTES + 64 * 1024


def test_bombs_stay_within_memory():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    for case in ("png-ztxt-bomb", "png-20000-text-chunks", "xmp-huge-png-itxt"):
        tracemalloc.start()
        try:
            extract_checked(by_id[case])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 64 * 1024 * 1024, f"{case}: {peak} bytes"


# --- fuzzing ------------------------------------------------------------------
def _seeds() -> dict[str, bytes]:
    return {
        "jpeg": rich_jpeg((16, 16)),
        "png": rich_png((16, 16)),
        "webp": rich_webp((16, 16)),
        "webp-animated": multi_frame("WEBP", (8, 8), 2),
        "tiff": rich_tiff((16, 16)),
        "heic": rich_heif((16, 16)),
        "avif": rich_avif((16, 16)),
        "gif": multi_frame("GIF", (8, 8), 2, loop=0),
        "bmp": image_bytes("BMP", (8, 8)),
        "ico": image_bytes("ICO", (16, 16), sizes=[(16, 16)]),
        "jp2": image_bytes("JPEG2000", (16, 16)),
        "xmp": xmp_packet(),
    }


SEEDS = _seeds()
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A seed with a few random edits: overwrites, truncation, insertions, duplicated ranges."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "duplicate", "int"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "duplicate":
            length = draw(st.integers(1, 256))
            data[at:at] = data[at : at + length]
        elif op == "int":  # sizes and offsets are where parsers get hurt
            value = draw(
                st.sampled_from([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
            )
            data[at : at + 4] = struct.pack(draw(st.sampled_from([">L", "<L"])), value)
    return bytes(data)


@pytest.mark.parametrize("name", sorted(set(SEEDS) - {"xmp"}))
def test_fuzzed_files_keep_the_contract(name):
    @FUZZ
    @given(mutated(SEEDS[name]))
    def run(data):
        extract_checked(data)

    run()


@FUZZ
@given(mutated(SEEDS["xmp"]))
def test_fuzzed_xmp_packets_never_break_a_jpeg(packet):
    result = extract_checked(jpeg_with_xmp(packet))
    assert result["status"] == "ok"


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([b"II*\x00", b"MM\x00*", b"Exif\x00\x00II*\x00"]))
def test_random_exif_blobs_never_break_a_jpeg(body, prefix):
    result = extract_checked(
        insert_jpeg_segment(image_bytes("JPEG", (8, 8)), 0xE1, b"Exif\x00\x00" + prefix + body)
    )
    assert result["status"] == "ok"


@FUZZ
@given(st.binary(max_size=512), st.sampled_from(sorted({s[:16] for s in SEEDS.values()})))
def test_random_bytes_behind_real_signatures(body, signature):
    extract_checked(signature + body)


def test_xmp_fast_and_hardened_parsers_agree():
    """Packets with "<!" (comments too) go through defusedxml; the result is the same."""
    from chalicelib.extraction.xmp import parse_xmp

    packet = xmp_packet()
    commented = packet.replace(b"<rdf:RDF", b"<!-- a comment --><rdf:RDF", 1)

    assert parse_xmp(commented).properties == parse_xmp(packet).properties
    assert len(parse_xmp(packet).properties) == 8


@pytest.mark.parametrize(
    ("packet", "hardened"),
    [
        (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', False),
        (b'<?xml version="1.0" encoding="UTF-8"?><x/>', False),
        (b"<!DOCTYPE x><x/>", True),
        (b"<x><!-- c --></x>", True),
        ("<x/>".encode("utf-16"), True),
        (b'<?xml version="1.0" encoding="latin-1"?><x/>', True),
    ],
)
def test_packets_that_could_hold_a_dtd_take_the_hardened_parser(monkeypatch, packet, hardened):
    from chalicelib.extraction import xmp

    calls = []
    monkeypatch.setattr(xmp, "defused_fromstring", lambda data, **kw: calls.append(kw) or "tree")

    xmp._parse(packet)

    assert bool(calls) == hardened
    assert all(kw == {"forbid_dtd": True} for kw in calls)
