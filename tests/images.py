"""Test images generated on the fly: no binary fixtures in the repository."""

from __future__ import annotations

import io
import itertools
import random
import struct
import zlib

from PIL import Image, ImageDraw


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    """A small image of `size` in Pillow format `fmt`, with some texture."""
    rng = random.Random(f"{fmt}{size}{mode}")
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def shapes(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Discs on a flat ground: structure at every scale (a pHash of a smooth gradient is
    noise), so copies, resized copies and other pictures hash as photos do."""
    rnd = random.Random(seed)
    image = Image.new("RGB", (640, 480), (rnd.randrange(256),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rnd.randrange(600), rnd.randrange(440)
        box = [x, y, x + rnd.randrange(40, 300), y + rnd.randrange(40, 300)]
        draw.ellipse(box, fill=tuple(rnd.randrange(256) for _ in range(3)))
    return image.resize(size)


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestMake"  # Make
    exif[0x0110] = "TestModel"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x0132] = "2024:05:17 10:30:00"  # DateTime
    return image_bytes("JPEG", size, exif=exif.tobytes())


def camera_jpeg(
    size: tuple[int, int] = (64, 48),
    make: str | None = None,
    model: str | None = None,
    lens: str | None = None,
    taken: str | None = None,
    gps: tuple[float, float] | None = None,
    keywords: tuple[str, ...] = (),
) -> bytes:
    """A JPEG with the facts search and the facets use: camera, lens, capture time
    ("YYYY:MM:DD HH:MM:SS"), GPS position (decimal degrees) and XMP keywords."""
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    for tag, value in ((0x010F, make), (0x0110, model)):
        if value is not None:
            exif[tag] = value
    sub = exif.get_ifd(0x8769)
    if lens is not None:
        sub[0xA434] = lens
    if taken is not None:
        sub[0x9003] = taken
    if gps is not None:
        where = exif.get_ifd(0x8825)
        for tag, ref_tag, value, refs in ((2, 1, gps[0], "NS"), (4, 3, gps[1], "EW")):
            where[ref_tag] = refs[value < 0]
            where[tag] = (
                IFDRational(round(abs(value) * 10**6), 10**6),
                IFDRational(0),
                IFDRational(0),
            )
    save = {"exif": exif.tobytes()}
    if keywords:
        bag = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
        save["xmp"] = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
            ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:subject><rdf:Bag>{bag}</rdf:Bag></dc:subject>"
            "</rdf:Description></rdf:RDF></x:xmpmeta>"
        ).encode()
    return image_bytes("JPEG", size, **save)


def png_with_alpha(size: tuple[int, int] = (64, 48)) -> bytes:
    return image_bytes("PNG", size, mode="RGBA")


def animated_gif(size: tuple[int, int] = (32, 32), frames: int = 3) -> bytes:
    images = [Image.new("P", size, color) for color in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def noisy_jpeg(min_bytes: int) -> bytes:
    """A JPEG of at least `min_bytes` (noise compresses badly, so it stays big)."""
    side = 256
    while True:
        data = image_bytes("JPEG", (side, side), quality=95)
        if len(data) >= min_bytes:
            return data
        side = int(side * 1.25)


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR is patched to claim `width` x `height`.

    The header (and its CRC) is consistent, so parsers accept it, but the pixel
    data is that of a 1x1 image: anything that decodes pixels will fail.
    """
    data = bytearray(image_bytes("PNG", (1, 1)))
    # Signature (8) + IHDR length (4); the chunk type and data follow.
    ihdr = 12
    assert data[ihdr : ihdr + 4] == b"IHDR"
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 4 + 13]))
    data[ihdr + 4 + 13 : ihdr + 4 + 13 + 4] = struct.pack(">I", crc)
    return bytes(data)


