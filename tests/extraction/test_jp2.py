"""JPEG 2000 headers read by us (issue 12): dpi from `resc`/`resd`, MIME types for JPX and
raw codestreams, XMP, and Pillow's mode names."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from images import image_bytes, jp2_with_resolution, xmp_packet
from PIL import Image

from chalicelib.extraction.extract import extract_metadata

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"

# name -> (file, mime type, dpi)
FILES = {
    "capture.jp2": (
        jp2_with_resolution(capture=(11811, 1, 11811, 1, 0, 0)),
        "image/jp2",
        [300, 300],
    ),
    "display-only.jp2": (
        jp2_with_resolution(display=(5906, 1, 11811, 1, 0, 0)),
        "image/jp2",
        [300, 150.01],
    ),
    "negative-exponent.jp2": (
        jp2_with_resolution(capture=(11811, 1, 23622, 1, -1, -1)),
        "image/jp2",
        [60, 30],
    ),
    "jpx-with-xmp.jpx": (jp2_with_resolution(brand=b"jpx ", xmp=xmp_packet()), "image/jpx", None),
    "codestream.j2c": (image_bytes("JPEG2000", (16, 16), no_jp2=True), "image/x-j2c", None),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_jpeg2000_mime_type_and_dpi(name):
    data, mime, dpi = FILES[name]

    result = extract_metadata(io.BytesIO(data))

    assert (result["status"], result["format"], result["mime_type"]) == ("ok", "JPEG2000", mime)
    assert result["dpi"] == dpi


def test_jpx_xmp_is_read():
    result = extract_metadata(io.BytesIO(FILES["jpx-with-xmp.jpx"][0]))

    assert result["xmp"]["title"] == "Tour Eiffel at dawn"


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "I;16"])
@pytest.mark.parametrize("codestream", [False, True], ids=["jp2", "j2k"])
def test_modes_and_sizes_are_pillows(mode, codestream):
    out = io.BytesIO()
    Image.new(mode, (20, 12)).save(out, "JPEG2000", no_jp2=codestream)
    with Image.open(io.BytesIO(out.getvalue())) as image:
        expected = image.size, image.mode

    result = extract_metadata(io.BytesIO(out.getvalue()))

    assert ((result["width"], result["height"]), result["mode"]) == expected


@pytest.fixture(scope="module")
def exiftool(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("jp2")
    for name, (data, _, _) in FILES.items():
        (folder / name).write_bytes(data)
    output = subprocess.run(
        [EXIFTOOL, "-n", "-j", "-G1", "-q", str(folder)], check=True, capture_output=True
    ).stdout
    return {e["SourceFile"].rsplit("/", 1)[-1]: e for e in json.loads(output)}


@pytest.mark.parametrize("name", sorted(FILES))
def test_exiftool_agrees(exiftool, name):
    """ExifTool gives the resolution as num/den and the exponent as its "unit" (-n)."""
    _, mime, dpi = FILES[name]
    theirs = exiftool[name]
    assert theirs["File:MIMEType"] == mime
    assert theirs["Composite:ImageSize"] == "16 16"
    for kind in ("Capture", "Display"):
        if f"Jpeg2000:{kind}XResolution" in theirs and dpi is not None:
            x = (
                theirs[f"Jpeg2000:{kind}XResolution"]
                * 10.0 ** theirs[f"Jpeg2000:{kind}XResolutionUnit"]
            )
            y = (
                theirs[f"Jpeg2000:{kind}YResolution"]
                * 10.0 ** theirs[f"Jpeg2000:{kind}YResolutionUnit"]
            )
            assert dpi == [round(x * 0.0254, 2), round(y * 0.0254, 2)]
            break
    else:
        assert dpi is None
