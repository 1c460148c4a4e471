"""PNG and APNG: the chunks from the signature up to the first IDAT, read by us.

Pillow inflates every text chunk on open (1 MB per chunk, 4 MB in all) and
calls the whole image broken when a valid file has more (a 1.2 MB compressed
XMP packet, a 1.5 MB ICC profile); it also checks each chunk's CRC and walks
any number of chunks. We read only what the record uses: IHDR, pHYs, tRNS,
acTL, iCCP, eXIf and the text chunks holding XMP or ImageMagick's raw
profiles, inflating each within a limit. A metadata chunk that is damaged or
too large is skipped with a warning; the image stays `ok`.
"""

from __future__ import annotations

import struct
import zlib

from chalicelib.extraction.budget import BudgetedReader
from chalicelib.extraction.formats import ImageFacts
from chalicelib.extraction.metadata import MAX_ICC_BYTES
from chalicelib.extraction.xmp import MAX_XMP_BYTES

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNKS = 1000  # chunks walked before IDAT (a real file has a few dozen)
MAX_CHUNK_BYTES = 4 * 1024 * 1024  # one metadata chunk as stored
MAX_INFLATED_BYTES = 16 * 1024 * 1024  # all inflated metadata together
XMP_KEYWORD = b"XML:com.adobe.xmp"
RAW_PROFILE = b"Raw profile type "
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_WANTED = {b"pHYs", b"tRNS", b"acTL", b"iCCP", b"eXIf", *_TEXT_CHUNKS}

# (bit depth, colour type) -> Pillow's mode name.
MODES = {
    (1, 0): "1",
    (2, 0): "L",
    (4, 0): "L",
    (8, 0): "L",
    (16, 0): "I;16",
    (8, 2): "RGB",
    (16, 2): "RGB",
    (1, 3): "P",
    (2, 3): "P",
    (4, 3): "P",
    (8, 3): "P",
    (8, 4): "LA",
    (16, 4): "RGBA",
    (8, 6): "RGBA",
    (16, 6): "RGBA",
}


def read_png(fp: BudgetedReader) -> ImageFacts:
    """Facts from IHDR and the metadata chunks before the image data."""
    head = fp.read_at(0, 33)
    if len(head) < 33 or not head.startswith(SIGNATURE) or head[12:16] != b"IHDR":
        raise ValueError("truncated PNG header")
    if struct.unpack_from(">L", head, 8)[0] != 13 or _crc(head[12:29]) != head[29:33]:
        raise ValueError("damaged PNG header (IHDR)")
    width, height, depth, colour = struct.unpack_from(">LLBB", head, 16)
    if (depth, colour) not in MODES:
        raise ValueError(f"unknown PNG bit depth {depth} with colour type {colour}")
    facts = ImageFacts(
        format="PNG",
        mime_type="image/png",
        width=width,
        height=height,
        mode=MODES[depth, colour],
        bit_depth=depth,
    )
    _Walk(fp, facts).run(33)
    return facts


