"""Reconcile jobs on the local stack: objects/s with 1, 2, 4 and 8 workers,
against the single-process reconcile in the same run.

One stack (`python -m devstack`, what `make dev` runs) on free ports; N small
images written straight into the emulator (notifications off, so only
reconcile indexes them). Each run re-extracts every object (`force`, the
same work as a first backfill): first the single process (`ops.reconcile`),
then a job for each worker count (`ops.reconcile --parallel W`, the stack's
work-queue event source running up to W workers at once), timed from start
to `finished`. Bounded by this machine's cores: the emulator, the API and
every worker share them.

Run (the table in docs/benchmarks.md):
    .venv/bin/python bench/bench_reconcile.py --objects 1000 --workers 1,2,4,8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import requests  # noqa: E402
from images import image_bytes  # noqa: E402
from stackrunner import fresh_environment, running_stack  # noqa: E402

BUCKET = "images-local"


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = fresh_environment(DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "ops.reconcile", "--stage", "local", "--force", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def job_seconds(stack, workers: int) -> tuple[float, dict]:
    started = time.perf_counter()
    result = cli(stack.data_dir, "--parallel", str(workers))
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)["job"]
    while True:
        shown = requests.get(f"{stack.api}/reconcile/{job}", timeout=10).json()
        if shown["state"] == "finished":
            return time.perf_counter() - started, shown
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4,8")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack(Path(folder), RECONCILE_WORKERS=str(max(counts))) as stack,
    ):
        s3 = stack.s3
        saved = s3.get_bucket_notification_configuration(Bucket=BUCKET)
        saved.pop("ResponseMetadata", None)
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
        bodies = [image_bytes(f, (n + 2, 3)) for n, f in enumerate(["PNG", "GIF", "BMP", "JPEG"])]
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda n: s3.put_object(
                        Bucket=BUCKET, Key=f"uploads/{n % 10}/{n:06d}.img", Body=bodies[n % 4]
                    ),
                    range(args.objects),
                )
            )
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=saved)

        started = time.perf_counter()
        single = cli(stack.data_dir)
        assert single.returncode == 0, single.stderr
        baseline = args.objects / (time.perf_counter() - started)
        rows = [("single process", baseline, "")]
        for workers in counts:
            seconds, shown = job_seconds(stack, workers)
            assert shown["complete"] and shown["objects"]["listed"] == args.objects, shown
            rows.append(
                (f"job, {workers} workers", args.objects / seconds, shown["ranges"]["total"])
            )
    one = next(rate for name, rate, _ in rows if name == "job, 1 workers")
    print(f"{args.objects} objects, {os.cpu_count()} cores")
    print("| run | objects/s | vs single process | vs 1 worker | pieces |")
    print("|---|---:|---:|---:|---:|")
    for name, rate, pieces in rows:
        print(f"| {name} | {rate:.1f} | {rate / baseline:.2f} | {rate / one:.2f} | {pieces} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
