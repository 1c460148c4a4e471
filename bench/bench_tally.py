"""The final step of a reconcile job, per record: what a tally costs, side by side
with the single-worker recount it replaced, and what its partial counts weigh.

A catalog of N records as the service writes it (records, index items, facet
items: bench_search's generator) is turned into the items a Scan returns,
then, on this machine's CPU (no DynamoDB: a worker's Scan pages come at
DynamoDB's pace, measured elsewhere), per record:

- baseline: the old final step's per-record work, `Catalog.entries()`'s decode
  plus the counters, `repair.facet_truth` and `duplicates.truth` over every
  record, and the decode of the stored facet and duplicate items;
- tally: `rebuild.scan_items`'s decode plus `Tally.add` over every item
  (records, stored facet and duplicate items), in S slices as S segments
  (the records carry the pixel stage's hashes: one in ten has a copy);
- merge: the encoded parts of the S slices added up per shard (`add_part`).

It prints microseconds per record (median of 3), the table's bytes per record
(what a consistent Scan reads: 4 KB per read unit) and the encoded partial
counts per record and per shard (what a merge reads).

    .venv/bin/python bench/bench_tally.py --records 20000 --shards 32 --segments 8
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

# First: bench_search puts the project on the path and sets the environment app.py reads.
from bench_search import random_record
from boto3.dynamodb.types import TypeSerializer

from chalicelib.catalog import duplicates, repair, writes
from chalicelib.catalog.catalog import _entry
from chalicelib.catalog.layout import decode, shard_of
from chalicelib.catalog.tally import (
    Tally,
    add_part,
    count_record,
    decode_part,
    empty_part,
    encode_part,
    is_tallied,
)


def scanned_items(n: int, shards: int) -> list[dict[str, Any]]:
    """The raw items a Scan of a catalog of `n` records returns (low-level form)."""
    rng = random.Random(7)
    records = [random_record(rng, i) for i in range(n)]
    for record in records:  # the pixel stage's hashes: one image in ten has a copy
        record["content_sha256"] = f"{rng.randrange(n * 9 // 10):064x}"
        record["phash"] = f"{rng.getrandbits(64):016x}"
    items = []
    for record in records:
        key = record["s3objectkey"]
        ops = writes.operations("t", key, shard_of(key, shards), "", record, None, {}, 0)
        items += [op["Put"]["Item"] for op in ops if "Put" in op]
    truth = repair.facet_truth((shard_of(r["s3objectkey"], shards), r) for r in records)
    serialize = TypeSerializer().serialize
    items += [{k: serialize(v) for k, v in item.items()} for item in truth.values()]
    rng.shuffle(items)  # a Scan returns them in hash order
    return items


def baseline(items: list[dict[str, Any]], shards: int) -> None:
    records, stored = [], {}
    for raw in items:
        item = decode(raw)
        if raw["pk"]["S"].startswith("image#"):
            records.append((shard_of(item["s3objectkey"], shards), _entry(item).record))
        else:  # the old step's second Scan: the stored facet items
            stored[item["pk"]] = item
    counts: dict[int, dict[str, Any]] = {}
    for shard, record in records:
        count_record(counts.setdefault(shard, {}), record, True)
    repair.facet_truth(records)
    duplicates.truth((record["s3objectkey"], record) for _, record in records)


def tally(items: list[dict[str, Any]], shards: int, segments: int) -> list[dict[str, bytes]]:
    encoded = []
    size = -(-len(items) // segments)
    for start in range(0, len(items), size):
        t = Tally(shards)
        for raw in items[start : start + size]:
            t.add(decode(raw))
        encoded.append({name: encode_part(part) for name, part in t.parts.items()})
    return encoded


def merge(encoded: list[dict[str, bytes]], shards: int) -> None:
    for n in range(shards):
        part = empty_part()
        for parts in encoded:
            if str(n) in parts:
                add_part(part, decode_part(parts[str(n)]))


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item (names + values, roughly as it bills reads)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        return len(inner) // 2 + 1
    if kind in ("SS", "NS"):
        return sum(len(v) for v in inner)
    if kind == "M":
        return 3 + item_size(inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return 1


def timed(run) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--segments", type=int, default=8)
    args = parser.parse_args()
    n, shards = args.records, args.shards
    everything = scanned_items(n, shards)
    table_bytes = sum(item_size(item) for item in everything)
    # What the Scans' filters let through (the rest is read and billed, not returned).
    items = [item for item in everything if is_tallied(item["pk"]["S"])]
    old = timed(lambda: baseline(items, shards))
    new = timed(lambda: tally(items, shards, args.segments))
    encoded = tally(items, shards, args.segments)
    both = timed(lambda: merge(encoded, shards))
    part_bytes = sum(len(b) for parts in encoded for b in parts.values())
    dup_bytes = sum(len(b) for parts in encoded for name, b in parts.items() if name[0] == "d")
    print(f"{n} records, {len(everything)} items in the table, {len(items)} returned,")
    print(f"{shards} shards, {args.segments} slices")
    print("| step | µs per record | vs baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: decode, counters, facet + duplicate truth | {old / n * 1e6:.1f} | 1.00 |")
    print(f"| tally: decode + Tally.add (+ encode parts) | {new / n * 1e6:.1f} | {new / old:.2f} |")
    print(f"| merge: add up the parts, all shards | {both / n * 1e6:.1f} | {both / old:.2f} |")
    print(f"items per record: {len(everything) / n:.1f}; bytes per record {table_bytes / n:.0f}")
    print(
        f"partial counts: {part_bytes / n:.1f} bytes per record, of which duplicate items "
        f"{dup_bytes / n:.1f} ({part_bytes / shards / 1024:.0f} KB per merge for {n} records)"
    )


if __name__ == "__main__":
    main()
