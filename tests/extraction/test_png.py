"""PNG: large but valid metadata never makes an image corrupt (issue 10), chunks read by us."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hostile_builders import png_chunk, png_with_chunks_before_idat
from hostile_objects import (
    big_icc,
    big_xmp,
    png_text_chunks,
    png_with_compressed_xmp,
    png_with_iccp,
)
from images import iim, image_bytes, png_with_alpha
from PIL import Image

from chalicelib.extraction.extract import extract_metadata
from chalicelib.extraction.formats.png import MAX_CHUNKS


def extract(data: bytes) -> dict:
    return extract_metadata(io.BytesIO(data))


def test_a_large_compressed_xmp_packet_is_read():
    """1.2 MB of compressed XMP (1.6 MB inflated): Pillow's 1 MB limit called the PNG corrupt."""
    data = png_with_compressed_xmp(big_xmp(1_600_000))
    assert len(data) > 1_200_000

    result = extract(data)

    assert result["status"] == "ok"
    assert result["xmp"] == {"title": "Big XMP"}
    assert result["warnings"] == []


def test_an_oversized_xmp_packet_is_skipped_with_a_warning():
    result = extract(png_with_compressed_xmp(big_xmp(3_000_000)))

    assert result["status"] == "ok"
    assert result["xmp"] is None
    assert any("XMP" in w and "skipped" in w for w in result["warnings"]), result["warnings"]


def test_an_icc_profile_over_a_megabyte_is_read():
    result = extract(png_with_iccp(big_icc(1_500_000)))

    assert result["status"] == "ok"
    assert result["icc_profile"] == "sRGB built-in"


def test_a_compressed_icc_bomb_is_skipped_with_a_warning():
    result = extract(png_with_iccp(bytes(64 * 1024 * 1024)))

    assert result["status"] == "ok"
    assert result["icc_profile"] is None
    assert any("ICC profile (iCCP) skipped" in w for w in result["warnings"])


@pytest.mark.parametrize("compressed", [False, True], ids=["tEXt", "zTXt"])
def test_megabytes_of_text_chunks_do_not_matter(compressed):
    """Text the record does not use is never inflated: 6 MB of it is no reason to fail."""
    result = extract(png_text_chunks(6 * 1024 * 1024, 64 * 1024, compressed=compressed))

    assert result["status"] == "ok"
    assert result["warnings"] == []


def test_a_damaged_metadata_chunk_is_skipped():
    exif = png_chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08")
    broken = exif[:-4] + bytes(4)  # wrong CRC

    result = extract(png_with_chunks_before_idat([broken]))

    assert result["status"] == "ok"
    assert any("eXIf chunk skipped" in w for w in result["warnings"])


def test_a_damaged_header_is_corrupt():
    data = bytearray(png_with_alpha())
    data[20] ^= 1  # a bit of the width: IHDR's CRC no longer matches

    result = extract(bytes(data))

    assert result["status"] == "corrupt"
    assert "IHDR" in result["error"]


def test_a_png_ending_before_its_image_data_is_corrupt():
    png = image_bytes("PNG", (8, 8))

    result = extract(png[: png.index(b"IDAT") - 4])

    assert result["status"] == "corrupt"


def test_chunks_past_the_walk_limit_are_left_with_a_warning():
    filler = [png_chunk(b"teSt", b"")] * MAX_CHUNKS
    xmp = png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + big_xmp(100))

    result = extract(png_with_chunks_before_idat([*filler, xmp]))

    assert result["status"] == "ok"
    assert result["xmp"] is None
    assert any(f"after the first {MAX_CHUNKS}" in w for w in result["warnings"])


def test_pixels_per_metre_become_dpi():
    phys = png_chunk(b"pHYs", struct.pack(">LLB", 11811, 3937, 1))  # 300 x 100 dpi

    result = extract(png_with_chunks_before_idat([phys]))

    assert result["dpi"] == [300, 100]


def test_a_compressed_xmp_text_chunk_is_read():
    packet = big_xmp(100)
    ztxt = png_chunk(b"zTXt", b"XML:com.adobe.xmp\x00\x00" + zlib.compress(packet))

    result = extract(png_with_chunks_before_idat([ztxt]))

    assert result["xmp"] == {"title": "Big XMP"}


def _raw_profile_png(kind: str, block: bytes, trailer: str = "") -> bytes:
    """ImageMagick's "Raw profile type <kind>": "\\n<kind>\\n<length>\\n<hex lines>\\n"."""
    text = block.hex()
    lines = "\n".join(text[i : i + 72] for i in range(0, len(text), 72))
    payload = f"\n{kind}\n{len(block):8d}\n{lines}\n{trailer}".encode("latin-1")
    chunk = png_chunk(
        b"zTXt", f"Raw profile type {kind}".encode() + b"\x00\x00" + zlib.compress(payload)
    )
    return png_with_chunks_before_idat([chunk])


@pytest.mark.parametrize(
    "trailer",
    ["", "00ff", "\x00", "written by some tool", "f"],
    ids=["exact", "extra-hex", "nul", "text", "odd-digit"],
)
def test_raw_profiles_are_read_to_their_declared_length(trailer):
    """Bytes after the declared length (extra hex, NULs, text) used to drop the profile."""
    exif = Image.Exif()
    exif[0x010F] = "Magick"
    iptc = iim([(2, 80, b"Raw Byline"), (2, 120, b"Raw caption")])

    exif_result = extract(_raw_profile_png("exif", exif.tobytes(), trailer))
    iptc_result = extract(_raw_profile_png("iptc", iptc, trailer))
    xmp_result = extract(_raw_profile_png("xmp", big_xmp(100), trailer))

    assert exif_result["camera"]["make"] == "Magick"
    assert iptc_result["iptc"] == {"byline": ["Raw Byline"], "caption": "Raw caption"}
    assert xmp_result["xmp"] == {"title": "Big XMP"}