# --- rich metadata -------------------------------------------------------------
# What the generators below write, so tests can compare against it.
RICH = {
    "make": "Acme",
    "model": "Acme X100",
    "software": "TestSuite 1.0",
    "lens": "Acme 24-70mm f/2.8",
    "serial": "SN-0042",
    "taken": "2024:05:17 10:30:15",
    "subsec": "250",
    "offset": "+02:00",
    "exposure": (1, 250),
    "f_number": (28, 10),
    "iso": 400,
    "focal": (35, 1),
    "focal_35": 52,
    "flash": 0x19,  # fired, auto mode
    "lat": ((48, 1), (51, 1), (3024, 100)),  # 48°51'30.24" S
    "lon": ((2, 1), (17, 1), (4020, 100)),  # 2°17'40.20" E
    "alt": (3525, 100),  # below sea level (ref 1)
    "title": "Tour Eiffel at dawn",
    "description": "Café au lait ☕ on the Champ-de-Mars",
    "creators": ["Ada Lovelace", "Grace Hopper"],
    "rights": "© 2024 Acme Photo",
    "subjects": ["paris", "tower", "morning"],
    "rating": 4,
    "iptc_keywords": ["paris", "travel"],
    "iptc_byline": "Ada Lovelace",
    "iptc_caption": "IPTC caption, UTF-8: Zürich",
    "iptc_city": "Paris",
}


