"""Test images generated on the fly: no binary fixtures in the repository."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    """A small image of `size` in Pillow format `fmt`, with some texture."""
    rng = random.Random(f"{fmt}{size}{mode}")
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


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
