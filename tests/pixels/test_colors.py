"""Average and dominant colours on flat, two-colour and transparent pictures."""

from __future__ import annotations

import io

from PIL import Image
from scenes import encode, scene

from chalicelib.pixels import analyse
from chalicelib.pixels.colors import average_color, dominant_colors


def test_a_flat_picture_has_one_dominant_colour():
    facts = analyse(io.BytesIO(encode(Image.new("RGB", (400, 300), (12, 200, 99)), "PNG")))

    assert facts.average_color == "#0cc863"
    assert facts.dominant_colors == (("#0cc863", 1.0),)


def test_two_colours_split_the_shares():
    picture = Image.new("RGB", (400, 300), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 100, 300))  # a quarter blue

    facts = analyse(io.BytesIO(encode(picture, "PNG")))

    colors = dict(facts.dominant_colors)
    assert set(colors) == {"#ff0000", "#0000ff"}
    assert abs(colors["#ff0000"] - 0.75) < 0.02 and abs(colors["#0000ff"] - 0.25) < 0.02
    assert facts.average_color == "#bf0040"  # (0.75 * 255, 0, 0.25 * 255)


def test_at_most_five_colours_whose_shares_sum_to_at_most_one():
    facts = analyse(io.BytesIO(encode(scene(3), "JPEG")))

    assert len(facts.dominant_colors) == 5
    shares = [share for _, share in facts.dominant_colors]
    assert shares == sorted(shares, reverse=True)
    assert 0.98 <= sum(shares) <= 1
    assert all(color.startswith("#") and len(color) == 7 for color, _ in facts.dominant_colors)


def test_transparent_pixels_do_not_count():
    picture = Image.new("RGBA", (100, 100), (0, 255, 0, 0))
    picture.paste((255, 0, 0, 255), (0, 0, 50, 100))

    assert average_color(picture) == "#ff0000"
    assert dominant_colors(picture) == (("#ff0000", 0.5),)


def test_a_fully_transparent_picture_has_no_average():
    picture = Image.new("RGBA", (10, 10), (0, 0, 0, 0))

    assert average_color(picture) is None
    assert dominant_colors(picture) == ()
