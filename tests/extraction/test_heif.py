"""HEIF and AVIF beyond a still image in `meta` (issue 12): sequences, `mini`, brands."""

from __future__ import annotations

import io
import struct

from images import mini_heif, multi_frame, rich_exif, rich_heif, srgb_icc, xmp_packet

from chalicelib.extraction.extract import extract_metadata


def extract(data: bytes) -> dict:
    return extract_metadata(io.BytesIO(data))


def _avif_sequence() -> bytes:
    """An animated AVIF (libavif through Pillow): a still image in meta, 3 frames in moov."""
    data = multi_frame("AVIF", (40, 30), 3)
    assert data[8:12] == b"avis" and b"moov" in data
    return data


def _replace(data: bytes, old: bytes, new: bytes, count: int = 1) -> bytes:
    assert data.count(old) >= count, old
    return data.replace(old, new, count)


def _without_still_image(data: bytes) -> bytes:
    """The sequence alone: the meta box becomes a free box of the same size."""
    at = data.index(b"meta")
    return data[:at] + b"free" + data[at + 4 :]


def _heif_sequence() -> bytes:
    """A HEIF image sequence without a still image (brands msf1/hevc, hvc1 sample entry)."""
    data = _without_still_image(_avif_sequence())
    data = _replace(data, b"av01", b"hvc1", count=data.count(b"av01"))
    head = data.index(b"ftyp") + 4
    return data[:head] + b"msf1" + data[head + 4 : head + 8] + b"msf1hevciso8" + data[head + 20 :]


def test_an_animated_avif_is_its_still_image_and_animated():
    result = extract(_avif_sequence())

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "AVIF", "image/avif")
    assert (result["width"], result["height"]) == (40, 30)
    assert (result["animated"], result["frames"]) == (True, 3)


def test_an_avif_whose_meta_is_not_about_images_is_read_from_its_track():
    data = _replace(_avif_sequence(), b"pict", b"zzzz")  # the meta handler; the track keeps pict

    result = extract(data)

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "AVIF", "image/avif")
    assert (result["width"], result["height"], result["animated"], result["frames"]) == (
        40,
        30,
        True,
        3,
    )


def test_a_heif_sequence_without_a_still_image_is_read_from_its_track():
    result = extract(_heif_sequence())

    assert (result["status"], result["format"]) == ("ok", "HEIF")
    assert result["mime_type"] == "image/heif-sequence"
    assert (result["width"], result["height"], result["animated"], result["frames"]) == (
        40,
        30,
        True,
        3,
    )


def test_a_sequence_without_any_image_track_is_corrupt():
    ftyp = struct.pack(">L4s", 20, b"ftyp") + b"msf1" + bytes(4) + b"msf1"
    result = extract(ftyp + struct.pack(">L4s", 16, b"moov") + bytes(8))

    assert result["status"] == "corrupt"
    assert result["mime_type"] == "image/heif-sequence"


def test_a_still_heic_listing_a_sequence_brand_is_not_animated():
    data = rich_heif()
    head = data[: data.index(b"meta")]
    assert b"mif1" in head
    data = _replace(data, b"mif1", b"hevc")  # a compatible brand only; no moov track

    result = extract(data)

    assert (result["status"], result["animated"], result["frames"]) == ("ok", False, 1)
    assert result["mime_type"] == "image/heic"  # the major brand is still heic


def test_the_mime_type_follows_the_major_brand():
    data = bytearray(rich_heif())
    assert data[8:12] == b"heic"
    data[8:12] = b"mif1"  # generic HEIF, heic only among the compatible brands

    result = extract(bytes(data))

    assert (result["format"], result["mime_type"]) == ("HEIF", "image/heif")


def test_a_low_overhead_heif_mini_box_is_read():
    exif = rich_exif().tobytes()[6:]  # the TIFF structure, without "Exif\0\0"
    data = mini_heif(
        (300, 200), alpha=True, orientation=6, icc=srgb_icc(), exif=exif, xmp=xmp_packet()
    )

    result = extract(data)

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "HEIF", "image/heif")
    assert (result["width"], result["height"], result["mode"]) == (300, 200, "RGBA")
    assert (result["orientation"], result["display_width"]) == (6, 200)
    assert result["has_alpha"] is True
    assert result["icc_profile"] == "sRGB built-in"
    assert result["camera"]["model"] == "Acme X100"
    assert result["xmp"]["title"] == "Tour Eiffel at dawn"


def test_a_low_overhead_avif_is_avif():
    result = extract(mini_heif((64, 48), codec_brand=b"avif"))

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "AVIF", "image/avif")
    assert (result["width"], result["height"], result["mode"], result["bit_depth"]) == (
        64,
        48,
        "RGB",
        8,
    )


def test_a_truncated_mini_box_is_corrupt():
    data = mini_heif((300, 200))
    at = data.index(b"mini")
    truncated = data[: at - 4] + struct.pack(">L4s", 10, b"mini") + data[at + 4 : at + 6]

    assert extract(truncated)["status"] == "corrupt"


def _grid_heic() -> bytes:
    """A grid primary image (like an iPhone's) whose colour profile, bit depth and alpha
    plane are its tiles' properties, not the grid's."""
    from hostile_builders import box, full_box, heif

    def infe(item: int, kind: bytes, hidden: bool = False) -> bytes:
        return full_box(b"infe", struct.pack(">HH", item, 0) + kind + b"\x00", 2, int(hidden))

    alpha_urn = b"urn:mpeg:hevc:2015:auxid:1\x00"
    ipco = box(
        b"ipco",
        full_box(b"ispe", struct.pack(">LL", 128, 64))  # 1: the grid's size
        + full_box(b"ispe", struct.pack(">LL", 64, 64))  # 2: a tile's size
        + box(b"colr", b"prof" + srgb_icc())  # 3
        + full_box(b"pixi", bytes([3, 10, 10, 10]))  # 4: three 10-bit channels
        + full_box(b"auxC", alpha_urn),  # 5
    )
    ipma_entries = [(1, [1]), (2, [2, 3, 4]), (3, [2, 3, 4]), (4, [2, 5])]
    ipma = full_box(
        b"ipma",
        struct.pack(">L", len(ipma_entries))
        + b"".join(
            struct.pack(">HB", item, len(props)) + bytes(0x80 | p for p in props)
            for item, props in ipma_entries
        ),
    )
    iref = full_box(
        b"iref",
        box(b"dimg", struct.pack(">HHHH", 1, 2, 2, 3)) + box(b"auxl", struct.pack(">HHH", 4, 1, 2)),
    )
    iinf = full_box(
        b"iinf",
        struct.pack(">H", 4)
        + infe(1, b"grid")
        + infe(2, b"hvc1", True)
        + infe(3, b"hvc1", True)
        + infe(4, b"hvc1", True),
    )
    pitm = full_box(b"pitm", struct.pack(">H", 1))
    return heif([pitm, iinf, iref, box(b"iprp", ipco + ipma)])


def test_a_grid_image_takes_profile_depth_and_alpha_from_its_tiles():
    result = extract(_grid_heic())

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "HEIF", "image/heic")
    assert (result["width"], result["height"], result["frames"]) == (128, 64, 1)
    assert result["icc_profile"] == "sRGB built-in"
    assert (result["mode"], result["has_alpha"], result["bit_depth"]) == ("RGBA", True, 10)
