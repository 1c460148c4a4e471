"""The pixels core through its public entry point: bytes in, PixelFacts out."""

from __future__ import annotations

import hashlib
import io

import pytest
from images import camera_jpeg, image_bytes, multi_frame, png_with_declared_size
from PIL import Image

from chalicelib.pixels import PREVIEW_SIZES, PixelFacts, PixelLimits, analyse


def flat(fmt: str, size=(300, 200), color=(200, 40, 90), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def previews(facts: PixelFacts) -> dict[int, Image.Image]:
    found = {}
    for preview in facts.previews:
        assert preview.media_type == "image/webp"
        image = Image.open(io.BytesIO(preview.data))
        assert image.format == "WEBP"
        assert image.size == (preview.width, preview.height)
        found[preview.size] = image
    return found


def test_a_camera_jpeg_gets_both_previews_on_the_long_edge():
    data = camera_jpeg((2400, 1600), make="Cam")
    facts = analyse(io.BytesIO(data), size_hint=len(data))

    assert facts.error is None and facts.skipped is None
    assert [p.size for p in facts.previews] == list(PREVIEW_SIZES) == [256, 1024]
    assert {s: i.size for s, i in previews(facts).items()} == {256: (256, 171), 1024: (1024, 683)}
    assert facts.content_sha256 == hashlib.sha256(data).hexdigest()


def test_a_small_image_is_not_upscaled():
    facts = analyse(io.BytesIO(image_bytes("PNG", (200, 120))))

    assert [(p.size, p.width, p.height) for p in facts.previews] == [
        (256, 200, 120),
        (1024, 200, 120),
    ]


def test_a_flat_image_has_its_colour_as_average():
    facts = analyse(io.BytesIO(flat("PNG")))

    assert facts.average_color == "#c8285a"
    assert facts.phash is not None and len(facts.phash) == 16
    int(facts.phash, 16)


def test_a_truncated_jpeg_is_an_error_not_an_exception():
    data = camera_jpeg((640, 480))
    facts = analyse(io.BytesIO(data[: len(data) // 2]))

    assert facts.error and "truncated" in facts.error
    assert facts.previews == () and facts.phash is None
    assert facts.content_sha256 == hashlib.sha256(data[: len(data) // 2]).hexdigest()


@pytest.mark.parametrize("data", [b"", b"garbage" * 100, b"\xff\xd8\xff" + bytes(50)])
def test_garbage_is_an_error(data):
    facts = analyse(io.BytesIO(data))

    assert facts.error and facts.skipped is None
    assert facts.previews == () and facts.average_color is None


def test_an_object_over_the_byte_limit_is_skipped_without_reading():
    class Unreadable(io.RawIOBase):
        def read(self, size=-1):
            raise AssertionError("read")

    facts = analyse(Unreadable(), size_hint=101, limits=PixelLimits(max_bytes=100))

    assert facts.skipped and facts.content_sha256 is None and facts.error is None


def test_reading_stops_at_the_byte_limit():
    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            chunk = super().read(size)
            Counting.consumed += len(chunk)
            return chunk

    stream = Counting(bytes(10 * 1024 * 1024))
    facts = analyse(stream, limits=PixelLimits(max_bytes=1024 * 1024))

    assert facts.skipped and facts.content_sha256 is None
    assert Counting.consumed <= 2 * 1024 * 1024 + 1


def test_an_image_over_the_pixel_limit_is_skipped_before_decoding():
    data = png_with_declared_size(30_000, 30_000)  # 900 MP declared, a few bytes of data
    facts = analyse(io.BytesIO(data))

    assert facts.skipped and "pixels" in facts.skipped
    assert facts.content_sha256 == hashlib.sha256(data).hexdigest()
    assert facts.previews == ()


def test_the_pixel_limit_is_the_callers():
    data = image_bytes("PNG", (100, 100))

    assert analyse(io.BytesIO(data), limits=PixelLimits(max_pixels=9_999)).skipped
    assert analyse(io.BytesIO(data), limits=PixelLimits(max_pixels=10_000)).skipped is None


def test_pillows_bomb_guard_stays_on_above_our_limit():
    data = png_with_declared_size(30_000, 30_000)  # 900 MP: past twice Pillow's default
    facts = analyse(io.BytesIO(data), limits=PixelLimits(max_pixels=10**12))

    assert facts.skipped and "decompression bomb" in facts.skipped
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > 0


def test_a_big_object_is_spooled_to_disk_and_hashed_on_the_way():
    from chalicelib.pixels.read import SPOOL_IN_MEMORY, spool

    data = bytes(range(256)) * (SPOOL_IN_MEMORY // 256 + 4096)
    spooled, sha256 = spool(io.BytesIO(data), max_bytes=len(data))
    with spooled:
        assert spooled._rolled  # past SPOOL_IN_MEMORY the copy lives in a temporary file
        assert spooled.read() == data
    assert sha256 == hashlib.sha256(data).hexdigest()
    small, _ = spool(io.BytesIO(b"abc"), max_bytes=3)
    assert not small._rolled


def test_a_jpeg_decodes_at_the_smallest_dct_scale_that_serves_1024():
    from chalicelib.pixels.decode import decode, open_image

    for size, decoded in (((2400, 1600), (1200, 800)), ((5000, 3000), (1250, 750))):
        with open_image(io.BytesIO(flat("JPEG", size)), 10**9) as image:
            preview = decode(image, 1024)
            assert image.size == decoded  # draft mode: 1/2 and 1/4 of the pixels computed
        assert max(preview.size) == 1024


def test_a_multi_picture_jpeg_decodes_its_first_picture_in_draft_mode():
    from chalicelib.pixels.decode import decode, open_image

    data = multi_frame("MPO", size=(2400, 1600), frames=2, quality=80)
    with open_image(io.BytesIO(data), 10**9) as image:
        assert image.format == "MPO"
        preview = decode(image, 1024)
        assert image.size == (1200, 800)
    assert preview.size == (1024, 683)


@pytest.mark.parametrize(("resolutions", "decoded"), [(6, (1200, 800)), (1, (2400, 1600))])
def test_a_jpeg2000_decodes_a_lower_resolution_level_when_it_has_one(resolutions, decoded):
    from chalicelib.pixels.decode import decode, open_image

    data = flat("JPEG2000", (2400, 1600), num_resolutions=resolutions)
    with open_image(io.BytesIO(data), 10**9) as image:
        preview = decode(image, 1024)
        assert image.size == decoded  # a single-level codestream is decoded in full
    assert preview.size == (1024, 683)
    assert analyse(io.BytesIO(data)).average_color == "#c8285a"
