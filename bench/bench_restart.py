"""Restarting the local stack with N images: from the catalog's snapshot, and without one.

Loads N camera JPEGs into a fresh data folder through `python -m devstack`
(S3 uploads from 4 threads, the real event path), stops it as Ctrl-C does,
then times `python -m devstack` from its start until the API answers: once
with the snapshot the emulator saved when it stopped, once after deleting it
(reconcile then extracts every image again), and checks the summary each time.

Run: .venv/bin/python bench/bench_restart.py --images 2000
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "devstack")]

import requests  # noqa: E402
import stackrunner  # noqa: E402
from images import rich_jpeg  # noqa: E402

stackrunner.STARTUP_SECONDS = 4 * 3600  # a rebuild without snapshot takes its time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()
    photo = rich_jpeg((320, 240))
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as folder:
        logs, data = Path(folder), Path(folder) / "data"
        with stackrunner.running_stack(logs, data) as stack:
            started = time.monotonic()

            def put(number: int) -> None:
                body = photo + bytes(random.randrange(4096))
                key = f"uploads/photo-{number:07d}.jpg"
                stack.s3.put_object(Bucket=stackrunner.BUCKET, Key=key, Body=body)

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(put, range(args.images)))
            while total(stack) < args.images:
                time.sleep(1)
            loaded = time.monotonic() - started
        rows = [("load through the event path", loaded)]
        for label in ("restart from the snapshot", "restart without it (rebuild)"):
            if "without" in label:
                shutil.rmtree(data / "catalog")
            started = time.monotonic()
            with stackrunner.running_stack(logs, data) as stack:
                rows.append((label, time.monotonic() - started))
                assert total(stack) == args.images, "the catalog lost images"
    print(f"\n{args.images:,} images (320x240 camera JPEGs, 52 KB)")
    print("| step | seconds | images/s |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} | {args.images / seconds:,.0f} |")
    return 0


def total(stack: stackrunner.Stack) -> int:
    return requests.get(f"{stack.api}/summary", timeout=60).json()["total_images"]


if __name__ == "__main__":
    sys.exit(main())
