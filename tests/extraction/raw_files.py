"""Camera raw files built from their published layouts: header-true, pixel-free.

Each builder lays out what a camera writes before the pixel data: the TIFF
IFDs (preview, thumbnail and raw image directories, their NewSubfileType and
compression), the EXIF and GPS IFDs, the maker's own header (CR2, ORF, RW2,
RAF) or boxes (CR3). Pixel data are a few placeholder bytes: extraction never
reads them, and ExifTool (the reference in the differential tests) does not
decode them either. RAW[kind] -> (file bytes, expected full-resolution size).
"""

from __future__ import annotations

import struct

from images import BlobRef, IfdRef, bmff_box, rich_jpeg, tiff_structure

EXPOSURE = [
    (0x829A, 5, (1, 250)),  # ExposureTime
    (0x829D, 5, (28, 10)),  # FNumber
    (0x8827, 3, 400),  # ISO
    (0x9003, 2, "2024:05:17 10:30:15"),  # DateTimeOriginal
    (0x920A, 5, (50, 1)),  # FocalLength
    (0xA434, 2, "Raw Lens 50mm F1.8"),  # LensModel
]
GPS = [
    (0x0001, 2, "N"),
    (0x0002, 5, [(48, 1), (51, 1), (3024, 100)]),
    (0x0003, 2, "E"),
    (0x0004, 5, [(2, 1), (17, 1), (4020, 100)]),
]
PLACEHOLDER = b"\x00" * 16
RW2_SIGNATURE = bytes.fromhex("88e774d8f8251d4d947a6e77822b5d6a")  # after the TIFF header


def ifd0_tags(make: str, model: str, exif: int, gps: int) -> list:
    """Make, model, orientation, date and the pointers to the Exif and GPS IFDs."""
    return [
        (0x010F, 2, make),
        (0x0110, 2, model),
        (0x0112, 3, 1),
        (0x0132, 2, "2024:05:18 08:00:00"),
        (0x8769, 4, IfdRef(exif)),
        (0x8825, 4, IfdRef(gps)),
    ]


def image_tags(
    size: tuple[int, int],
    subfile: int | None,
    bits: list[int],
    compression: int,
    photometric: int,
    blob: int,
) -> list:
    """The tags describing one image (a preview, a thumbnail or the raw data)."""
    tags = [
        (0x0100, 4, size[0]),
        (0x0101, 4, size[1]),
        (0x0102, 3, bits),
        (0x0103, 3, compression),
        (0x0106, 3, photometric),
        (0x0111, 4, BlobRef(blob)),
        (0x0115, 3, len(bits)),
        (0x0116, 4, size[1]),
        (0x0117, 4, len(PLACEHOLDER)),
    ]
    if subfile is not None:
        tags.append((0x00FE, 4, subfile))
    return tags


def _patch_magic(data: bytes, magic: bytes) -> bytes:
    return data[:2] + magic + data[4:]


def dng() -> bytes:
    """IFD0: a 256x171 RGB preview (NewSubfileType 1); SubIFD: the 6016x4016 CFA raw."""
    ifd0 = image_tags((256, 171), 1, [8, 8, 8], 1, 2, 0) + ifd0_tags("Acme", "DNG Cam", 2, 3)
    ifd0 += [(0xC612, 1, b"\x01\x04\x00\x00"), (0x014A, 4, [IfdRef(1)])]
    raw = image_tags((6016, 4016), 0, [16], 7, 32803, 1)
    return tiff_structure([ifd0, raw, EXPOSURE, GPS], blobs=[PLACEHOLDER, PLACEHOLDER])


def nef(coolpix: bool = False) -> bytes:
    """IFD0: a 160x120 thumbnail (NewSubfileType 1; JPEG on a Coolpix NRW); SubIFDs: a JPEG
    preview and the 8288x5520 raw (NewSubfileType 0, Nikon compression)."""
    compression = 6 if coolpix else 1
    model = "COOLPIX P7000" if coolpix else "NIKON D850"
    ifd0 = image_tags((160, 120), 1, [8, 8, 8], compression, 2, 0)
    if coolpix:  # the JPEG thumbnail is also given as JPEGInterchangeFormat
        ifd0 += [(0x0201, 4, BlobRef(0)), (0x0202, 4, len(PLACEHOLDER))]
    ifd0 += ifd0_tags("NIKON CORPORATION", model, 3, 4)
    ifd0 += [(0x014A, 4, [IfdRef(1), IfdRef(2)])]
    preview = image_tags((1620, 1080), 1, [8, 8, 8], 6, 6, 0)
    size = (3648, 2736) if coolpix else (8288, 5520)
    raw = image_tags(size, 0, [14], 34713, 32803, 1)
    return tiff_structure([ifd0, preview, raw, EXPOSURE, GPS], blobs=[PLACEHOLDER] * 2)


