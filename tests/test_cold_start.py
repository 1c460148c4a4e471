"""Cold start: `import app` and reading every format import only the Pillow plugins used.

`Image.init()` (or an `Image.open` without `formats=`) imports all of
Pillow's ~45 plugins, about 50 ms of every Lambda cold start; the time
itself is measured by bench/bench_coldstart.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from images import animated_gif, image_bytes, png_with_alpha, rich_jpeg, rich_tiff, rich_webp

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import io, json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
import app
from PIL import Image
from chalicelib.extraction.extract import extract_metadata
files = sorted(Path({folder!r}).iterdir())
statuses = [extract_metadata(io.BytesIO(path.read_bytes()))["status"] for path in files]
plugins = sorted(m[4:] for m in sys.modules if m.startswith("PIL.") and m.endswith("ImagePlugin"))
print(json.dumps({{"statuses": statuses, "plugins": plugins, "initialized": Image._initialized}}))
"""


def test_only_the_plugins_the_service_reads_with_are_imported(tmp_path: Path) -> None:
    samples = [rich_jpeg(), png_with_alpha(), animated_gif(), rich_tiff(), rich_webp()]
    samples += [image_bytes("BMP"), image_bytes("JPEG2000"), b"plain text"]
    for number, data in enumerate(samples):
        (tmp_path / f"{number}").write_bytes(data)
    code = CHILD.format(root=str(ROOT), folder=str(tmp_path))
    env = {"IMAGES_BUCKET": "b", "IMAGES_TABLE": "t", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    found = json.loads(result.stdout)
    assert found["statuses"] == ["ok"] * 7 + ["unsupported"]
    assert found["initialized"] < 2, "Image.init() ran: every Pillow plugin was imported"
    # What pillow.py reads with (GIF, JPEG 2000), and the five Image.open always imports.
    expected = {"Gif", "Jpeg2K"} | {"Bmp", "Gif", "Jpeg", "Ppm", "Png"}
    assert {p.removesuffix("ImagePlugin") for p in found["plugins"]} <= expected, found["plugins"]
