"""Cold start: `import app` and reading every format never import Pillow.

The extraction reads every format itself. Pillow (its import, and above all
`Image.init()`, which imports all of its ~45 plugins) costs about 50 ms of
every Lambda cold start; bench/bench_coldstart.py measures it.
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
from chalicelib.extraction.extract import extract_metadata
files = sorted(Path({folder!r}).iterdir())
statuses = [extract_metadata(io.BytesIO(path.read_bytes()))["status"] for path in files]
pillow = sorted(m for m in sys.modules if m == "PIL" or m.startswith("PIL."))
print(json.dumps({{"statuses": statuses, "pillow": pillow}}))
"""


def test_importing_the_app_and_reading_every_format_never_imports_pillow(tmp_path: Path) -> None:
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
    assert found["pillow"] == []
