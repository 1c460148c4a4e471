"""pHash (near duplicates), its bands, and ThumbHash placeholders decoded as a page would."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image
from scenes import encode, scene
from thumbhash_decode import average_rgba, decode

from chalicelib.pixels import analyse, phash_bands, phash_distance
from chalicelib.pixels.phash import phash
from chalicelib.pixels.thumbhash import thumbhash

SEEDS = range(4)


def hash_of(data: bytes) -> str:
    facts = analyse(io.BytesIO(data))
    assert facts.error is None
    return facts.phash


@pytest.mark.parametrize("seed", SEEDS)
def test_phash_sees_copies_and_not_strangers(seed):
    picture = scene(seed, (900, 600))
    original = hash_of(encode(picture, "JPEG", quality=95))

    # measured over these seeds: 0-2 for a re-encode, 0 for the resize, 26-34 for the others
    assert phash_distance(original, hash_of(encode(picture, "JPEG", quality=60))) <= 2
    assert phash_distance(original, hash_of(encode(picture, "WEBP", quality=50))) <= 2
    smaller = picture.resize((450, 300), Image.Resampling.LANCZOS)
    assert phash_distance(original, hash_of(encode(smaller, "PNG"))) <= 4
    stranger = hash_of(encode(scene(seed + 100, (900, 600)), "JPEG", quality=95))
    assert phash_distance(original, stranger) >= 20


def test_the_same_pixels_hash_the_same():
    data = encode(scene(7), "PNG")
    assert hash_of(data) == hash_of(data)
    assert hash_of(data) == phash(Image.open(io.BytesIO(data)).resize((256, 171)))


def test_phash_distance_counts_bits():
    assert phash_distance("0" * 16, "0" * 16) == 0
    assert phash_distance("0" * 16, "f" * 16) == 64
    assert phash_distance("8000000000000001", "0000000000000000") == 2
    with pytest.raises(ValueError):
        phash_distance("abc", "0" * 16)


def test_bands_are_positional_slices():
    assert phash_bands("0123456789abcdef") == ("0:0123", "1:4567", "2:89ab", "3:cdef")
    assert phash_bands("0123456789ABCDEF", 2) == ("0:01234567", "1:89abcdef")
    with pytest.raises(ValueError):
        phash_bands("0123456789abcdef", 3)


def test_hashes_within_three_bits_share_a_band():
    """The pigeonhole guarantee the duplicates index relies on, checked exhaustively
    for every way of flipping up to three bits of one hash."""
    base = int("5a5a5a5a5a5a5a5a", 16)
    origin = set(phash_bands(f"{base:016x}"))
    for flips in itertools.chain.from_iterable(
        itertools.combinations(range(64), n) for n in (1, 2, 3)
    ):
        other = base
        for bit in flips:
            other ^= 1 << bit
        assert origin & set(phash_bands(f"{other:016x}"))
    four_apart = base ^ 1 ^ (1 << 16) ^ (1 << 32) ^ (1 << 48)
    assert not origin & set(phash_bands(f"{four_apart:016x}"))


@pytest.mark.parametrize(
    "color", [(200, 40, 90), (0, 0, 0), (255, 255, 255), (30, 160, 250), (250, 200, 0)]
)
def test_a_placeholder_decodes_to_the_average_colour(color):
    facts = analyse(io.BytesIO(encode(Image.new("RGB", (300, 200), color), "PNG")))

    decoded = [round(255 * c) for c in average_rgba(facts.placeholder)]
    assert all(abs(a - b) <= 6 for a, b in zip(decoded[:3], color, strict=True)), decoded
    assert decoded[3] == 255
    width, height, pixels = decode(facts.placeholder)
    assert width > height  # landscape kept
    for channel, expected in enumerate(color):  # the whole decoded placeholder, not just its DC
        assert abs(sum(p[channel] for p in pixels) / len(pixels) - expected) <= 6


def test_a_placeholder_keeps_the_layout():
    picture = Image.new("RGB", (200, 100), (255, 0, 0))
    picture.paste((0, 0, 255), (100, 0, 200, 100))

    width, height, pixels = decode(thumbhash(picture))

    left, right = pixels[height // 2 * width + 2], pixels[height // 2 * width + width - 3]
    assert left[0] > 200 and left[2] < 60
    assert right[2] > 200 and right[0] < 60


def test_a_placeholder_keeps_transparency():
    picture = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    picture.paste((0, 200, 0, 255), (25, 25, 75, 75))

    width, height, pixels = decode(thumbhash(picture))

    assert pixels[0][3] < 40 and pixels[height // 2 * width + width // 2][3] > 200
    assert abs(pixels[height // 2 * width + width // 2][1] - 200) <= 12
