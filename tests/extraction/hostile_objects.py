"""Hostile cases that cost objects rather than bytes, and large but valid metadata.

A byte budget does not bound what a parser builds from those bytes: 3.5 MB of
StripOffsets are 3.5 million integers (and, in Pillow, as many tile objects),
a 2 MB XMP packet of empty elements is a million tree nodes. Each format gets
its "many small objects" case. The metadata cases are valid files whose
blocks are large: the image must stay `ok` whatever happens to the block.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib

from hostile_builders import (
    box,
    full_box,
    heif,
    heif_item,
    jpeg_with_icc,
    png_chunk,
    png_with_chunks_before_idat,
    riff_webp,
    webp_chunk,
)
from images import image_bytes, mini_heif, srgb_icc, tiff_structure

XMP_ID = b"XML:com.adobe.xmp\x00"


def tiff_with_offsets(count: int, kind: int, tiles: bool = False, big: bool = False) -> bytes:
    """An 8x8 grey TIFF whose strip (or tile) offsets and byte counts hold `count` entries."""
    offsets, counts = (0x0144, 0x0145) if tiles else (0x0111, 0x0117)
    code = {1: "B", 3: "H", 4: "L", 16: "Q"}[kind]
    layout = [(0x0142, 3, 16), (0x0143, 3, 16)] if tiles else [(0x0116, 3, 1)]
    entries = [
        (0x0100, 3, 8),
        (0x0101, 3, 8),
        (0x0102, 3, 8),
        (0x0103, 3, 1),
        (0x0106, 3, 1),
        (0x0115, 3, 1),
        *layout,
        (offsets, kind, struct.pack("<" + code, 200) * count),
        (counts, kind, struct.pack("<" + code, 1) * count),
    ]
    return tiff_structure([entries], big=big)


def tiff_ifd_chain(length: int) -> bytes:
    """A valid IFD0 followed by `length` one-entry IFDs linked by next-IFD offsets."""
    first = [(0x0100, 3, 8), (0x0101, 3, 8), (0x0102, 3, 8), (0x0106, 3, 1), (0x0111, 4, 0)]
    head = tiff_structure([first])[:-4]  # IFD0 without its next-IFD offset
    start = len(head) + 4
    links = b"".join(
        struct.pack("<HHHLHxxL", 1, 0x0100, 3, 1, 1, start + 18 * (i + 1) if i < length - 1 else 0)
        for i in range(length)
    )
    return head + struct.pack("<L", start) + links


def tiff_with_sub_ifds(count: int) -> bytes:
    """A TIFF whose SubIFDs tag (330) lists `count` offsets, all of IFD0 itself (a loop)."""
    first = [(0x0100, 3, 8), (0x0101, 3, 8), (0x0102, 3, 8), (0x0106, 3, 1), (0x0111, 4, 0)]
    return tiff_structure([[*first, (0x014A, 4, struct.pack("<L", 8) * count)]])


def tiff_full_ifd() -> bytes:
    """IFD0 with 65,535 entries (the most a classic TIFF IFD holds), all real tags."""
    base = [(0x0100, 3, 8), (0x0101, 3, 8), (0x0102, 3, 8), (0x0106, 3, 1), (0x0111, 4, 0)]
    return tiff_structure([base + [(0x010E, 2, "abc")] * (65_535 - len(base))])


def png_text_chunks(total: int, size: int, compressed: bool = False) -> bytes:
    """PNG text chunks (distinct keywords) holding `total` bytes of text before IDAT."""
    text = random.Random(size).randbytes(size // 2).hex().encode()
    packed = zlib.compress(text, 1) if compressed else text
    kind, separator = (b"zTXt", b"\x00\x00") if compressed else (b"tEXt", b"\x00")
    chunks = [png_chunk(kind, b"k%d" % i + separator + packed) for i in range(total // size)]
    return png_with_chunks_before_idat(chunks)


def big_xmp(size: int) -> bytes:
    """A valid XMP packet of about `size` bytes (incompressible text) with a title."""
    filler = base64.b64encode(random.Random(size).randbytes(size * 3 // 4)).decode()
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' xmlns:ex="http://example.com/ns/" ex:filler="{filler}">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Big XMP</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def png_with_compressed_xmp(packet: bytes) -> bytes:
    payload = XMP_ID + b"\x01\x00\x00\x00" + zlib.compress(packet, 9)
    return png_with_chunks_before_idat([png_chunk(b"iTXt", payload)])


def big_icc(size: int) -> bytes:
    """The sRGB profile grown to `size` bytes by a private tag of noise (still a valid profile)."""
    profile = bytearray(srgb_icc())
    count = struct.unpack_from(">L", profile, 128)[0]
    # Room for one more tag-table entry: shift the tag data by 12 bytes.
    table_end = 132 + 12 * count
    data = bytes(profile[table_end:])
    entries = []
    for i in range(count):
        signature, offset, length = struct.unpack_from(">4sLL", profile, 132 + 12 * i)
        entries.append(struct.pack(">4sLL", signature, offset + 12, length))
    noise = random.Random(size).randbytes(max(size - len(profile) - 12, 0))
    private = struct.pack(">4sLL", b"zzzz", len(profile) + 12, len(noise))
    body = bytes(profile[:128]) + struct.pack(">L", count + 1) + b"".join(entries) + private
    grown = bytearray(body + data + noise)
    grown[0:4] = struct.pack(">L", len(grown))
    return bytes(grown)


def png_with_iccp(profile: bytes) -> bytes:
    iccp = png_chunk(b"iCCP", b"big profile\x00\x00" + zlib.compress(profile))
    png = image_bytes("PNG", (8, 8))
    at = png.index(b"IHDR") + 4 + 13 + 4  # right after IHDR, where iCCP must be
    return png[:at] + iccp + png[at:]


def gif_tiny_frames(count: int) -> bytes:
    """A GIF of `count` 1x1 frames, 12 bytes each."""
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    head = b"GIF89a" + struct.pack("<HHBBB", 8, 8, 0x80, 0, 0) + bytes(6)
    return head + frame * count + b"\x3b"


def bmp(header_size: int = 40, bits: int = 8, colors: int = 0, tail: bytes = b"") -> bytes:
    """A BITMAPINFOHEADER-style BMP (4x4) whose header size and palette size may lie."""
    info = struct.pack("<LllHHLLllLL", header_size, 4, 4, 1, bits, 0, 0, 2835, 2835, colors, 0)
    body = info + tail
    return b"BM" + struct.pack("<LHHL", 14 + len(body), 0, 0, 14 + 40) + body


def jp2_with_boxes_before_header(count: int) -> bytes:
    """A JP2 with `count` empty `free` boxes between its file-type box and its header."""
    jp2 = image_bytes("JPEG2000", (16, 16))
    at = 32  # after the signature (12) and ftyp (20) boxes
    return jp2[:at] + box(b"free", b"") * count + jp2[at:]


def heif_many_items(count: int) -> bytes:
    """A HEIF whose iinf lists `count` Exif items besides the primary image."""
    pitm, iinf, iprp = heif_item()
    entries = b"".join(
        full_box(b"infe", struct.pack(">HH", 2 + i % 60000, 0) + b"Exif\x00", version=2)
        for i in range(count)
    )
    iinf = full_box(b"iinf", struct.pack(">H", 1) + iinf[14:] + entries)
    return heif([pitm, iinf, iprp])


def heif_many_references(count: int) -> bytes:
    """A HEIF whose iref holds `count` targets in 65,535-target references."""
    refs = b""
    while count > 0:
        n = min(count, 65_535)
        refs += box(b"dimg", struct.pack(">HH", 1, n) + struct.pack(">H", 2) * n)
        count -= n
    return heif([*heif_item(), full_box(b"iref", refs)])


def heif_many_associations(items: int) -> bytes:
    """A HEIF whose ipma gives each of `items` items 255 property associations."""
    pitm, iinf, _ = heif_item()
    ipco = box(b"ipco", full_box(b"ispe", struct.pack(">LL", 64, 48)))
    entries = b"".join(struct.pack(">HB", 1 + i, 255) + b"\x81" * 255 for i in range(items))
    ipma = full_box(b"ipma", struct.pack(">L", items) + entries)
    return heif([pitm, iinf, box(b"iprp", ipco + ipma)])


def heif_moov_fan_out(tracks: int, width: int) -> bytes:
    """A sequence whose tracks nest `width` x `width` empty boxes where the walk looks."""
    stbl = box(b"stbl", box(b"free", b"") * width)
    minf = box(b"minf", stbl * width)
    trak = box(b"trak", box(b"mdia", minf))
    ftyp = box(b"ftyp", b"msf1\x00\x00\x00\x00msf1")
    return ftyp + box(b"moov", trak * tracks)


def nikon_with_sub_ifds(count: int) -> bytes:
    """A Nikon-made TIFF whose SubIFDs tag lists `count` offsets, all of IFD0 itself."""
    first = [(0x0100, 3, 8), (0x0101, 3, 8), (0x0102, 3, 8), (0x0106, 3, 32803), (0x0111, 4, 0)]
    first += [(0x010F, 2, "NIKON CORPORATION")]
    return tiff_structure([[*first, (0x014A, 4, struct.pack("<L", 8) * count)]])


def raf_lying(count: int, length: int) -> bytes:
    """A RAF header whose directory claims `count` entries of `length` bytes."""
    header = b"FUJIFILMCCD-RAW 0201FF383501".ljust(84, b"\x00")
    header += struct.pack(">LLLLLL", 0xFFFFFF00, 0xFFFF, 108, 0, 0, 0)
    entries = struct.pack(">HH", 0x100, length) * 1000
    return header + struct.pack(">L", count) + entries


def xmp_many_elements(count: int) -> bytes:
    """An XMP packet whose description has `count` empty elements (one tree node each)."""
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:e="e:">' + b"<e:a/>" * count + b"</rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )


def xmp_many_list_items(count: int) -> bytes:
    """An XMP packet with a Bag of `count` items (Photoshop's bloated DocumentAncestors)."""
    items = b"<rdf:li>x</rdf:li>" * count
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:subject><rdf:Bag>" + items + b"</rdf:Bag></dc:subject>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def webp_with_xmp(packet: bytes) -> bytes:
    vp8x = webp_chunk(b"VP8X", bytes([0x04, 0, 0, 0]) + (7).to_bytes(3, "little") * 2)
    still = image_bytes("WEBP", (8, 8), lossless=True)
    return riff_webp([vp8x, still[12:], webp_chunk(b"XMP ", packet)])


MANY_OBJECTS: list[tuple[str, bytes, str | None]] = [
    ("tiff-1.75m-byte-strips", tiff_with_offsets(1_750_000, 1), "ok"),
    ("tiff-875k-short-strips", tiff_with_offsets(875_000, 3), "ok"),
    ("tiff-437k-long-strips", tiff_with_offsets(437_500, 4), "ok"),
    ("tiff-1.75m-byte-tiles", tiff_with_offsets(1_750_000, 1, tiles=True), "ok"),
    ("bigtiff-437k-long8-strips", tiff_with_offsets(437_500, 16, big=True), "ok"),
    ("tiff-65535-entries", tiff_full_ifd(), "ok"),
    ("tiff-100k-ifd-chain", tiff_ifd_chain(100_000), "ok"),
    ("tiff-1m-sub-ifds", tiff_with_sub_ifds(1_000_000), "ok"),
    (
        "png-100k-empty-chunks",
        png_with_chunks_before_idat([png_chunk(b"teSt", b"")] * 100_000),
        "ok",
    ),
    ("png-50k-text-keywords", png_text_chunks(50_000 * 16, 16), "ok"),
    ("gif-100k-tiny-frames", gif_tiny_frames(100_000), "ok"),
    ("bmp-4g-palette", bmp(colors=0xFFFFFFFF), None),
    ("bmp-4g-header", bmp(header_size=0xFFFFFFFF), "unsupported"),
    ("jp2-100k-boxes", jp2_with_boxes_before_header(100_000), None),
    ("heif-45k-items", heif_many_items(45_000), "ok"),
    ("heif-400k-references", heif_many_references(400_000), None),
    ("heif-3000-items-255-properties", heif_many_associations(3000), None),
    ("heif-moov-8-tracks-60x60-boxes", heif_moov_fan_out(8, 60), "corrupt"),
    (
        "heif-mini-lying-sizes",
        mini_heif((300, 200), exif=b"II*\x00" + bytes(4), xmp=b"<x/>")[:-40] + b"\xff" * 3,
        None,
    ),
    ("nef-1m-sub-ifds", nikon_with_sub_ifds(1_000_000), None),
    ("raf-lying-directory-and-preview", raf_lying(255, 0xFFFF), "corrupt"),
    ("xmp-300k-elements", webp_with_xmp(xmp_many_elements(300_000)), "ok"),
    ("xmp-100k-list-items", webp_with_xmp(xmp_many_list_items(100_000)), "ok"),
    (
        "jpeg-4000-icc-chunks",
        jpeg_with_icc(b"")[:2]
        + b"".join(
            b"\xff\xe2\x00\x12ICC_PROFILE\x00" + bytes([i % 255 + 1, 255]) + b"ab"
            for i in range(4000)
        )
        + jpeg_with_icc(b"")[2:],
        "ok",
    ),
    (
        "jpeg-4000-photoshop-segments",
        image_bytes("JPEG", (8, 8))[:2]
        + b"\xff\xed\x00\x14Photoshop 3.0\x008BIM" * 4000
        + image_bytes("JPEG", (8, 8))[2:],
        "ok",
    ),
]

BIG_METADATA: list[tuple[str, bytes, str | None]] = [
    ("png-xmp-1.2mb-compressed", png_with_compressed_xmp(big_xmp(1_600_000)), "ok"),
    ("png-xmp-3mb-uncompressed-in-itxt", png_with_compressed_xmp(big_xmp(3_000_000)), "ok"),
    ("png-iccp-1.5mb", png_with_iccp(big_icc(1_500_000)), "ok"),
    ("png-iccp-bomb", png_with_iccp(bytes(64 * 1024 * 1024)), "ok"),
    ("png-text-6mb-total", png_text_chunks(6 * 1024 * 1024, 64 * 1024), "ok"),
    ("png-ztxt-6mb-total", png_text_chunks(6 * 1024 * 1024, 64 * 1024, compressed=True), "ok"),
]
