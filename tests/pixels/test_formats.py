"""Every format the metadata path reads and Pillow/pillow-heif decode, through analyse()."""

from __future__ import annotations

import io

import pytest
from images import png_with_alpha
from PIL import Image, ImageOps, features
from scenes import encode, marked, red_corners, scene

from chalicelib.pixels import analyse

LOSSY = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "AVIF": {"quality": 90}}
FORMATS = ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "ICO", "HEIF", "AVIF", "JPEG2000"]


def preview_image(data: bytes, size: int = 1024) -> Image.Image:
    facts = analyse(io.BytesIO(data))
    assert facts.error is None and facts.skipped is None, facts
    (preview,) = [p for p in facts.previews if p.size == size]
    return Image.open(io.BytesIO(preview.data))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gets_previews_and_hashes(fmt):
    if fmt == "JPEG2000" and not features.check("jpg_2000"):
        pytest.skip("this Pillow has no OpenJPEG")  # see the clean-error test below
    source = scene(1, (1500, 1000)) if fmt != "ICO" else scene(1, (256, 256))
    facts = analyse(io.BytesIO(encode(source, fmt, **LOSSY.get(fmt, {}))))

    assert facts.error is None and facts.skipped is None
    sizes = {p.size: (p.width, p.height) for p in facts.previews}
    if fmt == "ICO":
        assert sizes == {256: (256, 256), 1024: (256, 256)}
    else:
        assert sizes == {256: (256, 171), 1024: (1024, 683)}
    assert facts.average_color and facts.phash and facts.placeholder
    assert len(facts.dominant_colors) == 5


def test_without_openjpeg_a_jpeg2000_is_a_clean_error(monkeypatch):
    from PIL import Jpeg2KImagePlugin

    data = encode(scene(1, (300, 200)), "JPEG2000")

    def no_decoder(*args, **kwargs):
        raise OSError("decoder jpeg2k not available")

    monkeypatch.setattr(Jpeg2KImagePlugin.Jpeg2KImageFile, "load", no_decoder)
    facts = analyse(io.BytesIO(data))

    assert facts.error == "cannot decode: OSError: decoder jpeg2k not available"
    assert facts.content_sha256 and facts.previews == ()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_once(fmt, orientation):
    raw = marked()
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(raw, fmt, exif=exif.tobytes(), **LOSSY.get(fmt, {}))
    reference = raw.copy()
    reference.info["exif"] = exif.tobytes()
    expected = ImageOps.exif_transpose(reference)  # what a viewer shows

    shown = preview_image(data)

    assert shown.size == expected.size
    assert red_corners(shown) == red_corners(expected) and len(red_corners(expected)) == 1


def test_heif_rotation_boxes_are_applied():
    """pillow-heif writes the orientation as irot/imir boxes, and applies them on decode."""
    exif = Image.Exif()
    exif[0x0112] = 6  # 90 degrees clockwise
    data = encode(marked(), "HEIF", exif=exif.tobytes())
    assert b"irot" in data

    shown = preview_image(data)

    assert shown.size == (80, 120) and red_corners(shown) == ["tr"]


@pytest.mark.parametrize(
    ("mode", "color"),
    [("CMYK", (0, 255, 255, 0)), ("I;16", 65535 // 2), ("I", 40000), ("F", 0.5), ("1", 1)],
)
def test_odd_modes_become_8bit_rgb(mode, color):
    fmt = "JPEG" if mode == "CMYK" else "TIFF"
    data = encode(Image.new(mode, (50, 40), color), fmt)
    facts = analyse(io.BytesIO(data))

    assert facts.error is None, facts.error
    shown = Image.open(io.BytesIO(facts.previews[0].data))
    assert shown.mode == "RGB"
    expected = {"CMYK": "#ff0000", "I;16": "#7f7f7f", "I": "#9b9b9b", "F": "#000000"}
    assert facts.average_color == expected.get(mode, "#ffffff")


def test_sixteen_bit_png_is_scaled_not_clipped():
    ramp = Image.linear_gradient("L").resize((64, 256)).convert("I")  # black at the top
    wide = ramp.point(lambda v: v * 257)  # 0..65535
    data = encode(wide.convert("I;16"), "PNG")

    facts = analyse(io.BytesIO(data))

    shown = Image.open(io.BytesIO(facts.previews[0].data)).convert("L")
    assert shown.getpixel((0, 10)) < 30 and shown.getpixel((0, 245)) > 225


def test_palette_transparency_and_alpha_are_kept():
    paletted = Image.new("P", (40, 40), 0)
    paletted.putpalette([255, 0, 0, 0, 0, 255])
    paletted.paste(1, (0, 0, 20, 40))
    for data in (encode(paletted, "GIF", transparency=1), encode(paletted, "PNG", transparency=1)):
        shown = preview_image(data, 256)
        assert shown.mode == "RGBA"
        red, green, blue, alpha = shown.getpixel((35, 20))  # lossy WebP: nearly red
        assert shown.getpixel((5, 20))[3] == 0 and alpha == 255
        assert red > 245 and green < 10 and blue < 10


def test_alpha_survives_into_webp_and_opaque_alpha_is_dropped():
    assert preview_image(png_with_alpha((64, 48))).mode == "RGBA"
    opaque = Image.new("RGBA", (64, 48), (10, 20, 30, 255))

    assert preview_image(encode(opaque, "PNG")).mode == "RGB"


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_shows_its_first_frame(fmt):
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "lime", "blue")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], lossless=True)
    with Image.open(io.BytesIO(data)) as opened:
        assert getattr(opened, "n_frames", 1) == 3

    facts = analyse(io.BytesIO(data))

    assert facts.average_color == "#ff0000"
    assert [(p.width, p.height) for p in facts.previews] == [(40, 30), (40, 30)]