def arw(file_format: bytes = b"\x03\x03\x05\x00", model: str = "ILCE-7M3") -> bytes:
    """IFD0: a JPEG preview (NewSubfileType 1, as ExifTool expects of an ARW); SubIFD: the
    6048x4024 raw; the Sony maker notes say which file format (1.0.0.0 is SR2)."""
    ifd0 = image_tags((1616, 1080), 1, [8, 8, 8], 6, 6, 0) + ifd0_tags("SONY", model, 2, 3)
    ifd0 += [(0x014A, 4, [IfdRef(1)])]
    raw = image_tags((6048, 4024), 0, [12], 32767, 32803, 1)
    # Sony maker notes: "SONY DSC \0\0\0", then an IFD whose offsets count from the TIFF header.
    notes = b"SONY DSC \x00\x00\x00" + struct.pack("<HHHL4sL", 1, 0xB000, 1, 4, file_format, 0)
    exif = [*EXPOSURE, (0x927C, 7, b"")]  # an empty MakerNote, filled in below
    structure = tiff_structure([ifd0, raw, exif, GPS], blobs=[PLACEHOLDER, PLACEHOLDER])
    return _with_maker_note(structure, notes)


def _with_maker_note(structure: bytes, notes: bytes) -> bytes:
    """Append `notes` and point the MakerNote entry (type 7, count 0) at it."""
    at = structure.index(struct.pack("<HHL", 0x927C, 7, 0))
    fixed = struct.pack("<HHLL", 0x927C, 7, len(notes), len(structure))
    return structure[:at] + fixed + structure[at + 12 :] + notes


def pef() -> bytes:
    """IFD0: the 6000x4000 raw itself (NewSubfileType 0, Pentax compression); IFD1 a thumbnail."""
    ifd0 = image_tags((6000, 4000), 0, [12], 65535, 32803, 0)
    ifd0 += ifd0_tags("PENTAX", "PENTAX K-1", 2, 3)
    thumbnail = image_tags((160, 120), 1, [8, 8, 8], 6, 6, 1)
    return tiff_structure([ifd0, thumbnail, EXPOSURE, GPS], blobs=[PLACEHOLDER] * 2, chain=(0, 1))


def orf() -> bytes:
    """Olympus: magic "IIRO"; IFD0 is the 5240x3912 raw."""
    ifd0 = image_tags((5240, 3912), 0, [16], 1, 32803, 0)
    ifd0 += ifd0_tags("OLYMPUS CORPORATION", "E-M1MarkII", 1, 2)
    return _patch_magic(tiff_structure([ifd0, EXPOSURE, GPS], blobs=[PLACEHOLDER]), b"RO")


def rw2() -> bytes:
    """Panasonic: magic 0x55 and a 16-byte signature (without it, the older RAW); IFD0 gives
    the sensor size and the borders of the image."""
    ifd0 = [
        (0x0001, 7, b"0470"),  # PanasonicRawVersion
        (0x0002, 3, 5248),  # SensorWidth
        (0x0003, 3, 3920),  # SensorHeight
        (0x0004, 3, 8),  # SensorTopBorder
        (0x0005, 3, 8),  # SensorLeftBorder
        (0x0006, 3, 3896),  # SensorBottomBorder
        (0x0007, 3, 5192),  # SensorRightBorder
        (0x000A, 3, 12),  # BitsPerSample
        (0x0111, 4, BlobRef(0)),
        (0x0117, 4, len(PLACEHOLDER)),
        # (no ModifyDate: Panasonic's IFD0 does not have one, and ExifTool's table neither)
        *(tag for tag in ifd0_tags("Panasonic", "DC-G9", 1, 2) if tag[0] != 0x0132),
    ]
    structure = tiff_structure([ifd0, EXPOSURE, GPS], blobs=[PLACEHOLDER], prefix=RW2_SIGNATURE)
    return _patch_magic(structure, b"U\x00")


def cr2() -> bytes:
    """Canon: "CR" 2.0 after the TIFF header; IFD0 a JPEG preview (here smaller than the
    image), IFD1 a thumbnail, IFD2 a small RGB image, IFD3 the raw (no size tags: Canon's
    slices); the Exif IFD gives the image size."""
    ifd0 = image_tags((5472, 3648), None, [8, 8, 8], 6, 6, 0)
    ifd0 += ifd0_tags("Canon", "Canon EOS 5D Mark IV", 4, 5)
    thumbnail = [(0x0103, 3, 6), (0x0201, 4, BlobRef(0)), (0x0202, 4, len(PLACEHOLDER))]
    small = image_tags((592, 395), None, [16, 16, 16], 1, 2, 0)
    raw = [(0x0103, 3, 6), (0x0111, 4, BlobRef(1)), (0x0117, 4, 16), (0xC640, 3, [1, 3360, 3360])]
    exif = [*EXPOSURE, (0xA002, 4, 6720), (0xA003, 4, 4480)]
    return tiff_structure(
        [ifd0, thumbnail, small, raw, exif, GPS],
        blobs=[PLACEHOLDER, PLACEHOLDER],
        chain=(0, 1, 2, 3),
        prefix=b"CR\x02\x00\x00\x00\x00\x00",
    )


