"""Hostile-input benchmark: peak memory and CPU of extraction per hostile file.

Every case of the hostile corpus (tests/extraction/hostile_corpus.py) runs in
its own forked child (tests/extraction/hostile_resources.py measures the peak
resident set and the CPU time), side by side with the baseline the service
used before its own header readers: Pillow's `Image.open` (header parse plus
the info dict) on the same bytes, for the files Pillow accepts to open. The
bound is issue 10's: at most 128 MB more memory and 2 s of CPU per file.

Run: .venv/bin/python bench/bench_hostile.py [case-id ...]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "extraction")]

from hostile_corpus import HOSTILE  # noqa: E402
from hostile_resources import (  # noqa: E402
    MAX_CPU_SECONDS,
    MAX_PEAK_BYTES,
    extraction,
    measure,
    warm_up,
)
from PIL import Image  # noqa: E402

MB = 1024 * 1024


def pillow_open(data: bytes):
    """The baseline: what `Image.open` costs on the same bytes (header only, no decode)."""
    Image.MAX_IMAGE_PIXELS = None  # as the service configured Pillow: headers of any size

    def run() -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with Image.open(io.BytesIO(data)) as image:
                    _ = image.size, image.mode, dict(image.info)
            except Exception as error:  # noqa: BLE001 - the baseline's verdict
                return type(error).__name__
        return "opened"

    return run


def _cell(row: dict) -> tuple[str, str]:
    if "error" in row:
        return "died", "-"
    return f"{row['peak_bytes'] / MB:.1f}", f"{row['cpu_seconds'] * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case ids (default: the whole corpus)")
    args = parser.parse_args()
    started = time.process_time()
    sum(range(10**7))
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs;"
        f" calibration: sum(range(10**7)) takes {time.process_time() - started:.2f} s CPU"
    )
    warm_up()
    pillow_open(b"")()  # import Pillow's plugins before any child is forked
    headers = ["case", "status", "peak MB", "CPU ms", "within bound", "Pillow open", "MB", "ms"]
    rows = []
    over = 0
    for name, data, _expected in HOSTILE:
        if args.cases and name not in args.cases:
            continue
        ours, theirs = measure(extraction(data)), measure(pillow_open(data))
        within = (
            "error" not in ours
            and ours["peak_bytes"] <= MAX_PEAK_BYTES
            and ours["cpu_seconds"] <= MAX_CPU_SECONDS
        )
        over += not within
        rows.append(
            [
                name,
                ours.get("status", ours.get("error", "?")),
                *_cell(ours),
                "yes" if within else "NO",
                theirs.get("status", theirs.get("error", "?")),
                *_cell(theirs),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("| " + " | ".join(cells) + " |")
    worst_mb = max(float(r[2]) for r in rows if r[2] != "died")
    worst_ms = max(float(r[3]) for r in rows if r[3] != "-")
    print(
        f"\n{len(rows)} cases; {over} over the bound ({MAX_PEAK_BYTES // MB} MB,"
        f" {MAX_CPU_SECONDS:g} s); worst: {worst_mb:.1f} MB, {worst_ms:.0f} ms CPU"
    )
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
