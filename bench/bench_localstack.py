"""The local stack at 100 -> 20,000 images: patched emulator vs stock moto, side by side.

For each variant the emulator runs in its own process exactly as `make dev`
starts it (`python -m devstack.emulator`, with `--stock` for unpatched moto),
with the bucket, table, queue and notification `make dev` provisions, the
event pump calling the app's handlers, and the API served by
`python -m devstack.api`. At each size it measures, on the same collection:

- per event: the created-handler's time for camera JPEGs (rich EXIF, XMP,
  IPTC, ICC) uploaded one at a time through S3 -> notification -> queue ->
  pump -> handler (median of --events);
- per request: `GET /summary`, `GET /images?s3objectkey=` (a random stored
  key) and a listing page `GET /images?limit=50` over HTTP (medians);
- the patched stack grows to each size through the real event path (uploads
  from 4 threads, --workers pump workers, 1 as in `make dev`): its events/s is the throughput,
  with the CPU time each event cost the emulator process and this process
  (handlers, pump and uploads), and the load average, since the machine may
  be shared. The created-handler queues each image for the pixel stage, as
  in `make dev`; the pixel stage itself runs only with --pixel-stage.
  Stock moto cannot (each event copies the whole table): it grows by writing
  copies of a real record directly (--seed uses that for both, faster).

Run (the table in docs/benchmarks.md):
    .venv/bin/python bench/bench_localstack.py --sizes 100,1000,5000,20000
    .venv/bin/python bench/bench_localstack.py --variants patched --sizes 1000 --events 5
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from devstack.stages import stage_environment  # noqa: E402

os.environ.update(stage_environment("local"))
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
import requests  # noqa: E402
from images import rich_jpeg  # noqa: E402

import app as application  # noqa: E402
from chalicelib.catalog.summary import counter_changes  # noqa: E402
from chalicelib.dependencies import Dependencies  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from devstack import children  # noqa: E402
from devstack.provision import provision, provision_pixels_queue  # noqa: E402
from devstack.pump import EventPump  # noqa: E402
from devstack.sqs_source import QueueSource  # noqa: E402

BUCKET, TABLE = os.environ["IMAGES_BUCKET"], os.environ["IMAGES_TABLE"]
PHOTO = rich_jpeg((320, 240))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Handled:
    """The created-handler, timed; lets the bench wait for a number of events."""

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self._handler, self.durations, self.count = handler, [], 0
        self._changed = threading.Condition()

    def __call__(self, event: Any, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._handler(event, context)
        finally:
            with self._changed:
                self.durations.append((time.perf_counter() - started) * 1000)
                self.count += 1
                self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 3600) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.count >= count, timeout):
                raise RuntimeError(f"only {self.count} of {count} events handled")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Variant:
    def __init__(self, name: str, workers: int, pixel_stage: bool = False) -> None:
        self.name, self.stored = name, 0
        self.keys: list[str] = []
        port, self.api_port = free_port(), free_port()
        extra = ("--stock",) if name == "stock" else ()
        self.emulator = children.start_emulator(port, BUCKET, "us-east-1", None, *extra)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        session = boto3.session.Session()
        self.s3, self.dynamodb = session.client("s3"), session.client("dynamodb")
        application.deps = Dependencies(Settings.from_env())  # clients for this endpoint
        queue_url = provision(session, application.deps.settings)
        pixels_url = provision_pixels_queue(session, application.deps.settings)
        self.handled = Handled(application.on_object_created)
        sqs = session.client("sqs")
        removed = application.on_object_removed
        self.pump = EventPump(sqs, queue_url, self.handled, removed, workers=workers)
        self.pump.start()
        self.pixels = None
        if pixel_stage:  # as `make dev` runs it: one worker
            self.pixels = QueueSource(
                session.client("sqs"), pixels_url, application.pixels_stage, 1, 60, name="pixels"
            )
            self.pixels.start()
        self.cpu: dict[str, float] = {}
        self.api = children.spawn("devstack.api", "--port", str(self.api_port), "--stage", "local")
        children.wait_until_serving(self.api, self.api_port, "the API", timeout=60)
        self.http = requests.Session()

    def stop(self) -> None:
        self.pump.stop()
        if self.pixels is not None:
            self.pixels.stop()
        children.stop(self.api)
        children.stop(self.emulator)

    def upload(self, count: int, threads: int = 4) -> float:
        """Upload `count` new photos through S3; events/s until all are handled."""
        target = self.handled.count + count
        names = [f"uploads/photo-{len(self.keys) + i:07d}.jpg" for i in range(count)]
        emulator, here = cpu_seconds(self.emulator.pid), time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self._put, names))
        self.handled.wait_for(target)
        seconds = time.perf_counter() - started
        self.cpu = {
            "emulator_cpu_ms": (cpu_seconds(self.emulator.pid) - emulator) * 1000 / count,
            "here_cpu_ms": (time.process_time() - here) * 1000 / count,
            "load": os.getloadavg()[0],
        }
        self.keys += names
        self.stored += count
        return count / seconds

    def _put(self, key: str) -> None:
        padding = bytes(random.randrange(4096))  # after the JPEG's end: sizes differ
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=PHOTO + padding, ContentType="image/jpeg")

    def seed(self, count: int) -> None:
        """`count` more records written directly: copies of a real one, counters to match."""
        template = self.dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": f"image#{self.keys[0]}"}}
        )
        item, names = template["Item"], []
        total = 0
        for start in range(0, count, 25):
            batch = []
            for i in range(start, min(count, start + 25)):
                key = f"uploads/seeded-{len(self.keys) + i:07d}.jpg"
                size = len(PHOTO) + random.randrange(4096)
                copy = {**item, "pk": {"S": f"image#{key}"}, "s3objectkey": {"S": key}}
                copy["size"] = {"N": str(size)}
                batch.append({"PutRequest": {"Item": copy}})
                names.append(key)
                total += size
            self.dynamodb.batch_write_item(RequestItems={TABLE: batch})
        increments, _ = counter_changes(None, {"status": "ok", "format": "JPEG", "size": 0})
        increments = {**increments, "count_JPEG": count, "status_ok": count, "bytes_JPEG": total}
        self.dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "counters#0"}},
            UpdateExpression="ADD " + ", ".join(f"{n} :{n}" for n in increments),
            ExpressionAttributeValues={f":{n}": {"N": str(v)} for n, v in increments.items()},
        )
        self.keys += names
        self.stored += count

    def event_ms(self, samples: int) -> float:
        """Median handler time, photos uploaded one at a time."""
        before = len(self.handled.durations)
        for _ in range(samples):
            self.upload(1, threads=1)
        return statistics.median(self.handled.durations[before:])

    def request_ms(self, path: str, samples: int) -> float:
        times = []
        for _ in range(samples):
            url = f"http://127.0.0.1:{self.api_port}{path}".replace(
                "{key}", random.choice(self.keys)
            )
            started = time.perf_counter()
            response = self.http.get(url, timeout=600)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code, response.text[:200])
        return statistics.median(times)


def measure(variant: Variant, size: int, args: argparse.Namespace) -> dict[str, Any]:
    missing = size - variant.stored
    rate = None
    if missing > 0:
        if variant.name == "stock" or args.seed:
            variant.seed(missing)
        else:
            rate = variant.upload(missing)
    row = {"variant": variant.name, "size": size, "events_per_s": rate}
    if rate is not None:
        row.update(variant.cpu)
    row["event"] = variant.event_ms(args.events)
    row["summary"] = variant.request_ms("/summary", args.requests)
    row["get"] = variant.request_ms("/images?s3objectkey={key}", args.requests)
    row["list"] = variant.request_ms("/images?limit=50", args.requests)
    return row


COLUMNS = ("event", "summary", "get", "list")


def report(rows: list[dict[str, Any]]) -> None:
    print("\nmedians in ms; ratios: stock/patched, and patched at this size / at the first size")
    print(
        f"| images | {' | '.join(f'{c} patched | {c} stock | stock/patched' for c in COLUMNS)} "
        "| patched vs first size (worst) | events/s while loading |"
    )
    print("|" + "---|" * (3 + 3 * len(COLUMNS)))
    by = {(r["variant"], r["size"]): r for r in rows}
    sizes = sorted({r["size"] for r in rows})
    first = by.get(("patched", sizes[0]))
    for size in sizes:
        patched, stock = by.get(("patched", size)), by.get(("stock", size))
        cells = []
        for column in COLUMNS:
            p = patched[column] if patched else None
            s = stock[column] if stock else None
            ratio = f"{s / p:.1f}x" if p and s else "-"
            cells += [f"{p:.1f}" if p else "-", f"{s:.1f}" if s else "-", ratio]
        growth = f"{max(patched[c] / first[c] for c in COLUMNS):.2f}x" if patched and first else "-"
        rate = f"{patched['events_per_s']:.1f}" if patched and patched["events_per_s"] else "-"
        print(f"| {size:,} | {' | '.join(cells)} | {growth} | {rate} |")
    loaded = [r for r in rows if r.get("events_per_s")]
    if loaded:
        print("\nloading through the event path (CPU ms per event: emulator process, this one)")
        print("| variant | images | events/s | emulator CPU ms | bench process CPU ms | load |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in loaded:
            print(
                f"| {r['variant']} | {r['size']:,} | {r['events_per_s']:.1f} "
                f"| {r['emulator_cpu_ms']:.1f} | {r['here_cpu_ms']:.1f} | {r['load']:.1f} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000,20000")
    parser.add_argument("--variants", default="patched,stock")
    parser.add_argument("--events", type=int, default=15, help="events timed per size")
    parser.add_argument("--requests", type=int, default=15, help="requests timed per route")
    parser.add_argument("--workers", type=int, default=1, help="pump workers (make dev: 1)")
    parser.add_argument("--seed", action="store_true", help="grow by direct writes (faster)")
    parser.add_argument("--max-stock-size", type=int, default=20000)
    parser.add_argument("--pixel-stage", action="store_true", help="run the pixel stage too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    random.seed(1)
    rows = []
    for name in args.variants.split(","):
        variant = Variant(name, args.workers, args.pixel_stage)
        try:
            variant.upload(1)  # the template record, and a warm start
            for size in sizes:
                if name == "stock" and size > args.max_stock_size:
                    break
                row = measure(variant, size, args)
                rows.append(row)
                print(row, flush=True)
        finally:
            variant.stop()
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