def raf() -> bytes:
    """Fujifilm: a 160-byte header pointing at the JPEG preview (with the EXIF) and at the
    RAF directory, which gives the full (6160x4032) and cropped (6000x4000) raw sizes."""
    preview = rich_jpeg((160, 120))
    directory = struct.pack(">L", 2)
    directory += struct.pack(">HHHH", 0x100, 4, 4032, 6160)  # height, then width
    directory += struct.pack(">HHHH", 0x111, 4, 4000, 6000)
    jpeg_at = 160 + len(directory)
    header = b"FUJIFILMCCD-RAW 0201FF383501" + b"X-T3".ljust(32, b"\x00")
    header = header.ljust(60, b"\x00") + b"0100" + bytes(20)
    header += struct.pack(">LLLLLL", jpeg_at, len(preview), 160, len(directory), 0, 0)
    header = header.ljust(160, b"\x00")  # (0x78, 0x80: a second directory and IFD, unused)
    return header + directory + preview


def cr3() -> bytes:
    """Canon CR3: ftyp "crx ", a Canon uuid box in moov holding IFD0 (CMT1), the Exif IFD
    (CMT2) and GPS (CMT4) as TIFF structures, and three CRAW image tracks."""
    cmt1 = tiff_structure(
        [
            [
                (0x0100, 4, 6000),
                (0x0101, 4, 4000),
                (0x010F, 2, "Canon"),
                (0x0110, 2, "Canon EOS R"),
                (0x0112, 3, 1),
                (0x0132, 2, "2024:05:18 08:00:00"),
            ]
        ]
    )
    cmt2, cmt4 = tiff_structure([EXPOSURE]), tiff_structure([GPS])
    canon = bmff_box(b"CNCV", b"CanonCR3_001/00.09.00/00.00.00")
    canon += bmff_box(b"CMT1", cmt1) + bmff_box(b"CMT2", cmt2) + bmff_box(b"CMT4", cmt4)
    uuid = bmff_box(b"uuid", bytes.fromhex("85c0b687820f11e08111f4ce462b6a48") + canon)
    tracks = b"".join(_craw_track(size) for size in ((6000, 4000), (1624, 1080), (6288, 4056)))
    ftyp = bmff_box(b"ftyp", b"crx \x00\x00\x00\x01crx isom")
    return ftyp + bmff_box(b"moov", uuid + tracks) + bmff_box(b"mdat", PLACEHOLDER)


def _craw_track(size: tuple[int, int]) -> bytes:
    """A video track with one CRAW sample entry of the given size."""
    tkhd = bmff_box(b"tkhd", bytes(4 + 72) + struct.pack(">LL", size[0] << 16, size[1] << 16))
    hdlr = bmff_box(b"hdlr", bytes(8) + b"vide" + bytes(13))
    entry = bmff_box(b"CRAW", bytes(24) + struct.pack(">HH", *size) + bytes(50))
    stsd = bmff_box(b"stsd", struct.pack(">LL", 0, 1) + entry)
    stsz = bmff_box(b"stsz", struct.pack(">LLL", 0, 0, 1))
    stbl = bmff_box(b"stbl", stsd + stsz)
    return bmff_box(b"trak", tkhd + bmff_box(b"mdia", hdlr + bmff_box(b"minf", stbl)))


# kind -> (builder, (width, height) of the full-resolution image, bit depth)
RAW = {
    "DNG": (dng, (6016, 4016), 16),
    "CR2": (cr2, (6720, 4480), 8),
    "NEF": (nef, (8288, 5520), 14),
    "NRW": (lambda: nef(coolpix=True), (3648, 2736), 14),
    "ARW": (arw, (6048, 4024), 12),
    "SR2": (lambda: arw(b"\x01\x00\x00\x00", "DSC-R1"), (6048, 4024), 12),
    "ORF": (orf, (5240, 3912), 16),
    "RW2": (rw2, (5184, 3888), 12),
    "PEF": (pef, (6000, 4000), 12),
    "RAF": (raf, (6000, 4000), 8),
    "CR3": (cr3, (6000, 4000), 8),
}
