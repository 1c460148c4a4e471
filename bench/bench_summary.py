"""`GET /summary` latency at 10, 1,000 and 20,000 records: constant-time vs a table scan.

Runs both side by side in one process: the service's summary (counter items
+ two `Limit=1` index queries per shard) and the baseline most implementations
use (Scan the whole table and aggregate). Both answer through the same
`GET /summary` route. Prints medians, ratios and the items each one reads.

The DynamoDB is moto on loopback by default. moto answers an index Query by
sorting the whole partition, so there even `Limit=1` costs O(n) -- DynamoDB
itself reads one item. `--endpoint` runs against any other DynamoDB-compatible
server instead, e.g. dynalite (LevelDB-backed, real index ranges):

    .venv/bin/python bench/bench_summary.py [--sizes 10 1000 20000] [--repeat 15]
    npx dynalite --port 4599 &  # from the npm registry
    .venv/bin/python bench/bench_summary.py --endpoint http://127.0.0.1:4599
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    IMAGES_BUCKET="bench-images",
    IMAGES_TABLE="unused",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
)

import boto3  # noqa: E402
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib.catalog.catalog import Catalog  # noqa: E402
from chalicelib.catalog.layout import table_definition  # noqa: E402
from chalicelib.catalog.summary import build_summary, counter_changes  # noqa: E402
from chalicelib.dependencies import Dependencies  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402

FORMATS = [
    ("JPEG", "image/jpeg"),
    ("PNG", "image/png"),
    ("GIF", "image/gif"),
    ("WEBP", "image/webp"),
]


class CountingClient:
    """Counts the items DynamoDB returns to the summary, whichever way it reads."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.items = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            response = method(*args, **kwargs)
            self.items += len(response.get("Items", []))
            self.items += sum(len(v) for v in response.get("Responses", {}).values())
            return response

        return call


def scan_summary(client: Any, table: str) -> dict[str, Any]:
    """The baseline: read every record, aggregate in memory (O(n) per request)."""
    deserialize = TypeDeserializer().deserialize
    counters: dict[str, Any] = {}
    biggest = smallest = None
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        for raw in page["Items"]:
            item = {k: deserialize(v) for k, v in raw.items()}
            if not item["pk"].startswith("image#") or item.get("status") == "deleted":
                continue
            increments, labels = counter_changes(None, item)
            for name, value in increments.items():
                counters[name] = counters.get(name, 0) + value
            counters.update(labels)
            if item["status"] == "ok":
                if biggest is None or item["size"] > biggest["size"]:
                    biggest = item
                if smallest is None or item["size"] < smallest["size"]:
                    smallest = item
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return build_summary(counters, biggest, smallest)


def populate(client: Any, table: str, n: int, rng: random.Random) -> None:
    """n records and their counter item, as the handlers would have left them."""
    serialize = TypeSerializer().serialize
    counters: dict[str, Any] = {}
    items = []
    for i in range(n):
        fmt, mime = rng.choice(FORMATS)
        key = f"uploads/{i:08d}.{fmt.lower()}"
        record = {
            "s3objectkey": key,
            "status": "ok",
            "format": fmt,
            "mime_type": mime,
            "size": rng.randrange(1_000, 50_000_000),
            "width": rng.randrange(1, 8000),
            "height": rng.randrange(1, 8000),
            "mode": "RGB",
            "etag": f"{i:032x}",
            "content_type": mime,
            "extension": fmt.lower(),
            "last_modified": "2026-01-01T00:00:00Z",
            "extracted_at": "2026-01-01T00:00:00Z",
        }
        increments, labels = counter_changes(None, record)
        for name, value in increments.items():
            counters[name] = counters.get(name, 0) + value
        counters.update(labels)
        items.append(
            {
                **record,
                "pk": "image#" + key,
                "sequencer": f"{i:032X}",
                "revision": 1,
                "size_shard": "0",
            }
        )
    items.append({"pk": "counters#0", **counters, "version": n})
    for start in range(0, len(items), 25):
        batch = [
            {"PutRequest": {"Item": {k: serialize(v) for k, v in item.items()}}}
            for item in items[start : start + 25]
        ]
        client.batch_write_item(RequestItems={table: batch})


def wait_until_active(client: Any, table: str) -> None:
    """Emulators may build the index asynchronously, as DynamoDB does."""
    for _ in range(100):
        description = client.describe_table(TableName=table)["Table"]
        indexes = description.get("GlobalSecondaryIndexes", [])
        if description["TableStatus"] == "ACTIVE" and all(
            index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"table {table} did not become active")


def timed_route(client: Client, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.http.get("/summary", headers={"Accept": "*/*"})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.body
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description="GET /summary: counters vs scan")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 20000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--endpoint", help="an existing DynamoDB-compatible server to use")
    args = parser.parse_args()

    server = None
    if args.endpoint:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    backend = args.endpoint or "moto server on loopback"
    rows = []
    try:
        raw = boto3.client("dynamodb")
        for n in args.sizes:
            table = f"bench-{n}-{int(time.time())}"
            raw.create_table(**table_definition(table))
            wait_until_active(raw, table)
            populate(raw, table, n, random.Random(n))
            deps = Dependencies(Settings(bucket="bench-images", table=table))
            counting = CountingClient(raw)
            deps.catalog = Catalog(counting, table)
            app_module.deps = deps
            with Client(app_module.app) as client:
                expected = deps.catalog.summary()
                assert scan_summary(raw, table) == expected, "baseline disagrees"
                assert expected["total_images"] == n
                counting.items = 0
                ours = timed_route(client, args.repeat)
                ours_items = counting.items // args.repeat
                deps.catalog.summary = lambda c=counting, t=table: scan_summary(c, t)
                counting.items = 0
                scan = timed_route(client, args.repeat)
                scan_items = counting.items // args.repeat
            rows.append(
                (n, statistics.median(ours), ours_items, statistics.median(scan), scan_items)
            )
    finally:
        if server is not None:
            server.stop()

    base_ours, base_scan = rows[0][1], rows[0][3]
    print(f"GET /summary, median of {args.repeat} runs each, DynamoDB = {backend}")
    print(
        f"{'records':>8} | {'counters ms':>11} {'items':>6} {'vs smallest':>11} | "
        f"{'scan ms':>9} {'items':>6} {'vs smallest':>11} | {'scan/counters':>13}"
    )
    for n, ours, ours_items, scan, scan_items in rows:
        print(
            f"{n:>8,d} | {ours:>11.2f} {ours_items:>6d} {ours / base_ours:>10.2f}x | "
            f"{scan:>9.2f} {scan_items:>6d} {scan / base_scan:>10.2f}x | {scan / ours:>12.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
