"""Reading the facet counters: top values, full lists, the timeline, the capture range.

Each facet value is counted in one item per counter shard (see `facets`). With
one shard, the `by_count` index lists values by count directly. With several,
the top values are found by the threshold algorithm (Fagin et al.): walk every
shard's values by count in rounds; a value not seen yet has at most the sum of
the counts last seen in each shard, so once the k-th best exact total seen
reaches that sum, the top k are known. Full lists walk `by_value` in every
shard in value order and add up the shards of each value: exact, paginated,
and constant per page.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.batch import get_items
from chalicelib.catalog.facets import VALUE_FACETS, facet_partition, value_pk
from chalicelib.catalog.layout import DISTINCT_PK, decode, public_record
from chalicelib.catalog.query import Search
from chalicelib.catalog.search import Searcher

MAX_DEPTH = 1024  # per shard, for the threshold algorithm


class Analysis:
    """Facet reads against one table through a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str, shards: int) -> None:
        self._client = client
        self._table = table
        self._shards = shards

    def distinct(self) -> dict[str, int]:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": DISTINCT_PK}}, ConsistentRead=True
        )
        item = decode(response.get("Item", {}))
        return {facet: int(item.get(f"distinct_{facet}", 0)) for facet in VALUE_FACETS}

    def top(self, facet: str, k: int) -> list[dict[str, Any]]:
        """The k values of `facet` with the most images, ties by value."""
        depth = k
        while True:
            lists = [self._by_count(facet, shard, depth) for shard in range(self._shards)]
            seen = {item["v"] for items, _ in lists for item in items}
            totals = self._totals(facet, seen, lists)
            threshold = sum(items[-1]["n"] for items, more in lists if more and items)
            ranked = sorted(totals.values(), key=lambda entry: (-entry["count"], entry["value"]))
            done = not any(more for _, more in lists) or depth >= MAX_DEPTH
            if done or (len(ranked) >= k and ranked[k - 1]["count"] >= threshold):
                return ranked[:k]
            depth *= 2

    def value_page(
        self, facet: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` values of `facet` in value order with their totals, and the value
        to continue after."""
        walks = [self._by_value(facet, shard, after, limit) for shard in range(self._shards)]
        frontier = min((items[-1]["v"] for items, more in walks if more and items), default=None)
        merged: dict[str, dict[str, Any]] = {}
        for items, _ in walks:
            for item in items:
                if frontier is None or item["v"] <= frontier:
                    _add(merged.setdefault(item["v"], _entry(item)), item)
        page = [merged[value] for value in sorted(merged)][:limit]
        more = frontier is not None or len(merged) > limit
        return page, page[-1]["value"] if more and page else None

    def taken_range(self, searcher: Searcher) -> dict[str, Any] | None:
        """The earliest and latest capture time, with their keys (None: nothing dated)."""
        earliest, _ = searcher.walk(Search(sort="taken_at"), 1)
        latest, _ = searcher.walk(Search(sort="taken_at", descending=True), 1)
        if not earliest or not latest:
            return None
        return {
            "earliest": {k: earliest[0].get(k) for k in ("s3objectkey", "taken_at")},
            "latest": {k: latest[0].get(k) for k in ("s3objectkey", "taken_at")},
        }

    def _by_count(self, facet: str, shard: int, depth: int) -> tuple[list[dict[str, Any]], bool]:
        response = self._client.query(
            TableName=self._table,
            IndexName="by_count",
            KeyConditionExpression="fk = :fk",
            ExpressionAttributeValues={":fk": {"S": facet_partition(facet, shard)}},
            ScanIndexForward=False,
            Limit=depth,
        )
        items = [public_record(decode(raw)) for raw in response.get("Items", [])]
        return items, "LastEvaluatedKey" in response

    def _by_value(
        self, facet: str, shard: int, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        condition, values = "fk = :fk", {":fk": {"S": facet_partition(facet, shard)}}
        if after is not None:
            condition += " AND v > :after"
            values[":after"] = {"S": after}
        response = self._client.query(
            TableName=self._table,
            IndexName="by_value",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            Limit=limit,
        )
        items = [public_record(decode(raw)) for raw in response.get("Items", [])]
        return items, "LastEvaluatedKey" in response

    def _totals(
        self, facet: str, seen: set[str], lists: list[tuple[list[dict[str, Any]], bool]]
    ) -> dict[str, dict[str, Any]]:
        """Exact totals of the seen values: what the walks returned, plus a read of each
        shard item a walk did not reach."""
        totals = {value: None for value in seen}
        items: list[dict[str, Any]] = []
        missing = []
        for shard, (walked, more) in enumerate(lists):
            reached = {item["v"] for item in walked}
            items += walked
            if more:  # an exhausted shard holds nothing else
                missing += [value_pk(facet, shard, v) for v in sorted(seen - reached)]
        items += map(public_record, get_items(self._client, self._table, missing).values())
        found: dict[str, dict[str, Any]] = {}
        for item in items:
            _add(found.setdefault(item["v"], _entry(item)), item)
        return {value: found[value] for value in totals}


def timeline_entries(months: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Month value entries as periods of the timeline (days expanded for `by=day`)."""
    if by == "month":
        return [{"period": m["value"], "count": m["count"], "bytes": m["bytes"]} for m in months]
    return [
        {"period": f"{m['value']}-{day}", "count": count}
        for m in months
        for day, count in sorted(m.get("days", {}).items())
        if count > 0
    ]


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {"value": item["v"], "label": item.get("label", item["v"]), "count": 0, "bytes": 0}


def _add(entry: dict[str, Any], item: dict[str, Any]) -> None:
    """Add one shard item's counts (images, bytes, images per day) to a value's entry."""
    entry["count"] += int(item.get("n", 0))
    entry["bytes"] += int(item.get("b", 0))
    for name, count in item.items():
        if len(name) == 3 and name[0] == "d" and name[1:].isdigit():
            entry.setdefault("days", {})[name[1:]] = entry.get("days", {}).get(name[1:], 0) + count
