"""The catalog: records, their index items and the collection counters in one table.

A record, its index items, its counter shard and its facet values change in
one TransactWriteItems (built by `writes`), so neither the summary nor search
ever drifts from the records. The table's layout is in `layout`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog import rebuild, writes
from chalicelib.catalog.analysis import Analysis, timeline_entries
from chalicelib.catalog.batch import get_items
from chalicelib.catalog.duplicate_index import DuplicateIndex
from chalicelib.catalog.layout import (
    INDEX_VERSION,
    SIZE_INDEX,
    STATUS_DELETED,
    counter_pk,
    decode,
    image_pk,
    public_record,
    shard_of,
    version_of,
)
from chalicelib.catalog.query import Search
from chalicelib.catalog.records import STATUS_OK
from chalicelib.catalog.search import Searcher
from chalicelib.catalog.summary import build_summary, facet_summary, merge_shards

MAX_ATTEMPTS = 8
TOP_VALUES = 10  # cameras, lenses and keywords in the summary


@dataclass(frozen=True)
class Entry:
    """What the catalog holds for one key: the record (None for a tombstone)."""

    revision: int
    sequencer: str
    record: dict[str, Any] | None
    indexed: bool = True  # its index items and facet counters were written
    # The item as read, so that a write right after needs no second read.
    item: dict[str, Any] | None = field(default=None, repr=False, compare=False)


UNREAD: Any = object()  # `put`/`delete` were not given what `entry()` returned


class CatalogBusyError(Exception):
    """Too many concurrent writers on one key or counter shard; retry later."""


class Catalog:
    """Records and counters in one DynamoDB table, through a low-level client."""

    def __init__(self, client: Any, table: str, shards: int = 1, tombstone_ttl: int = 604800):
        self._client = client
        self._table = table
        self._shards = shards
        self._tombstone_ttl = tombstone_ttl
        self._searcher = Searcher(client, table, shards)
        self._analysis = Analysis(client, table, shards)
        self.duplicates = DuplicateIndex(client, table, shards)

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
        put = rebuild.counters_put(self._table, shard, counters, expected_version)
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
        distinct = self._analysis.distinct()
        extras: dict[str, Any] = {
            name: {"distinct": distinct[facet], "top": self._analysis.top(facet, TOP_VALUES)}
            for name, facet in (("cameras", "camera"), ("lenses", "lens"), ("keywords", "keyword"))
        }
        extras["taken_range"] = self._analysis.taken_range(self._searcher)
        extras["duplicates"] = self.duplicates.summary()
        return build_summary(
            merge_shards(shards),
            max((r for r in biggest if r), key=lambda r: r["size"], default=None),
            min((r for r in smallest if r), key=lambda r: r["size"], default=None),
            extras,
        )

    def search_images(
        self, search: Search, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of records matching `search`, in its order, and where to continue."""
        return self._searcher.walk(search, limit, after)

    def facet_values(
        self, facet: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of one facet's values in value order, with their counts."""
        values, last = self._analysis.value_page(facet, limit, after)
        return [{k: v for k, v in entry.items() if k != "days"} for entry in values], last

    def timeline(
        self, by: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Images per capture year (one page), month or day (pages of months)."""
        if by == "year":
            counters = merge_shards([item for item in self.counter_shards().values() if item])
            years = facet_summary(counters)["years"]
            return [{"period": str(y["year"]), "count": y["count"]} for y in years], None
        months, last = self._analysis.value_page("month", limit, after)
        return timeline_entries(months, by), last

    # --- writes ---------------------------------------------------------
    def put(
        self,
        record: dict[str, Any],
        sequencer: str,
        if_revision: int | None = None,
        seen: Entry | None = UNREAD,
    ) -> bool:
        """Store `record` unless a newer (or the same) event was applied already.

        An empty sequencer (a hand-made event, a reconcile) is applied in
        arrival order. With `if_revision`, the write happens only if the key
        is still at that revision (0: no entry at all). `seen` is what
        `entry()` returned just before (None: nothing), which saves reading
        the item again; if it changed since, the write notices and re-reads.
        Returns False when nothing changed.
        """
        return self._apply(record["s3objectkey"], sequencer, record, if_revision, seen)

    def delete(self, key: str, sequencer: str, if_revision: int | None = None) -> bool:
        """Replace the record of `key` by a tombstone, on the same terms as `put`."""
        return self._apply(key, sequencer, None, if_revision)

    def _apply(
        self,
        key: str,
        sequencer: str,
        record: dict[str, Any] | None,
        if_revision: int | None,
        seen: Entry | None = UNREAD,
    ) -> bool:
        for attempt in range(MAX_ATTEMPTS):
            if attempt == 0 and seen is not UNREAD:
                current = seen.item if seen is not None else None
            else:
                current = self._get_item(key, consistent=True)
            if current and sequencer and current.get("sequencer", "") >= sequencer:
                return False
            revision = int(current["revision"]) if current else 0
            if if_revision is not None and if_revision != revision:
                return False
            if self._transact(key, sequencer, record, current):
                return True
            # Someone changed the key, its counter shard or a facet value: re-read, retry.
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise CatalogBusyError(f"gave up writing {key!r} after {MAX_ATTEMPTS} attempts")

    def enrich(self, key: str, etag: str, sequencer: str, fields: dict[str, Any]) -> bool:
        """Add the pixel stage's `fields` to the record of `key`, only while it is the
        `ok` version (etag, sequencer) they were computed from and has none yet.

        Same transaction discipline as `put` (revision guard, index items and
        counters, the duplicate items and counters); the stored sequencer is kept.
        Returns False when the record is gone, changed or already enriched.
        """
        for attempt in range(MAX_ATTEMPTS):
            current = self._get_item(key, consistent=True)
            record = _entry(current).record if current else None
            if (
                record is None
                or record.get("status") != STATUS_OK
                or record.get("etag") != etag
                or current.get("sequencer", "") != sequencer
                or any(name in record for name in fields)
            ):
                return False
            if self._transact(key, sequencer, {**record, **fields}, current):
                return True
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise CatalogBusyError(f"gave up enriching {key!r} after {MAX_ATTEMPTS} attempts")

    def _transact(
        self,
        key: str,
        sequencer: str,
        record: dict[str, Any] | None,
        current: dict[str, Any] | None,
    ) -> bool:
        """One attempt at replacing `current` by `record`; False when it was cancelled."""
        live = current if current and current.get("status") != STATUS_DELETED else None
        shard = self.shard_of(key)
        facet_items = self._facet_items(writes.facet_keys(live, record, shard))
        expires_at = int(time.time()) + self._tombstone_ttl
        operations = writes.operations(
            self._table, key, shard, sequencer, record, current, facet_items, expires_at
        )
        try:
            self._client.transact_write_items(TransactItems=operations)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False

    # --- helpers --------------------------------------------------------
    def _facet_items(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        """The facet items a write depends on, as they are now (strongly consistent)."""
        return get_items(self._client, self._table, pks, consistent=True)

    def _get_item(self, key: str, consistent: bool) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": image_pk(key)}}, ConsistentRead=consistent
        )
        return decode(response["Item"]) if "Item" in response else None

    def counter_shards(self, only: Iterable[int] | None = None) -> dict[int, dict[str, Any] | None]:
        """Each counter shard's item as stored (None when missing), by shard number: all
        of them, or `only` those."""
        shards = list(range(self._shards) if only is None else only)
        found = get_items(
            self._client, self._table, [counter_pk(n) for n in shards], consistent=True
        )
        return {n: found.get(counter_pk(n)) for n in shards}

    def shard_versions(self) -> dict[int, int | None]:
        """Each counter shard's version now: read before counting, they guard a rebuild."""
        return {n: version_of(item) for n, item in self.counter_shards().items()}

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
    indexed = item.get("iv") == INDEX_VERSION
    return Entry(int(item["revision"]), item.get("sequencer", ""), record, indexed, item)
