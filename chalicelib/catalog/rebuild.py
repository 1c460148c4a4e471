"""Reconcile's rebuild of the facet items, against the table: the Scan that feeds a
tally, and the guarded writes that make the stored items equal what it found.

Every write is guarded by counter shard versions read before the count began
(see `repair`): a value item of shard N changes only with shard N's version,
so its rewrite checks that version alone; presence items and the distinct
counters check every shard's. A cancelled transaction means a live write came
in meanwhile: that group is left alone (busy) and the next reconcile repairs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog import repair
from chalicelib.catalog.layout import DISTINCT_PK, IMAGE_PREFIX, counter_pk, decode, encode
from chalicelib.catalog.tally import (
    DUPLICATE_PREFIXES,
    FACET_ITEM_PREFIXES,
    GLOBAL,
    Tally,
    presence_writes,
    value_writes,
)


def scan_items(
    client: Any, table: str, segment: int = 0, segments: int = 1, after: str = ""
) -> Iterator[dict[str, Any]]:
    """The records and stored facet and duplicate items of one parallel Scan segment, in
    scan order after the item whose pk is `after` (one this scan returned earlier)."""
    start = {"ExclusiveStartKey": {"pk": {"S": after}}} if after else {}
    prefixes = (IMAGE_PREFIX, *FACET_ITEM_PREFIXES, *DUPLICATE_PREFIXES)
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        Segment=segment,
        TotalSegments=segments,
        ConsistentRead=True,
        FilterExpression=" OR ".join(
            [*(f"begins_with(pk, :p{i})" for i in range(len(prefixes))), "pk = :d"]
        ),
        ExpressionAttributeValues={
            **{f":p{i}": {"S": prefix} for i, prefix in enumerate(prefixes)},
            ":d": {"S": DISTINCT_PK},
        },
        **start,
    )
    for page in pages:
        for raw in page["Items"]:
            yield decode(raw)


def counters_put(
    table: str, shard: int, counters: dict[str, Any], expected_version: int | None
) -> dict[str, Any]:
    """The Put overwriting one shard's counters unless a write bumped its version
    since `expected_version` was read (it bumps the version itself)."""
    item = {"pk": counter_pk(shard), **counters, "version": (expected_version or 0) + 1}
    put: dict[str, Any] = {"TableName": table, "Item": encode(item)}
    if expected_version is None:
        put["ConditionExpression"] = "attribute_not_exists(pk) OR attribute_not_exists(version)"
    else:
        put["ConditionExpression"] = "version = :version"
        put["ExpressionAttributeValues"] = {":version": {"N": str(expected_version)}}
    return put


def apply_writes(
    client: Any,
    table: str,
    writes: list[tuple[str, dict[str, Any] | None]],
    versions: dict[int, int | None],
) -> tuple[int, bool]:
    """Apply `writes` in transactions guarded by `versions`; (items written, busy)."""
    written = 0
    for operations in repair.guarded_writes(table, writes, versions):
        try:
            client.transact_write_items(TransactItems=operations)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return written, True
        written += len(operations) - len(versions)
    return written, False


def rebuild_facets(client: Any, table: str, versions: dict[int, int | None]) -> tuple[int, bool]:
    """The single process's facets rebuild: one tally of the whole table, then the
    same per-shard and global writes as a job's merges and close, guarded by each
    shard's `versions` as read before the tally; (written, busy)."""
    shards = len(versions)
    tally = Tally(shards)
    for item in scan_items(client, table):
        tally.add(item)
    written, busy, wanted = 0, False, []
    for n in range(shards):
        part = tally.part(str(n))
        done, stopped = apply_writes(client, table, value_writes(part), {n: versions[n]})
        written, busy, wanted = written + done, busy or stopped, [*wanted, *part["t"]]
    stored = tally.part(GLOBAL)["s"]
    done, stopped = apply_writes(client, table, presence_writes(stored, wanted), versions)
    return written + done, busy or stopped
