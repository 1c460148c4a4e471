"""Format-specific facts: HEIF/AVIF transforms and alpha, frame counts, sniffing of ISO brands.

The decoders (libheif through pillow-heif, Pillow) are used here only as the
reference for what a viewer shows; extraction itself never decodes.
"""

from __future__ import annotations

import io

import pillow_heif
import pytest
from images import (
    image_bytes,
    multi_frame,
    rich_avif,
    rich_heif,
    rich_jpeg,
    xmp_packet,
)
from PIL import Image, ImageOps

from chalicelib.extraction.extract import extract_metadata


def _marked(size: tuple[int, int]) -> Image.Image:
    """Black with a red top-left square: where it ends up tells the transform."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    return image


def _red_corner(image: Image.Image) -> tuple[tuple[int, int], tuple[bool, ...]]:
    rgb = image.convert("RGB")
    w, h = rgb.size
    corners = [(4, 4), (w - 5, 4), (4, h - 5), (w - 5, h - 5)]
    return rgb.size, tuple(rgb.getpixel(c)[0] > 128 for c in corners)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heif_orientation_matches_what_libheif_displays(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    # pillow-heif turns the EXIF orientation into irot/imir boxes.
    pillow_heif.from_pillow(_marked((64, 48))).save(out, quality=90, exif=exif.tobytes())
    data = out.getvalue()

    result = extract_metadata(io.BytesIO(data))
    shown = pillow_heif.open_heif(io.BytesIO(data)).to_pillow()
    tagged = _marked((64, 48))
    tagged.getexif()[0x0112] = orientation

    assert result["orientation"] == orientation
    assert (result["width"], result["height"]) == (64, 48)
    assert (result["display_width"], result["display_height"]) == shown.size
    # The reference: libheif shows what an EXIF-aware viewer shows for this orientation.
    assert _red_corner(shown) == _red_corner(ImageOps.exif_transpose(tagged))


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_avif_orientation(orientation):
    result = extract_metadata(io.BytesIO(rich_avif((40, 20), orientation=orientation)))

    assert result["orientation"] == orientation
    turned = orientation in (6, 8)
    assert (result["display_width"], result["display_height"]) == ((20, 40) if turned else (40, 20))


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda: rich_heif((48, 32)), "RGB"),
        (lambda: rich_heif((48, 32), mode="RGBA"), "RGBA"),
        (lambda: rich_avif((48, 32), mode="RGBA"), "RGBA"),
    ],
)
def test_heif_size_mode_and_count_equal_the_decoder(make, mode):
    data = make()

    result = extract_metadata(io.BytesIO(data))

    reference = pillow_heif.open_heif(io.BytesIO(data)) if data[8:12] == b"heic" else None
    if reference is not None:
        assert (result["width"], result["height"]) == reference.size
        assert result["frames"] == len(reference)
    else:
        with Image.open(io.BytesIO(data)) as image:
            assert (result["width"], result["height"]) == image.size
    assert result["mode"] == mode
    assert (result["frames"], result["animated"]) == (1, False)


def test_heif_with_several_top_level_images_and_a_thumbnail():
    images = [_marked((32, 32)), _marked((48, 40))]
    heif = pillow_heif.from_pillow(images[0])
    heif.add_from_pillow(images[1]).info["thumbnails"] = [16]
    out = io.BytesIO()
    heif.save(out, quality=80, primary_index=1)
    data = out.getvalue()

    result = extract_metadata(io.BytesIO(data))
    reference = pillow_heif.open_heif(io.BytesIO(data))

    assert (result["width"], result["height"]) == reference.size == (48, 40)
    assert result["frames"] == len(reference) == 2


def test_heif_metadata_items_are_found_wherever_they_are():
    result = extract_metadata(io.BytesIO(rich_heif()))

    assert result["exif"]["Model"] == "Acme X100"
    assert result["xmp"]["keywords"] == ["paris", "tower", "morning"]
    assert result["taken_at"] == "2024-05-17T10:30:15.250+02:00"


def test_generic_heif_brand_with_avif_compatibility_is_avif():
    data = bytearray(rich_avif())
    assert data[8:12] == b"avif"
    data[8:12] = b"mif1"  # the major brand says only "some HEIF"

    result = extract_metadata(io.BytesIO(bytes(data)))

    assert (result["format"], result["mime_type"]) == ("AVIF", "image/avif")


@pytest.mark.parametrize(
    ("make", "frames", "animated"),
    [
        (lambda: multi_frame("GIF", frames=4, loop=0), 4, True),
        (lambda: image_bytes("GIF"), 1, False),
        (lambda: multi_frame("GIF", frames=2), 2, True),  # no looping extension
        (lambda: multi_frame("PNG", frames=5), 5, True),
        (lambda: image_bytes("PNG"), 1, False),
        (lambda: multi_frame("WEBP", frames=3), 3, True),
        (lambda: image_bytes("WEBP"), 1, False),
        (lambda: multi_frame("MPO", frames=2), 2, False),
        (lambda: multi_frame("TIFF", frames=2), None, False),  # counting walks every page
        (lambda: image_bytes("TIFF"), 1, False),
        (rich_jpeg, 1, False),
    ],
)
def test_frames_and_animation(make, frames, animated):
    result = extract_metadata(io.BytesIO(make()))

    assert (result["frames"], result["animated"]) == (frames, animated)


def test_gif_frames_beyond_the_window_are_unknown_but_animation_is_not():
    big = multi_frame("GIF", (600, 600), 3, loop=0)
    no_loop = multi_frame("GIF", (600, 600), 3)
    single = image_bytes("GIF", (700, 700), mode="L")
    assert min(len(big), len(no_loop), len(single)) > 256 * 1024

    assert (
        extract_metadata(io.BytesIO(big))["frames"],
        extract_metadata(io.BytesIO(big))["animated"],
    ) == (None, True)
    # Neither a looping extension nor a second frame within the window: the
    # count is unknown, and `animated` (a bool) says only what the header proves.
    for data in (no_loop, single):
        result = extract_metadata(io.BytesIO(data))
        assert (result["frames"], result["animated"]) == (None, False)


def test_webp_exif_orientation_and_xmp():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = image_bytes("WEBP", (40, 20), exif=exif.tobytes(), xmp=xmp_packet())

    result = extract_metadata(io.BytesIO(data))

    assert result["orientation"] == 6
    assert (result["display_width"], result["display_height"]) == (20, 40)
    assert result["xmp"]["rating"] == 4


def test_png_raw_profiles_written_by_imagemagick():
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x010F] = "Magick"
    blob = exif.tobytes()  # "Exif\0\0" and the TIFF structure, as ImageMagick stores it
    info = PngImagePlugin.PngInfo()
    text = blob.hex()
    info.add_text(
        "Raw profile type exif",
        f"\nexif\n{len(blob):8d}\n" + "\n".join(text[i : i + 72] for i in range(0, len(text), 72)),
    )

    result = extract_metadata(io.BytesIO(image_bytes("PNG", pnginfo=info)))

    assert result["camera"]["make"] == "Magick"


def test_stored_orientation_of_a_tiff_is_not_swapped():
    exif = Image.Exif()
    exif[0x0112] = 8
    result = extract_metadata(io.BytesIO(image_bytes("TIFF", (40, 20), exif=exif.tobytes())))

    assert (result["width"], result["height"], result["orientation"]) == (40, 20, 8)
    assert (result["display_width"], result["display_height"]) == (20, 40)