def rich_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with IFD0, Exif sub-IFD and GPS sub-IFD tags of every common type."""
    from PIL.TiffImagePlugin import IFDRational

    r = RICH
    exif = Image.Exif()
    exif[0x010F] = r["make"]
    exif[0x0110] = r["model"]
    exif[0x0131] = r["software"]
    exif[0x0112] = orientation
    exif[0x0132] = "2024:05:18 08:00:00"  # ModifyDate
    exif[0x013B] = "Ada Lovelace"  # Artist
    exif[0x8298] = "Acme Photo"  # Copyright
    exif[0x010E] = "EXIF description"  # ImageDescription
    exif[0x011A] = IFDRational(300, 1)
    exif[0x011B] = IFDRational(300, 1)
    exif[0x0128] = 2
    exif[0x9C9B] = "XP title".encode("utf-16-le") + b"\x00\x00"  # XPTitle (BYTE)
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = IFDRational(*r["exposure"])
    sub[0x829D] = IFDRational(*r["f_number"])
    sub[0x8827] = r["iso"]
    sub[0x9000] = b"0232"  # ExifVersion (UNDEFINED)
    sub[0x9003] = r["taken"]
    sub[0x9004] = r["taken"]
    sub[0x9011] = r["offset"]
    sub[0x9291] = r["subsec"]
    sub[0x9201] = IFDRational(797, 100)  # ShutterSpeedValue (APEX, signed)
    sub[0x9202] = IFDRational(297, 100)  # ApertureValue (APEX)
    sub[0x9204] = IFDRational(-1, 3)  # ExposureCompensation
    sub[0x9209] = r["flash"]
    sub[0x920A] = IFDRational(*r["focal"])
    sub[0xA405] = r["focal_35"]
    sub[0xA434] = r["lens"]
    sub[0xA433] = "Acme"
    sub[0xA431] = r["serial"] + "\x00\x00  "  # SerialNumber, NUL- and space-padded
    sub[0xA432] = (IFDRational(24), IFDRational(70), IFDRational(28, 10), IFDRational(28, 10))
    sub[0x9286] = b"ASCII\x00\x00\x00A user comment"  # UserComment
    sub[0xA002] = 64
    sub[0xA003] = 48
    sub[0x927C] = b"MAKERNOTE" + bytes(2000)  # MakerNote: must be dropped
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"
    gps[0x0001] = "S"
    gps[0x0002] = tuple(IFDRational(*v) for v in r["lat"])
    gps[0x0003] = "E"
    gps[0x0004] = tuple(IFDRational(*v) for v in r["lon"])
    gps[0x0005] = b"\x01"
    gps[0x0006] = IFDRational(*r["alt"])
    gps[0x0007] = (IFDRational(8), IFDRational(30), IFDRational(15))
    gps[0x001D] = "2024:05:17"
    return exif


def xmp_packet(**overrides) -> bytes:
    """An XMP packet with simple, Alt, Bag and Seq properties (as Lightroom writes them)."""
    r = {**RICH, **overrides}

    def items(values):
        return "".join(f"<rdf:li>{v}</rdf:li>" for v in values)

    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        ' xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"'
        f' xmp:Rating="{r["rating"]}" xmp:CreatorTool="Darkroom 2"'
        ' photoshop:City="Paris" crs:Exposure2012="+0.50">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="fr">Tour Eiffel</rdf:li>'
        f'<rdf:li xml:lang="x-default">{r["title"]}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{r["description"]}'
        "</rdf:li></rdf:Alt></dc:description>"
        f"<dc:creator><rdf:Seq>{items(r['creators'])}</rdf:Seq></dc:creator>"
        f"<dc:subject><rdf:Bag>{items(r['subjects'])}</rdf:Bag></dc:subject>"
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{r["rights"]}'
        "</rdf:li></rdf:Alt></dc:rights>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n" + " " * 200 + '\n<?xpacket end="w"?>'
    ).encode("utf-8")


def iim(datasets: list[tuple[int, int, bytes]]) -> bytes:
    """IPTC IIM datasets (record, number, value)."""
    return b"".join(
        b"\x1c" + bytes([record, number]) + struct.pack(">H", len(value)) + value
        for record, number, value in datasets
    )


def rich_iim() -> bytes:
    r = RICH
    return iim(
        [
            (1, 90, b"\x1b%G"),  # UTF-8
            (2, 0, b"\x00\x04"),
            *[(2, 25, k.encode()) for k in r["iptc_keywords"]],
            (2, 80, r["iptc_byline"].encode()),
            (2, 120, r["iptc_caption"].encode()),
            (2, 90, r["iptc_city"].encode()),
            (2, 5, b"IPTC object name"),
            (2, 116, b"IPTC copyright"),
            (2, 55, b"20240517"),
            (2, 60, b"103015+0200"),
        ]
    )


def photoshop_resources(iim_data: bytes) -> bytes:
    """Photoshop image resources holding an IIM block (resource 0x0404)."""
    padded = iim_data + b"\x00" * (len(iim_data) & 1)
    return (
        b"8BIM"
        + struct.pack(">H", 0x0404)
        + b"\x00\x00"
        + struct.pack(">L", len(iim_data))
        + padded
    )


def insert_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """`jpeg` with an APPn segment inserted right after SOI."""
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def rich_jpeg(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    data = image_bytes(
        "JPEG",
        size,
        exif=rich_exif(orientation).tobytes(),
        xmp=xmp_packet(),
        icc_profile=srgb_icc(),
    )
    app13 = b"Photoshop 3.0\x00" + photoshop_resources(rich_iim())
    return insert_jpeg_segment(data, 0xED, app13)


def rich_png(size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode("utf-8"))
    return image_bytes(
        "PNG", size, exif=rich_exif().tobytes(), pnginfo=info, icc_profile=srgb_icc()
    )


def rich_webp(size: tuple[int, int] = (64, 48), **save) -> bytes:
    return image_bytes(
        "WEBP", size, exif=rich_exif().tobytes(), xmp=xmp_packet(), icc_profile=srgb_icc(), **save
    )


def rich_tiff(size: tuple[int, int] = (64, 48), **save) -> bytes:
    """A TIFF whose IFD0 also holds XMP (700), IPTC (33723) and ICC (34675)."""
    from PIL import TiffImagePlugin

    exif = Image.Exif()
    exif.load(rich_exif().tobytes())
    data = image_bytes("TIFF", size, exif=exif.tobytes(), icc_profile=srgb_icc(), **save)
    # Re-save with the extra blocks: Pillow writes tiffinfo tags into IFD0.
    with Image.open(io.BytesIO(data)) as image:
        ifd = TiffImagePlugin.ImageFileDirectory_v2()
        for tag, value in image.tag_v2.items():
            if tag not in (0x0111, 0x0117, 0x0116, 0x8769, 0x8825):
                ifd[tag] = value
                ifd.tagtype[tag] = image.tag_v2.tagtype[tag]
        for pointer in (0x8769, 0x8825):  # sub-IFDs are written from dicts
            ifd[pointer] = dict(exif.get_ifd(pointer))
            ifd.tagtype[pointer] = 4
        ifd[0x02BC] = xmp_packet()
        ifd.tagtype[0x02BC] = 1
        ifd[0x83BB] = rich_iim()
        ifd.tagtype[0x83BB] = 7
        out = io.BytesIO()
        image.save(out, "TIFF", tiffinfo=ifd, **save)
    return out.getvalue()


def rich_heif(size: tuple[int, int] = (64, 48), orientation: int = 1, mode: str = "RGB") -> bytes:
    import pillow_heif

    rng = random.Random(f"heif{size}{mode}")
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    pillow_heif.from_pillow(image).save(
        out, quality=80, exif=rich_exif(orientation).tobytes(), xmp=xmp_packet()
    )
    return out.getvalue()


def rich_avif(size: tuple[int, int] = (64, 48), orientation: int = 1, mode: str = "RGB") -> bytes:
    return image_bytes(
        "AVIF", size, mode=mode, exif=rich_exif(orientation).tobytes(), xmp=xmp_packet(), quality=60
    )


# --- multi-frame ------------------------------------------------------------
def _frames(mode: str, size: tuple[int, int], count: int) -> list[Image.Image]:
    rng = random.Random(f"frames{mode}{size}{count}")
    return [
        Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
        for _ in range(count)
    ]


def multi_frame(fmt: str, size: tuple[int, int] = (40, 30), frames: int = 3, **save) -> bytes:
    """An animation (GIF, PNG as APNG, WEBP) or multi-image file (MPO, TIFF)."""
    # Grey GIF frames need no quantizing, so big ones are quick to make.
    mode = {"PNG": "RGBA", "WEBP": "RGBA", "GIF": "L"}.get(fmt, "RGB")
    images = _frames(mode, size, frames)
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], **save)
    return out.getvalue()


def with_free_box(data: bytes, size: int) -> bytes:
    """An ISO BMFF file (HEIF, AVIF) grown by a trailing `free` box of `size` bytes."""
    return data + struct.pack(">L4s", size, b"free") + bytes(size - 8)


# --- TIFF structures (TIFF files, camera raws) ---------------------------------
class IfdRef(int):
    """A value that is the offset of another IFD of the same file (by index)."""


class BlobRef(int):
    """A value that is the offset of a data blob of the same file (by index)."""


_TIFF_CODES = {1: "B", 3: "H", 4: "L", 6: "b", 8: "h", 9: "l", 11: "f", 12: "d", 13: "L", 16: "Q"}
TiffEntry = tuple[int, int, object]  # (tag, type, value): str, bytes, int, list, rationals


def _item_size(kind: int) -> int:
    return struct.calcsize("<" + _TIFF_CODES[kind])


def tiff_structure(
    ifds: list[list[TiffEntry]],
    blobs: list[bytes] = (),
    order: str = "<",
    big: bool = False,
    chain: tuple[int, ...] = (0,),
    prefix: bytes = b"",
) -> bytes:
    """A TIFF (or BigTIFF) file laid out from IFD specifications.

    Each IFD is a list of (tag, type, value) entries, sorted by tag on output.
    Values: str (ASCII), bytes (BYTE/UNDEFINED data, or numbers already packed
    in `order`), int or a list of ints, (num, den) pairs for RATIONAL, and
    IfdRef(i) / BlobRef(i) (or lists of them) for offsets of other IFDs and of
    `blobs` (pixel data, previews). `chain` lists the IFDs linked by
    next-IFD offsets from the header on; other IFDs are reached via pointers.
    `prefix` goes between the 8/16-byte header and the first IFD (camera
    raws put their own headers there).
    """
    word, offset_code = ("Q", "Q") if big else ("L", "L")
    entry_size, count_code = (20, "Q") if big else (12, "H")
    inline = 8 if big else 4
    head = 16 if big else 8

    def encode(kind: int, value: object) -> tuple[int, bytes | list]:
        if isinstance(value, str):
            raw = value.encode("latin-1") + b"\x00"
            return len(raw), raw
        if isinstance(value, bytes):  # raw bytes, or numbers already packed in `order`
            return len(value) // (_item_size(kind) if kind in _TIFF_CODES else 1), value
        if kind in (5, 10):
            pairs = [value] if isinstance(value[0], int) else list(value)
            code = "L" if kind == 5 else "l"
            return len(pairs), struct.pack(f"{order}{2 * len(pairs)}{code}", *sum(pairs, ()))
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        return len(values), list(values)  # packed once offsets are known

    sizes = []
    for ifd in ifds:
        extra = 0
        for _tag, kind, value in ifd:
            count, raw = encode(kind, value)
            length = len(raw) if isinstance(raw, bytes) else count * _item_size(kind)
            if length > inline:
                extra += length + (length & 1)
        sizes.append(len(ifd) * entry_size + (8 if big else 2) + (8 if big else 4) + extra)
    starts, at = [], head + len(prefix)
    for size in sizes:
        starts.append(at)
        at += size
    blob_starts = []
    for blob in blobs:
        blob_starts.append(at)
        at += len(blob)

    def resolve(item):
        if isinstance(item, IfdRef):
            return starts[int(item)]
        if isinstance(item, BlobRef):
            return blob_starts[int(item)]
        return item

    successors = dict(itertools.pairwise(chain))
    out = bytearray()
    if big:
        out += (b"II" if order == "<" else b"MM") + struct.pack(order + "HHH", 43, 8, 0)
        out += struct.pack(order + "Q", starts[chain[0]])
    else:
        out += (b"II" if order == "<" else b"MM") + struct.pack(order + "HL", 42, starts[chain[0]])
    out += prefix
    for index, ifd in enumerate(ifds):
        assert len(out) == starts[index]
        data_at = starts[index] + (8 if big else 2) + len(ifd) * entry_size + (8 if big else 4)
        table, data = bytearray(struct.pack(order + count_code, len(ifd))), bytearray()
        for tag, kind, value in sorted(ifd, key=lambda e: e[0]):
            count, raw = encode(kind, value)
            if isinstance(raw, list):
                refs = isinstance(raw[0], (IfdRef, BlobRef))  # a list of refs is all refs
                raw = struct.pack(
                    f"{order}{count}{_TIFF_CODES[kind]}", *(map(resolve, raw) if refs else raw)
                )
            if len(raw) <= inline:
                field = raw.ljust(inline, b"\x00")
            else:
                field = struct.pack(order + offset_code, data_at + len(data))
                data += raw + b"\x00" * (len(raw) & 1)
            table += struct.pack(order + "HH" + word, tag, kind, count) + field
        following = successors.get(index)
        table += struct.pack(order + offset_code, starts[following] if following is not None else 0)
        out += table + data
    for blob in blobs:
        out += blob
    return bytes(out)


# --- BMP ------------------------------------------------------------------------
def bmp_file(
    size: tuple[int, int] = (6, 4),
    bits: int = 24,
    header_size: int = 40,
    compression: int = 0,
    masks: tuple[int, ...] = (),
    palette: list[tuple[int, int, int]] | None = None,
    ppm: tuple[int, int] = (2835, 2835),
    colors_used: int = 0,
    data: bytes | None = None,
) -> bytes:
    """A BMP built from the header layouts: Windows (40, 52, 56, 108, 124 bytes) and OS/2
    (12, 16, 64 bytes); a negative height is top-down. `masks` go into V2+ headers or
    after a 40-byte one; `data` defaults to zeroed rows of the right size."""
    width, height = size
    if header_size == 12:
        header = struct.pack("<LHHHH", 12, width, height, 1, bits)
    elif header_size == 16:
        header = struct.pack("<LllHH", 16, width, height, 1, bits)
    else:
        header = struct.pack(
            "<LllHHLLllLL", header_size, width, height, 1, bits, compression, 0, *ppm,
            colors_used, 0,
        )  # fmt: skip
        if header_size >= 52:
            header += struct.pack("<4L", *(*masks, 0, 0, 0, 0)[:4])[: header_size - 40]
        header = header.ljust(header_size, b"\x00")
        if header_size == 108 or header_size == 124:  # LCS_sRGB colour space
            header = header[:56] + b"BGRs" + header[60:]
    extra = b"" if header_size >= 52 else struct.pack(f"<{len(masks)}L", *masks)
    entry = 3 if header_size == 12 else 4
    colours = b"".join(bytes([b, g, r]) + b"\x00" * (entry - 3) for r, g, b in palette or [])
    if data is None:
        row = (width * bits + 31) // 32 * 4
        data = bytes(row * abs(height))
    offset = 14 + len(header) + len(extra) + len(colours)
    body = header + extra + colours + data
    return b"BM" + struct.pack("<LHHL", 14 + len(body), 0, 0, offset) + body


def jpeg_with_dnl(size: tuple[int, int] = (40, 30)) -> bytes:
    """A baseline JPEG whose frame header says height 0, defined by a DNL marker after the scan."""
    data = bytearray(image_bytes("JPEG", size))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = b"\x00\x00"  # frame header: precision (1), height (2), width (2)
    eoi = data.rindex(b"\xff\xd9")
    return bytes(data[:eoi]) + b"\xff\xdc\x00\x04" + struct.pack(">H", size[1]) + b"\xff\xd9"


def tiny_lossless_webp(width: int = 3, height: int = 2) -> bytes:
    """The smallest valid lossless WebP: 28 bytes (5 one-symbol prefix codes, no transforms).

    libwebp decodes it (to black); real encoders write files this small for flat images.
    """
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> i) & 1 for i in range(count))

    put(width - 1, 14)
    put(height - 1, 14)
    put(0, 4)  # no alpha, version 0
    put(0, 3)  # no transform, no colour cache, no meta prefix codes
    for _ in range(5):  # green, red, blue, alpha, distance: a simple code of symbol 0
        put(0b0001, 4)
    bits += [0] * (-len(bits) % 8)
    stream = bytes(
        sum(b << i for i, b in enumerate(bits[j : j + 8])) for j in range(0, len(bits), 8)
    )
    payload = b"\x2f" + stream
    body = b"WEBPVP8L" + struct.pack("<L", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    return b"RIFF" + struct.pack("<L", len(body)) + body


# --- HEIF variants ----------------------------------------------------------------
def bmff_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">L", 8 + len(payload)) + kind + payload


def mini_heif(
    size: tuple[int, int] = (200, 100),
    codec_brand: bytes = b"heic",
    alpha: bool = False,
    orientation: int = 1,
    icc: bytes | None = None,
    exif: bytes | None = None,
    xmp: bytes | None = None,
    image: bytes = b"\x00" * 32,
) -> bytes:
    """A low-overhead HEIF (`mif3` brand, `mini` box: ISO/IEC 23008-12 AMD 2) built bit by
    bit; `exif` is a TIFF structure (stored without the item's 4-byte offset)."""
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> (count - 1 - i)) & 1 for i in range(count))

    width, height = size
    small = width <= 128 and height <= 128
    put(0, 2)  # version
    for flag in (0, 0, 1, alpha, 0, 0, icc is not None, exif is not None, xmp is not None):
        put(int(bool(flag)), 1)  # codec types, float, full range, alpha, cicp, hdr, icc, exif, xmp
    put(1, 2)  # chroma 4:2:0
    put(orientation - 1, 3)
    put(int(small), 1)
    put(width - 1, 7 if small else 15)
    put(height - 1, 7 if small else 15)
    put(0, 1)  # chroma horizontally centred (4:2:0 also has the vertical flag)
    put(0, 1)
    put(0, 1)  # 8 bits (no high bit depth)
    if alpha:
        put(0, 1)  # not premultiplied
    config = b"\x01\x02\x03"
    has_metadata = icc is not None or exif is not None or xmp is not None
    if has_metadata:
        put(0, 1)  # few metadata bytes: no (20-bit sizes)
    put(0, 1)  # few codec config bytes: no (12 bits)
    put(0, 1)  # few item data bytes: no (28 bits)
    if icc is not None:
        put(len(icc) - 1, 20)
    put(len(config), 12)
    put(len(image) - 1, 28)
    if alpha:
        put(0, 28)  # no alpha item data
    if exif is not None:
        put(len(exif) - 1, 20)
    if xmp is not None:
        put(len(xmp) - 1, 20)
    bits += [0] * (-len(bits) % 8)
    header = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
    chunks = config + (icc or b"") + image + (exif or b"") + (xmp or b"")
    ftyp = bmff_box(b"ftyp", b"mif3" + b"\x00" * 4 + b"mif3" + codec_brand)
    return ftyp + bmff_box(b"mini", header + chunks)


