"""The catalog: records and collection counters in one DynamoDB table.

The record and its counter shard change in one TransactWriteItems, so the
summary never drifts from the records. The table's layout is in `layout`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.layout import (
    LIST_INDEX,
    SIZE_INDEX,
    STATUS_DELETED,
    counter_pk,
    counter_update,
    decode,
    encode,
    image_pk,
    public_record,
    shard_of,
)
from chalicelib.catalog.records import STATUS_OK, to_dynamo
from chalicelib.catalog.summary import build_summary, counter_changes, merge_shards

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Entry:
    """What the catalog holds for one key: the record (None for a tombstone)."""

    revision: int
    sequencer: str
    record: dict[str, Any] | None


class CatalogBusyError(Exception):
    """Too many concurrent writers on one key or counter shard; retry later."""


class Catalog:
    """Records and counters in one DynamoDB table, through a low-level client."""

    def __init__(self, client: Any, table: str, shards: int = 1, tombstone_ttl: int = 604800):
        self._client = client
        self._table = table
        self._shards = shards
        self._tombstone_ttl = tombstone_ttl

    # --- reads ----------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        """The public record of `key`, or None when there is none (or it was deleted)."""
        item = self._get_item(key, consistent=False)
        if item is None or item.get("status") == STATUS_DELETED:
            return None
        return public_record(item)

    def entry(self, key: str) -> Entry | None:
        """Revision, last applied sequencer and record of `key` (strongly consistent)."""
        item = self._get_item(key, consistent=True)
        return _entry(item) if item else None

    def entries(
        self, segment: int = 0, segments: int = 1, after: str = ""
    ) -> Iterator[tuple[str, Entry]]:
        """Every key's entry, by a parallel Scan segment, in scan order after the
        entry of `after` (a key this scan returned earlier). For reconcile, never a request.
        """
        paginator = self._client.get_paginator("scan")
        start = {"ExclusiveStartKey": {"pk": {"S": image_pk(after)}}} if after else {}
        pages = paginator.paginate(
            TableName=self._table,
            Segment=segment,
            TotalSegments=segments,
            ConsistentRead=True,
            FilterExpression="begins_with(pk, :image)",
            ExpressionAttributeValues={":image": {"S": "image#"}},
            **start,
        )
        for page in pages:
            for raw in page["Items"]:
                item = decode(raw)
                yield item["s3objectkey"], _entry(item)

    def replace_counters(
        self, shard: int, counters: dict[str, Any], expected_version: int | None
    ) -> bool:
        """Overwrite one shard's counters unless a write bumped its version meanwhile."""
        item = {"pk": counter_pk(shard), **counters, "version": (expected_version or 0) + 1}
        put: dict[str, Any] = {"TableName": self._table, "Item": encode(item)}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk) OR attribute_not_exists(version)"
        else:
            put["ConditionExpression"] = "version = :version"
            put["ExpressionAttributeValues"] = {":version": {"N": str(expected_version)}}
        try:
            self._client.put_item(**put)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def shard_of(self, key: str) -> int:
        return shard_of(key, self._shards)

    def summary(self) -> dict[str, Any]:
        """`GET /summary`: a fixed number of reads whatever the collection size."""
        shards = [item for item in self.counter_shards().values() if item]
        biggest = [self._extreme(n, largest=True) for n in range(self._shards)]
        smallest = [self._extreme(n, largest=False) for n in range(self._shards)]
        return build_summary(
            merge_shards(shards),
            max((r for r in biggest if r), key=lambda r: r["size"], default=None),
            min((r for r in smallest if r), key=lambda r: r["size"], default=None),
        )

    def list(
        self, limit: int, after: str = "", fmt: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` records with keys after `after`, in key order, optionally
        of one format; and the key to continue after (None at the end).

        One Query per shard. With a format filter or several shards a page can
        hold fewer than `limit` records and still have a continuation.
        """
        found: list[dict[str, Any]] = []
        frontier: str | None = None  # every shard is complete up to here
        condition, filters = "list_shard = :shard", {}
        values: dict[str, Any] = {}
        if after:  # a key condition may not compare with an empty string
            condition += " AND s3objectkey > :after"
            values[":after"] = {"S": after}
        if fmt:
            filters = {
                "FilterExpression": "#format = :format",
                "ExpressionAttributeNames": {"#format": "format"},
            }
            values[":format"] = {"S": fmt}
        for shard in range(self._shards):
            response = self._client.query(
                TableName=self._table,
                IndexName=LIST_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeValues={**values, ":shard": {"S": str(shard)}},
                Limit=limit,
                **filters,
            )
            found += [public_record(decode(item)) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if last:
                reached = last["s3objectkey"]["S"]
                frontier = reached if frontier is None else min(frontier, reached)
        found.sort(key=lambda record: record["s3objectkey"].encode("utf-8"))
        if frontier is not None:
            # Beyond the least-read shard's position, other shards may hide keys.
            found = [r for r in found if r["s3objectkey"].encode() <= frontier.encode()]
        page = found[:limit]
        if len(found) > limit:
            return page, page[-1]["s3objectkey"]
        return page, frontier

    # --- writes ---------------------------------------------------------
    def put(self, record: dict[str, Any], sequencer: str, if_revision: int | None = None) -> bool:
        """Store `record` unless a newer (or the same) event was applied already.

        An empty sequencer (a hand-made event, a reconcile) is applied in
        arrival order. With `if_revision`, the write happens only if the key
        is still at that revision (0: no entry at all). Returns False when
        nothing changed.
        """
        return self._apply(record["s3objectkey"], sequencer, record, if_revision)

    def delete(self, key: str, sequencer: str, if_revision: int | None = None) -> bool:
        """Replace the record of `key` by a tombstone, on the same terms as `put`."""
        return self._apply(key, sequencer, None, if_revision)

    def _apply(
        self,
        key: str,
        sequencer: str,
        record: dict[str, Any] | None,
        if_revision: int | None,
    ) -> bool:
        for attempt in range(MAX_ATTEMPTS):
            current = self._get_item(key, consistent=True)
            if current and sequencer and current.get("sequencer", "") >= sequencer:
                return False
            revision = int(current["revision"]) if current else 0
            if if_revision is not None and if_revision != revision:
                return False
            live = current if current and current.get("status") != STATUS_DELETED else None
            try:
                self._transact(key, sequencer, record, current, live)
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                # Someone else changed the key or the counter shard: re-read and retry.
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise CatalogBusyError(f"gave up writing {key!r} after {MAX_ATTEMPTS} attempts")

    def _transact(
        self,
        key: str,
        sequencer: str,
        record: dict[str, Any] | None,
        current: dict[str, Any] | None,
        live: dict[str, Any] | None,
    ) -> None:
        shard = self.shard_of(key)
        revision = int(current["revision"]) + 1 if current else 1
        item: dict[str, Any] = {"pk": image_pk(key), "sequencer": sequencer, "revision": revision}
        if record is None:
            item.update(
                s3objectkey=key,
                status=STATUS_DELETED,
                expires_at=int(time.time()) + self._tombstone_ttl,
            )
        else:
            item.update(to_dynamo(record))
            item["list_shard"] = str(shard)
            if record["status"] == STATUS_OK:
                item["size_shard"] = str(shard)
        put: dict[str, Any] = {"TableName": self._table, "Item": encode(item)}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = {":revision": {"N": str(current["revision"])}}
        operations = [{"Put": put}]
        increments, labels = counter_changes(live, record)
        if increments or labels:
            operations.append({"Update": counter_update(self._table, shard, increments, labels)})
        self._client.transact_write_items(TransactItems=operations)

    # --- helpers --------------------------------------------------------
    def _get_item(self, key: str, consistent: bool) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": image_pk(key)}}, ConsistentRead=consistent
        )
        return decode(response["Item"]) if "Item" in response else None

    def counter_shards(self) -> dict[int, dict[str, Any] | None]:
        """Each counter shard's item as stored (None when missing), by shard number."""
        keys = [{"pk": {"S": counter_pk(n)}} for n in range(self._shards)]
        request = {self._table: {"Keys": keys, "ConsistentRead": True}}
        found: dict[str, dict[str, Any]] = {}
        # N is small (a setting); unprocessed keys only appear under throttling.
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(self._table, []):
                item = decode(raw)
                found[item["pk"]] = item
            request = response.get("UnprocessedKeys")
        return {n: found.get(counter_pk(n)) for n in range(self._shards)}

    def _extreme(self, shard: int, largest: bool) -> dict[str, Any] | None:
        response = self._client.query(
            TableName=self._table,
            IndexName=SIZE_INDEX,
            KeyConditionExpression="size_shard = :shard",
            ExpressionAttributeValues={":shard": {"S": str(shard)}},
            ScanIndexForward=not largest,
            Limit=1,
        )
        items = response.get("Items", [])
        return public_record(decode(items[0])) if items else None


def _entry(item: dict[str, Any]) -> Entry:
    record = None if item.get("status") == STATUS_DELETED else public_record(item)
    return Entry(int(item["revision"]), item.get("sequencer", ""), record)
