"""The hostile corpus: hand-made attacks on every parser, shared by the tests and bench/.

Loops, lying sizes, bombs, absurd numbers, broken text and "many small
objects" (millions of strips, chunks, boxes, elements) for every format,
plus large but valid metadata blocks. Each case names the status extraction
must give it (None: whatever, as long as the record contract holds);
test_hostile.py checks the records, test_hostile_resources.py the memory and
CPU each case costs (in a child process), bench/bench_hostile.py prints them.
"""

from __future__ import annotations

import struct
import zlib

from hostile_builders import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    FTYP,
    VP8X_ALL_FLAGS,
    box,
    every_tag_with_long_text,
    full_box,
    grey_tiff,
    heif,
    heif_item,
    jpeg_with_exif_blob,
    jpeg_with_icc,
    jpeg_with_iim,
    jpeg_with_xmp,
    le32,
    many_keywords_xmp,
    many_properties_xmp,
    offset_of_data,
    png_chunk,
    png_with_chunks_before_idat,
    riff_webp,
    tiff_blob,
    tiff_with_big_tag,
    webp_chunk,
)
from hostile_objects import BIG_METADATA, MANY_OBJECTS
from images import iim, image_bytes, insert_jpeg_segment

# (id, bytes, expected status or None for "whatever, but within the contract")
ATTACKS: list[tuple[str, bytes, str | None]] = [
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
    # Only the start of each text tag is read (values are kept truncated anyway).
    ("tiff-5mb-of-text-tags", every_tag_with_long_text(50_000), "ok"),
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
    ("tiff-tag-claims-most-of-the-file", tiff_with_big_tag(12 * 1024 * 1024), "ok"),
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
        "corrupt",  # a sequence brand, but no image track
    ),
]

HOSTILE = ATTACKS + MANY_OBJECTS + BIG_METADATA
