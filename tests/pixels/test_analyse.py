"""The pixels core through its public entry point: bytes in, PixelFacts out."""

from __future__ import annotations

import hashlib
import io

import pytest
from images import camera_jpeg, image_bytes, png_with_declared_size
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
    data = camera_jpeg((3000, 2000), make="Cam")
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


def test_pillows_bomb_guard_stays_on():
    analyse(io.BytesIO(flat("PNG")))

    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > 0
