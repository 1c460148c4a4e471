"""GIF and APNG frames and sizes (issue 12): the logical screen, not a frame that overflows
it; a single looping frame is still; APNG frames are acTL's count."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

import pytest
from images import image_bytes, multi_frame
from PIL import Image

from chalicelib.extraction.extract import extract_metadata

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
LOOP = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"


def gif(screen: tuple[int, int], frames: list[tuple[int, int, int, int]], loop: bool) -> bytes:
    """A GIF with a 2-colour global table and 1-colour frames at the given places."""
    head = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    body = LOOP if loop else b""
    for x, y, w, h in frames:
        body += b"\x2c" + struct.pack("<HHHHB", x, y, w, h, 0) + b"\x02\x02\x4c\x01\x00"
    return head + body + b"\x3b"


FILES = {
    "overflowing-frame.gif": gif((10, 10), [(5, 5, 10, 10)], loop=False),
    "single-looping-frame.gif": gif((8, 8), [(0, 0, 8, 8)], loop=True),
    "two-frames.gif": gif((8, 8), [(0, 0, 8, 8), (0, 0, 4, 4)], loop=False),
}


def _apng_with_separate_default_image() -> bytes:
    """Pillow's default_image: the IDAT image is not part of the 3-frame animation."""
    frames = [Image.new("RGBA", (20, 10), (i * 60, 0, 0, 255)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], default_image=True)
    return out.getvalue()


FILES["separate-default-image.png"] = _apng_with_separate_default_image()


def extract(name: str) -> dict:
    return extract_metadata(io.BytesIO(FILES[name]))


def test_the_logical_screen_is_the_size():
    data = FILES["overflowing-frame.gif"]
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (15, 15)  # Pillow grows the size to the overflowing frame

    result = extract("overflowing-frame.gif")

    assert (result["status"], result["width"], result["height"]) == ("ok", 10, 10)


def test_a_single_looping_frame_is_not_animated():
    result = extract("single-looping-frame.gif")

    assert (result["frames"], result["animated"]) == (1, False)
    assert (extract("two-frames.gif")["frames"], extract("two-frames.gif")["animated"]) == (2, True)


def test_apng_frames_are_the_animation_s_frames():
    data = FILES["separate-default-image.png"]
    with Image.open(io.BytesIO(data)) as image:
        assert image.n_frames == 4  # Pillow counts the default image too

    result = extract("separate-default-image.png")

    assert (result["frames"], result["animated"]) == (3, True)


@pytest.mark.parametrize(
    ("mode", "palette"),
    [("L", None), ("P", [255, 0, 0] * 256), ("P", list(range(256)) * 3)],
    ids=["grey", "red", "not-a-ramp"],
)
def test_gif_modes_are_named_as_pillow_names_them(mode, palette):
    image = Image.new(mode, (12, 6))
    if palette:
        image.putpalette(palette)
    out = io.BytesIO()
    image.save(out, "GIF")
    with Image.open(io.BytesIO(out.getvalue())) as opened:
        expected = opened.mode

    assert extract_metadata(io.BytesIO(out.getvalue()))["mode"] == expected


def test_a_transparent_gif_has_alpha():
    data = image_bytes("GIF", (8, 8), mode="L", transparency=0)

    assert extract_metadata(io.BytesIO(data))["has_alpha"] is True
    assert extract_metadata(io.BytesIO(image_bytes("GIF", (8, 8), mode="L")))["has_alpha"] is False


@pytest.fixture(scope="module")
def exiftool(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("frames")
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    output = subprocess.run(
        [EXIFTOOL, "-n", "-j", "-G1", "-q", str(folder)], check=True, capture_output=True
    ).stdout
    return {e["SourceFile"].rsplit("/", 1)[-1]: e for e in json.loads(output)}


def test_exiftool_agrees(exiftool):
    screen = exiftool["overflowing-frame.gif"]
    assert (screen["GIF:ImageWidth"], screen["GIF:ImageHeight"]) == (10, 10)
    looping = exiftool["single-looping-frame.gif"]
    # A looping extension (AnimationIterations) on one frame: ExifTool counts no frames
    # past the first (it reports FrameCount only above 1).
    assert "GIF:AnimationIterations" in looping and "GIF:FrameCount" not in looping
    assert exiftool["two-frames.gif"]["GIF:FrameCount"] == 2
    assert exiftool["separate-default-image.png"]["PNG:AnimationFrames"] == 3
    multi = multi_frame("PNG", frames=5)
    assert extract_metadata(io.BytesIO(multi))["frames"] == 5