def jp2_with_resolution(
    capture: tuple[int, int, int, int, int, int] | None = None,
    display: tuple[int, int, int, int, int, int] | None = None,
    brand: bytes = b"jp2 ",
    xmp: bytes | None = None,
) -> bytes:
    """Pillow's JP2 with a `res ` box added to its header: `resc` / `resd` given as
    (vertical num, den, horizontal num, den, vertical exponent, horizontal exponent), pixels
    per metre = num / den x 10^exponent; optionally the JPX brand and an XMP uuid box."""
    data = image_bytes("JPEG2000", (16, 16))
    res = b""
    for kind, value in ((b"resc", capture), (b"resd", display)):
        if value is not None:
            res += bmff_box(kind, struct.pack(">HHHHbb", *value))
    at = data.index(b"jp2h") - 4
    size = struct.unpack_from(">L", data, at)[0]
    header = data[at + 8 : at + size] + (bmff_box(b"res ", res) if res else b"")
    data = data[:at] + bmff_box(b"jp2h", header) + data[at + size :]
    if xmp is not None:
        uuid = bmff_box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + xmp)
        at = data.index(b"jp2c") - 4
        data = data[:at] + uuid + data[at:]
    if brand != b"jp2 ":
        data = data.replace(b"ftypjp2 ", b"ftyp" + brand, 1)
    return data


