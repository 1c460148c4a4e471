"""Walking an index for a search: pages in order, across shards, within a read budget.

A plan (see `query.plan`) names one index and its partitions (one per shard,
times the geohash cells of a bbox). Each round queries every partition from
the current position, merges what came back in order and keeps only what lies
before the first partition's unread rest (the frontier), so the merged order
is exact. The records met are checked against the search's other filters;
after READ_BUDGET index entries a page ends, possibly short, with a position
to continue from.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.batch import get_items
from chalicelib.catalog.layout import IMAGE_PREFIX, STATUS_DELETED, decode, public_record
from chalicelib.catalog.query import Plan, Search, plan

READ_BUDGET = 300  # index entries one request may examine


class Searcher:
    """Search queries against one table through a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str, shards: int) -> None:
        self._client = client
        self._table = table
        self._shards = shards

    def walk(
        self, search: Search, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` matching records in the search's order, and the position to
        continue after (None when the walk reached the end)."""
        walk = plan(search, self._shards)
        found: list[dict[str, Any]] = []
        position, examined = after, 0
        # Enough per partition that one round usually fills a page from one index.
        chunk = min(100, max(5, -(-(limit + 1) // len(walk.partitions)) + 1))
        while True:
            entries, complete = self._round(walk, position, chunk)
            if not entries and not complete:
                return found, position  # no progress possible now: let the client go on
            records = self._records_behind(walk, entries)
            for value, record in zip((e[0] for e in entries), records, strict=True):
                position, examined = value, examined + 1
                if record is not None and search.matches(record):
                    found.append(record)
                    if len(found) == limit:
                        last = complete and value == entries[-1][0]
                        return found, None if last else position
            if complete:
                return found, None
            if examined >= READ_BUDGET:
                return found, position

    def _round(
        self, walk: Plan, position: str | None, chunk: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Entries after `position` that are certainly next in order, and whether the
        walk is complete once they are consumed."""
        entries: list[tuple[str, dict[str, Any]]] = []
        frontier: str | None = None
        complete = True
        for partition in walk.partitions:
            items, more = self._query(walk, partition, position, chunk)
            entries += items
            complete = complete and not more
            if more and items:
                last = items[-1][0]
                if frontier is None:
                    frontier = last
                else:
                    frontier = max(frontier, last) if walk.descending else min(frontier, last)
        entries.sort(key=lambda entry: entry[0].encode(), reverse=walk.descending)
        if frontier is not None:
            edge = frontier.encode()
            entries = [e for e in entries if _before_or_at(e[0].encode(), edge, walk.descending)]
        return entries, complete

    def _query(
        self, walk: Plan, partition: str, position: str | None, chunk: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        low, high = walk.low, walk.high
        if position is not None:  # inclusive bounds: the position itself is dropped below
            if walk.descending:
                high = position if high is None else min(high, position, key=str.encode)
            else:
                low = position if low is None else max(low, position, key=str.encode)
        condition = "#h = :h"
        values: dict[str, Any] = {":h": {"S": partition}}
        if low is not None and high is not None:
            if low.encode() > high.encode():
                return [], False
            condition += " AND #r BETWEEN :low AND :high"
            values.update({":low": {"S": low}, ":high": {"S": high}})
        elif low is not None:
            condition += " AND #r >= :low"
            values[":low"] = {"S": low}
        elif high is not None:
            condition += " AND #r <= :high"
            values[":high"] = {"S": high}
        names = {"#h": walk.hash_attribute}
        if "#r" in condition:
            names["#r"] = walk.range_attribute
        response = self._client.query(
            TableName=self._table,
            IndexName=walk.index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=not walk.descending,
            Limit=chunk,
        )
        items = [decode(raw) for raw in response.get("Items", [])]
        found = [(item[walk.range_attribute], item) for item in items]
        found = [entry for entry in found if entry[0] != position]
        return found, "LastEvaluatedKey" in response

    def _records_behind(
        self, walk: Plan, entries: list[tuple[str, dict[str, Any]]]
    ) -> list[dict[str, Any] | None]:
        """The live record behind each entry (None where it is gone)."""
        if walk.index == "by_key":  # projects whole records
            return [_live(item) for _, item in entries]
        pks = [IMAGE_PREFIX + item["s3objectkey"] for _, item in entries]
        fetched = get_items(self._client, self._table, pks)
        return [_live(fetched[pk]) if pk in fetched else None for pk in pks]


def _before_or_at(value: bytes, edge: bytes, descending: bool) -> bool:
    return value >= edge if descending else value <= edge


def _live(item: dict[str, Any]) -> dict[str, Any] | None:
    return None if item.get("status") == STATUS_DELETED else public_record(item)
