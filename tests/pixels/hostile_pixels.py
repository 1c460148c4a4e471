"""Peak memory and CPU of the pixels stage on each hostile file, each in a forked child.

Reuses the extraction corpus and its measurement (tests/extraction): the
parent builds the corpus and warms the decoders up, then forks once per case.
Besides the increase over the child's starting RSS (what the case costs),
each row has the child's absolute peak RSS (VmHWM: the interpreter, Pillow
and the corpus included), which is what a Lambda's memory setting must cover.

Run directly to print one JSON object per case (test_hostile_pixels.py does):

    .venv/bin/python tests/pixels/hostile_pixels.py [case-id ...]
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent.parent, HERE.parent, HERE.parent / "extraction", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from hostile_corpus import HOSTILE  # noqa: E402
from hostile_resources import _status_bytes, measure  # noqa: E402

from chalicelib.pixels import analyse  # noqa: E402


def outcome(data: bytes) -> str:
    facts = analyse(io.BytesIO(data))
    hwm = _status_bytes("VmHWM")
    kind = "skipped" if facts.skipped else "error" if facts.error else "ok"
    return json.dumps({"outcome": kind, "absolute_peak_bytes": hwm})


def warm_up() -> None:
    from scenes import encode, scene

    for fmt in ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "HEIF", "AVIF"):
        analyse(io.BytesIO(encode(scene(0, (64, 48)), fmt)))


def main(argv: list[str]) -> None:
    warm_up()
    for name, data, _ in HOSTILE:
        if argv and name not in argv:
            continue
        row = measure(lambda data=data: outcome(data))
        if "status" in row:
            row.update(json.loads(row.pop("status")))
        print(json.dumps({"id": name, **row}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