# --- JPEG headers past the first 64 KiB block ---------------------------------------
def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def exif_payload(total: int | None = None) -> bytes:
    """The camera EXIF (rich_exif) as an APP1 payload; padded with a MakerNote to `total`."""
    exif = rich_exif()
    payload = exif.tobytes()
    if total is not None:
        padding = total - len(payload)
        for _ in range(3):  # the tag's own entry and alignment cost a few bytes
            exif.get_ifd(0x8769)[0x927C] = b"\x00" * padding
            padding += total - len(exif.tobytes())
        payload = exif.tobytes()
        assert len(payload) == total, len(payload)
    return payload


def _icc_segments(size: int, chunk: int) -> bytes:
    """An ICC profile of `size` bytes (sRGB plus padding) in APP2 chunks of `chunk` bytes."""
    icc = bytearray(srgb_icc())
    icc += b"\x00" * (size - len(icc))
    icc[0:4] = len(icc).to_bytes(4, "big")
    parts = [bytes(icc[i : i + chunk]) for i in range(0, len(icc), chunk)]
    return b"".join(
        jpeg_segment(0xE2, b"ICC_PROFILE\x00" + bytes([n + 1, len(parts)]) + part)
        for n, part in enumerate(parts)
    )


def _photoshop_segments(count: int) -> bytes:
    """`count` APP13 segments of 60,000 bytes: the IPTC block, then filler resources."""
    iptc = photoshop_resources(rich_iim())
    segments = b""
    for n in range(count):
        head = iptc if n == 0 else b""
        size = 60_000 - 14 - len(head) - 12
        filler = b"8BIM\x04\x09\x00\x00" + size.to_bytes(4, "big") + b"\x00" * size
        segments += jpeg_segment(0xED, b"Photoshop 3.0\x00" + head + filler)
    return segments


