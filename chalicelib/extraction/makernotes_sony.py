"""Sony maker notes: the lens from LensSpec, the ISO from the enciphered 0x2010 block.

Sony writes no LensModel in the EXIF of many cameras; its maker notes' LensSpec
(0xB02A, plain bytes) describes the lens the way ExifTool prints it ("DT
18-55mm F3.5-5.6 SAM"). The lens *name* ExifTool shows as LensID comes from
tables of thousands of lens ids: left out. The ISO Sony measured (SonyISO) is in
tag 0x2010, enciphered with a byte substitution, at an offset that depends on
the camera model (ExifTool's Tag2010b-i tables; 0x2010a has no ISO). Models
that ExifTool does not list are left alone rather than guessed.
"""

from __future__ import annotations

import re
import struct

from chalicelib.extraction.makernote_ifd import MakerIfd

SONY_HEADERS = (b"SONY DSC \x00", b"SONY CAM \x00", b"SONY MOBILE")
MAX_BLOCK_BYTES = 64 * 1024

# ExifTool's cipher: a byte b < 249 is stored as b**3 % 249; 249-255 are left as they are.
_DECIPHER = bytearray(range(256))
for _plain in range(249):
    _DECIPHER[_plain**3 % 249] = _plain
DECIPHER = bytes(_DECIPHER)

# (models, the SonyISO offset in the deciphered 0x2010 block, not for panoramas)
# from ExifTool's Sony.pm conditions on Tag2010b to Tag2010i, in its order.
_ISO_OFFSETS = [
    (r"(SLT-A(65|77)V?|NEX-(7|VG20E)|Lunar)$", 0x1218, False),
    (r"(SLT-A(37|57)|NEX-F3)$", 0x11F4, False),
    (r"DSC-(HX10V|HX20V|HX30V|HX200V|TX66|TX200V|TX300V|WX50|WX70|WX100|WX150)$", 0x1270, True),
    (r"(SLT-(A99|A99V)|NEX-(5R|5T|6|VG900|VG30E)|DSC-RX100|Stellar|HV)$", 0x1254, False),
    (r"DSC-(RX1|RX1R)$", 0x1258, False),
    (r"(SLT-A58|ILCE-(3000|3500)|NEX-3N)$", 0x1280, False),
    (r"DSC-(HX300|HX50V|TX30|WX60|WX80|WX200|WX300)$", 0x1280, True),
    (r"DSC-(RX100M2|QX10|QX100)$", 0x113C, False),
    (
        r"(DSC-(QX30|RX10|RX100M3|HX60V|HX350|HX400V|WX220|WX350)"
        r"|ILCE-(7(R|S|M2)?|[56]000|5100|QX1)|ILCA-(68|77M2))\b",
        0x0344,
        False,
    ),
    (
        r"(DSC-(RX0|RX1RM2|RX10M2|RX10M3|RX100M4|RX100M5|HX80|HX90V?|WX500)"
        r"|ILCE-(6300|6500|7RM2|7SM2)|ILCA-99M2)\b",
        0x0346,
        False,
    ),
    (
        r"(ILCE-(6100|6400|6600|7C|7M3|7RM3A?|7RM4A?|9|9M2)"
        r"|DSC-(RX10M4|RX100M6|RX100M5A|RX100M7|HX99|RX0M2)|ZV-(1F?|E10))\b",
        0x0320,
        False,
    ),
]
ISO_OFFSETS = [(re.compile(models), at, no_pano) for models, at, no_pano in _ISO_OFFSETS]

# LensSpec features (ExifTool's @lensFeatures): mask over bytes 0 and 7, names, prefix?
_FEATURES = [
    (0x4000, {0x4000: "PZ"}, True),
    (0x0300, {0x0100: "DT", 0x0200: "FE", 0x0300: "E"}, True),
    (0x00E0, {0x0020: "STF", 0x0040: "Reflex", 0x0060: "Macro", 0x0080: "Fisheye"}, False),
    (0x000C, {0x0004: "ZA", 0x0008: "G"}, False),
    (0x0003, {0x0001: "SSM", 0x0002: "SAM"}, False),
    (0x8000, {0x8000: "OSS"}, False),
    (0x2000, {0x2000: "LE"}, False),
    (0x0800, {0x0800: "II"}, False),
]


def sony_facts(model: str, note: bytes, offset: int, order: str) -> tuple[int | None, str | None]:
    """(ISO, lens) from Sony maker notes: an IFD after a 12-byte header or none, its
    value offsets counting from the TIFF header."""
    start = 12 if note.startswith(SONY_HEADERS) else 0
    notes = MakerIfd(note, start, order, -offset)
    spec = notes.raw(0xB02A)
    lens = lens_spec(spec[2]) if spec and spec[0] in (1, 7) and spec[1] == 8 else None
    return _sony_iso(notes, model.strip()), lens


def _sony_iso(notes: MakerIfd, model: str) -> int | None:
    panorama = notes.raw(0x1003)  # its first int32 is 257 in panoramas
    is_panorama = bool(panorama and re.match(rb"(\x00\x00)?\x01\x01", panorama[2]))
    # The first layout whose condition holds, as ExifTool picks it.
    at = next((at for models, at, no_panorama in ISO_OFFSETS if models.match(model)
               and not (no_panorama and is_panorama)), None)  # fmt: skip
    block = notes.raw(0x2010)
    if at is None or block is None or block[0] not in (1, 7) or len(block[2]) < at + 2:
        return None
    raw = struct.unpack(notes.order + "H", block[2][at : at + 2].translate(DECIPHER))[0]
    iso = round(100 * 2 ** (16 - raw / 256))  # ExifTool prints it as "%.0f"
    return iso if 10 <= iso <= 1_000_000 else None  # 0 and such codes are no ISO


def lens_spec(data: bytes) -> str | None:
    """ExifTool's printed LensSpec: flags, BCD focal lengths and f-numbers, flags."""
    hexed = data.hex()
    short, long = (int(re.match(r"\d*", hexed[i : i + 4])[0] or 0) for i in (2, 6))
    wide, tele = (_f_number(hexed[i : i + 2]) for i in (10, 12))
    if not short or not wide or (long and long < short) or (tele and tele < wide):
        return None  # ExifTool's "Unknown (...)": no lens information
    text = f"{short}" + (f"-{long}" if long and long != short else "")
    text += f"mm F{wide:g}" + (f"-{tele:g}" if tele and tele != wide else "")
    flags = data[0] << 8 | data[7]
    for mask, names, prefix in _FEATURES:
        bits = flags & mask
        if bits:
            name = names.get(bits, f"Unknown({bits:04x})")
            text = f"{name} {text}" if prefix else f"{text} {name}"
    return text


def _f_number(digits: str) -> float:
    """A BCD f-number times ten; a first hex letter stands for its value ("b0" is 11)."""
    digits = re.sub(r"[a-f]", lambda m: str(int(m[0], 16)), digits, count=1)
    return int(re.match(r"\d*", digits)[0] or 0) / 10
