"""Builders of raw structures for the hostile corpus (TIFF, PNG, BMFF, RIFF, XMP)."""

from __future__ import annotations

import struct
import zlib

from images import image_bytes, insert_jpeg_segment, photoshop_resources

from chalicelib.extraction.exif_tags import MAIN_TAGS


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