def _photoshop_thumbnail(size: int) -> bytes:
    """A Photoshop thumbnail resource of `size` bytes, split over APP13 segments as
    Photoshop splits it (the resource runs on from one segment into the next)."""
    resources = photoshop_resources(rich_iim())
    resources += b"8BIM\x04\x0c\x00\x00" + size.to_bytes(4, "big") + b"\x00" * size
    step = 0xFFFF - 2 - 14
    return b"".join(
        jpeg_segment(0xED, b"Photoshop 3.0\x00" + resources[i : i + step])
        for i in range(0, len(resources), step)
    )


def big_header_jpegs(image: bytes) -> list[tuple[str, bytes, int]]:
    """`image` (a JPEG) with headers of growing size, as cameras and editors leave them:
    (name, file, header bytes up to the end of the start-of-scan segment)."""
    camera = jpeg_segment(0xE1, exif_payload())
    cases = [
        ("camera EXIF", camera),
        ("EXIF of 65,000 bytes", jpeg_segment(0xE1, exif_payload(65_000))),
        ("EXIF + 5 x 60 KB Photoshop (APP13)", camera + _photoshop_segments(5)),
        ("EXIF + 3 x 60 KB ICC (APP2)", camera + _icc_segments(180_000, 60_000)),
        ("EXIF + 1 MB ICC in 16 chunks", camera + _icc_segments(1_040_000, 65_000)),
        ("EXIF + 1 MB Photoshop thumbnail", camera + _photoshop_thumbnail(1_000_000)),
        ("EXIF + 16 x 60 KB Photoshop (APP13)", camera + _photoshop_segments(16)),
        ("EXIF + 200 x 2 KB comments", camera + jpeg_segment(0xFE, b"c" * 2000) * 200),
    ]
    sos = image.index(b"\xff\xda")  # the image's own header: tables and frame, no metadata
    tables = sos + 2 + int.from_bytes(image[sos + 2 : sos + 4], "big")
    return [(name, image[:2] + seg + image[2:], len(seg) + tables) for name, seg in cases]
