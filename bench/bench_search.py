"""Search and facet requests at 100, 1,000 and 20,000 records: indexes vs a table scan.

For each size, a table is filled with what the service would have written for
that many records (records, index items, facet items, counters), then each
request runs through the real route (`chalice.test.Client`), side by side with
the baseline most implementations use: Scan the table, filter, sort, take a
page. Prints medians, the items each one reads and ratios to the smallest size.

DynamoDB must answer index queries with real key ranges (moto sorts whole
partitions), so run it against dynalite, which also lacks transactions, hence
the direct fill:

    npx dynalite --port 4599 &   # from the npm registry
    .venv/bin/python bench/bench_search.py --endpoint http://127.0.0.1:4599
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from functools import partial
from typing import Any
from urllib.parse import urlencode

import boto3

# First: bench_summary puts the project on the path and sets the environment app.py reads.
from bench_summary import CountingClient, wait_until_active
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from chalice.test import Client

import app as app_module
from chalicelib.catalog import repair, writes
from chalicelib.catalog.catalog import Catalog
from chalicelib.catalog.layout import counter_pk, public_record, shard_of, table_definition
from chalicelib.catalog.summary import counter_changes
from chalicelib.dependencies import Dependencies
from chalicelib.explore import parse_search
from chalicelib.settings import Settings

PAGE = 20
CAMERAS = [(f"Make{i % 7}", f"Make{i % 7} Model {i}") for i in range(30)]
LENSES = [f"Lens {i}mm" for i in range(20)]
WORDS = [f"word{i}" for i in range(200)]
REQUESTS = {
    "make=make3": {"make": "make3"},
    "lens": {"lens": "lens 7mm"},
    "keyword": {"keyword": "word5"},
    "format=PNG": {"format": "png"},
    "orientation=portrait": {"orientation": "portrait"},
    "bbox (Paris)": {"bbox": "48.7,2.2,49.0,2.5"},
    "sort=-taken_at": {"sort": "-taken_at"},
    "sort=size": {"sort": "size"},
    "sort=-uploaded": {"sort": "-uploaded"},
    "make + -taken_at + 2020": {"make": "make3", "sort": "-taken_at", "taken_from": "2020-01-01"},
    "keyword + has_gps": {"keyword": "word5", "has_gps": "true"},
}
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def random_record(rng: random.Random, i: int) -> dict[str, Any]:
    key = f"uploads/{rng.choice(['trip', 'home', 'work'])}/{i:07d}.jpg"
    width, height = rng.choice([(4000, 3000), (3000, 4000), (1024, 1024), (6000, 4000)])
    make, model = rng.choice(CAMERAS)
    paris = rng.random() < 0.1
    where = (48.85 + rng.uniform(-0.1, 0.1), 2.35 + rng.uniform(-0.1, 0.1)) if paris else None
    if not where and rng.random() < 0.3:
        where = (rng.uniform(-60, 70), rng.uniform(-180, 180))
    return {
        "s3objectkey": key,
        "size": rng.randrange(10_000, 30_000_000),
        "etag": f"{i:032x}",
        "last_modified": f"20{rng.randrange(15, 25)}-{rng.randrange(1, 13):02d}-10T12:00:00Z",
        "status": "ok",
        "format": rng.choice(["JPEG"] * 8 + ["PNG", "HEIC"]),
        "width": width,
        "height": height,
        "display_width": width,
        "display_height": height,
        "megapixels": width * height / 1e6,
        "camera": {"make": make, "model": model, "lens": rng.choice(LENSES)},
        "taken_at": f"20{rng.randrange(15, 25)}-{rng.randrange(1, 13):02d}-15T10:00:00",
        "gps": {"latitude": where[0], "longitude": where[1], "altitude": None} if where else None,
        "xmp": {"keywords": [w for w in rng.sample(WORDS, 3)]},
    }


def fill(client: Any, table: str, n: int, rng: random.Random) -> None:
    """Write the final state a catalog of `n` records holds, in batches."""
    records = [random_record(rng, i) for i in range(n)]
    items: list[dict[str, Any]] = []
    counters: dict[str, dict[str, int]] = {}
    for record in records:
        key = record["s3objectkey"]
        ops = writes.operations(table, key, shard_of(key, 1), "", record, None, {}, 0)
        items += [op["Put"]["Item"] for op in ops if "Put" in op]
        increments, labels = counter_changes(None, record)
        shard = counters.setdefault(counter_pk(0), {})
        for name, value in increments.items():
            shard[name] = shard.get(name, 0) + value
        shard.update(labels)
    truth = repair.facet_truth((0, record) for record in records)
    items += [{k: _serializer.serialize(v) for k, v in item.items()} for item in truth.values()]
    items += [
        {"pk": {"S": pk}, **{k: _serializer.serialize(v) for k, v in c.items()}}
        for pk, c in counters.items()
    ]
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None


def scan_page(client: Any, table: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """The baseline: read every record, filter and sort in memory, take a page."""
    search = parse_search(params, "uploads/")
    records, start = [], {}
    while True:
        page = client.scan(TableName=table, **start)
        for raw in page["Items"]:
            if raw["pk"]["S"].startswith("image#"):
                record = public_record({k: _deserializer.deserialize(v) for k, v in raw.items()})
                if search.matches(record):
                    records.append(record)
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    field = {
        "key": "s3objectkey",
        "taken_at": "taken_at",
        "size": "size",
        "uploaded": "last_modified",
    }
    if search.sort == "taken_at":
        records = [r for r in records if r.get("taken_at")]
    records.sort(key=lambda r: (r[field[search.sort]], r["s3objectkey"]), reverse=search.descending)
    return records[:PAGE]


def timed(call, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description="search and facets: indexes vs scan")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 20000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--only", nargs="+", help="run only these requests (names as printed)")
    parser.add_argument("--scan-repeat", type=int, default=3, help="runs of the scan baseline")
    parser.add_argument("--endpoint", required=True, help="a DynamoDB-compatible server")
    args = parser.parse_args()
    os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    app_module.app.log.setLevel(logging.WARNING)  # no request log lines in the table
    raw = boto3.client("dynamodb")
    results: dict[str, list[tuple[float, int, float, int]]] = {}
    for n in args.sizes:
        table = f"bench-search-{n}-{int(time.time())}"
        raw.create_table(**table_definition(table))
        wait_until_active(raw, table)
        started = time.perf_counter()
        fill(raw, table, n, random.Random(n))
        print(f"{n:,d} records filled in {time.perf_counter() - started:.0f} s", flush=True)
        counting = CountingClient(raw)
        deps = Dependencies(Settings(bucket="bench-images", table=table))
        deps.catalog = Catalog(counting, table)
        app_module.deps = deps
        with Client(app_module.app) as http:
            paths = {
                name: "/images?" + urlencode({**p, "limit": PAGE}) for name, p in REQUESTS.items()
            }
            paths |= {"summary": "/summary", "summary/cameras": "/summary/cameras"}
            paths = {k: v for k, v in paths.items() if not args.only or k in args.only}
            for name, path in paths.items():

                def request(path=path):
                    response = http.http.get(path, headers={"Accept": "*/*"})
                    assert response.status_code == 200, response.body

                counting.items = 0
                ours = timed(request, args.repeat)
                ours_items = counting.items // args.repeat
                scan = scan_items = 0
                if name in REQUESTS:
                    counting.items = 0
                    baseline = partial(scan_page, counting, table, REQUESTS[name])
                    scan = timed(baseline, args.scan_repeat)
                    scan_items = counting.items // args.scan_repeat
                results.setdefault(name, []).append((ours, ours_items, scan, scan_items))
        raw.delete_table(TableName=table)
    print(
        f"\nMedian of {args.repeat} requests (scan: of {args.scan_repeat}); "
        "items = items DynamoDB returned"
    )
    header = " | ".join(f"{n:,d}: ms / items" for n in args.sizes)
    largest = f"scan at {args.sizes[-1]:,d}: ms / items"
    print(f"{'request':<26} | {header} | largest vs smallest | {largest}")
    for name, rows in results.items():
        cells = " | ".join(f"{ours:8.1f} / {items:4d}" for ours, items, _, _ in rows)
        ratio = rows[-1][0] / rows[0][0]
        scan = f"{rows[-1][2]:9.0f} / {rows[-1][3]:6d}" if rows[-1][2] else "n/a"
        print(f"{name:<26} | {cells} | {ratio:18.2f}x | {scan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
