"""The decode memory budget: what `decoding_bytes` promises, against what a decode holds.

Each case decodes a real image in a forked child (tests/extraction's `measure`,
the peak RSS over the child's start) and checks that the estimate the budget
is checked against covers it, so that an image the budget lets through cannot
take the function past its memory; then that the budget skips what it must.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.pixels import PixelLimits, analyse
from chalicelib.pixels.decode import PREVIEWS_BYTES, open_image, prepare
from chalicelib.settings import Settings

sys.path.append(str(Path(__file__).resolve().parent.parent / "extraction"))
from hostile_resources import measure

MB = 1024 * 1024
SIZE = (2400, 2000)  # 4.8 MP: tens of MB decoded, far above the allocator's noise
FAST = {  # the encoders' fastest settings: the pictures only need their modes and sizes
    "PNG": {"compress_level": 1},
    "WEBP": {"method": 0},
    "AVIF": {"speed": 10},
    "HEIF": {"enc_params": {"preset": "ultrafast"}},
    "JPEG2000": {"num_resolutions": 4},
}


def _encoded(mode: str, fmt: str) -> bytes:
    image = Image.linear_gradient("L").resize(SIZE)
    if mode == "RGBA":
        image = Image.merge("RGBA", (image, image.rotate(90), image, image.point(lambda v: v // 2)))
    elif mode == "P":
        image = image.convert("RGB").quantize(64)
        image.info["transparency"] = 0
    elif mode == "I;16":
        image = image.point(lambda v: v * 257, "I").convert("I;16")
    elif mode != "L":
        image = Image.merge("RGB", (image, image.rotate(90), image)).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **FAST.get(fmt, {}), **({"transparency": 0} if mode == "P" else {}))
    return out.getvalue()


CASES = {
    "RGB PNG": ("RGB", "PNG"),
    "RGBA PNG with alpha": ("RGBA", "PNG"),
    "palette PNG with transparency": ("P", "PNG"),
    "greyscale PNG": ("L", "PNG"),
    "16-bit greyscale PNG": ("I;16", "PNG"),
    "CMYK TIFF": ("CMYK", "TIFF"),
    "RGB JPEG (reduced decode)": ("RGB", "JPEG"),
    "JPEG 2000 (reduced decode)": ("RGB", "JPEG2000"),
    "RGB WebP": ("RGB", "WEBP"),
    "RGBA WebP": ("RGBA", "WEBP"),
    "HEIC": ("RGB", "HEIF"),
    "AVIF": ("RGB", "AVIF"),
}


def estimate(data: bytes) -> int:
    with open_image(io.BytesIO(data), 10**9) as image:
        return prepare(image, 1024)


@pytest.mark.parametrize("name", CASES)
def test_the_estimate_covers_what_a_decode_holds(name: str) -> None:
    data = _encoded(*CASES[name])
    analyse(io.BytesIO(data))  # warm the decoder up in the parent: the child measures the case
    row = measure(lambda: "skipped" if analyse(io.BytesIO(data)).skipped else "ok")
    assert row.get("status") == "ok", row
    promised = estimate(data)
    # The spooled copy of the file is held too (in memory below a few MB).
    assert row["peak_bytes"] <= promised + min(len(data), 8 * MB), (
        row["peak_bytes"] // MB,
        promised // MB,
    )


def test_past_the_budget_an_image_is_skipped_not_decoded() -> None:
    rgba, rgb = _encoded("RGBA", "PNG"), _encoded("RGB", "PNG")
    budget = (estimate(rgba) + estimate(rgb)) // 2  # between the two
    assert estimate(rgb) < budget < estimate(rgba)
    limits = PixelLimits(max_decode_bytes=budget)
    skipped = analyse(io.BytesIO(rgba), limits=limits)
    assert skipped.previews == () and skipped.content_sha256  # read and hashed, not decoded
    assert skipped.skipped.startswith("too big to decode: decoding needs about")
    assert f"{budget >> 20} MiB allowed" in skipped.skipped
    assert analyse(io.BytesIO(rgb), limits=limits).previews  # within it: decoded


def test_a_big_jpeg_decodes_at_reduced_scale_within_a_small_budget() -> None:
    image = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    data = out.getvalue()
    # libjpeg decodes a quarter of each side (1500x1000, still above 1024 px), not 24 MP.
    assert estimate(data) - PREVIEWS_BYTES == 1500 * 1000 * (4 + 1)
    facts = analyse(io.BytesIO(data), limits=PixelLimits(max_decode_bytes=30 * MB))
    assert facts.skipped is None and {p.size for p in facts.previews} == {256, 1024}


def test_the_budget_follows_the_functions_memory() -> None:
    assert Settings.from_env({}).preview_max_decode_mb == 900
    lambda_env = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"}
    assert Settings.from_env(lambda_env).preview_max_decode_mb == 3008 * 60 // 100
    explicit = {**lambda_env, "IMAGES_PREVIEW_MAX_DECODE_MB": "500"}
    assert Settings.from_env(explicit).preview_max_decode_mb == 500
    with pytest.raises(ValueError, match="IMAGES_PREVIEW_MAX_DECODE_MB"):
        Settings.from_env({"IMAGES_PREVIEW_MAX_DECODE_MB": "0"})