class _Walk:
    def __init__(self, fp: BudgetedReader, facts: ImageFacts) -> None:
        self.fp = fp
        self.facts = facts
        self.inflate_left = MAX_INFLATED_BYTES

    def run(self, pos: int) -> None:
        for _ in range(MAX_CHUNKS):
            header = self.fp.read_at(pos, 8)
            if len(header) < 8:
                raise ValueError("the PNG ends before its image data")
            length, kind = struct.unpack(">L4s", header)
            if kind in (b"IDAT", b"IEND"):
                return
            if kind in _WANTED:
                self._chunk(pos, kind, length)
            pos += 12 + length
        self._warn(f"PNG chunks after the first {MAX_CHUNKS} were not read")

    def _chunk(self, pos: int, kind: bytes, length: int) -> None:
        name = kind.decode("latin-1")
        # Keep the budget's last megabyte for the parsers that follow.
        if length > MAX_CHUNK_BYTES or length + 4 > self.fp.remaining - 1024 * 1024:
            self._warn(f"PNG {name} chunk of {length} bytes skipped (too large)")
            return
        stored = self.fp.read_at(pos + 4, 4 + length + 4)  # type, data, CRC
        if len(stored) < length + 8 or _crc(stored[:-4]) != stored[-4:]:
            self._warn(f"PNG {name} chunk skipped (truncated or damaged)")
            return
        data = stored[4:-4]
        facts = self.facts
        if kind == b"pHYs" and len(data) >= 9 and data[8] == 1:  # pixels per metre
            x, y = struct.unpack_from(">LL", data)
            facts.dpi = (x * 0.0254, y * 0.0254) if x and y else None
        elif kind == b"tRNS":
            facts.transparency = True
        elif kind == b"acTL" and len(data) >= 8:
            frames = struct.unpack_from(">L", data)[0]
            # The frame count of the animation; an IDAT image outside it is not a frame.
            facts.frames, facts.animated = max(frames, 1), frames > 1
        elif kind == b"eXIf":
            facts.exif = facts.exif or data
        elif kind == b"iCCP":
            _, _, rest = data.partition(b"\x00")
            profile = self._inflate(rest[1:], MAX_ICC_BYTES, "ICC profile (iCCP)")
            facts.icc = facts.icc or profile
        else:
            self._text(kind, data)

    def _text(self, kind: bytes, data: bytes) -> None:
        keyword, _, rest = data.partition(b"\x00")
        if keyword != XMP_KEYWORD and not keyword.startswith(RAW_PROFILE):
            return  # other text is not part of the record: never inflated
        compressed = kind == b"zTXt"
        if kind == b"iTXt":  # flag, method, language\0, translated keyword\0, text
            compressed = rest[:1] == b"\x01"
            parts = rest[2:].split(b"\x00", 2)
            rest = parts[2] if len(parts) == 3 else b""
        elif compressed:
            rest = rest[1:]  # compression method
        if keyword == XMP_KEYWORD:
            packet = self._inflate(rest, MAX_XMP_BYTES, "XMP") if compressed else rest
            if packet and len(packet) > MAX_XMP_BYTES:
                self._warn(f"XMP packet of {len(packet)} bytes skipped (too large)")
            elif packet:
                self.facts.xmp = self.facts.xmp or packet
            return
        # ImageMagick's raw profiles are hex: twice the bytes of the block they hold.
        text = self._inflate(rest, 2 * MAX_ICC_BYTES + 1024, "raw profile") if compressed else rest
        profile = raw_profile(text) if text else None
        if profile is not None:
            self._profile(keyword[len(RAW_PROFILE) :].lower(), profile)

    def _profile(self, kind: bytes, profile: bytes) -> None:
        facts = self.facts
        if kind in (b"exif", b"app1") and profile.startswith((b"Exif\x00\x00", b"II", b"MM")):
            facts.exif = facts.exif or profile
        elif kind in (b"xmp", b"app1") and b"<" in profile[:1024]:
            facts.xmp = facts.xmp or profile
        elif kind in (b"iptc", b"8bim"):
            if profile.startswith(b"8BIM"):
                facts.photoshop = facts.photoshop or profile
            else:
                facts.iptc = facts.iptc or profile
        elif kind == b"icc":
            facts.icc = facts.icc or profile

    def _inflate(self, data: bytes, limit: int, what: str) -> bytes | None:
        """`data` inflated, or None (with a warning) when damaged or larger than `limit`."""
        limit = min(limit, self.inflate_left)
        try:
            inflater = zlib.decompressobj()
            out = inflater.decompress(data, limit + 1)
        except zlib.error as error:
            self._warn(f"PNG {what} skipped (damaged: {error})")
            return None
        if len(out) > limit:
            self._warn(f"PNG {what} skipped (more than {limit} bytes inflated)")
            return None
        self.inflate_left -= len(out)
        return out

    def _warn(self, message: str) -> None:
        if message not in self.facts.warnings:
            self.facts.warnings.append(message)


def raw_profile(text: bytes) -> bytes | None:
    """The block in an ImageMagick raw profile: "\\n<type>\\n<length>\\n<hex lines>\\n".

    Only the declared length is read: writers leave trailing bytes after it.
    """
    parts = text.lstrip(b"\n").split(b"\n", 2)
    if len(parts) < 3 or not parts[1].strip().isdigit():
        return None
    length = int(parts[1].strip())
    digits = bytes(parts[2].translate(None, b" \t\r\n")[: 2 * length])
    try:
        block = bytes.fromhex(digits.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return block if len(block) == length else None


def _crc(data: bytes) -> bytes:
    return struct.pack(">L", zlib.crc32(data))
