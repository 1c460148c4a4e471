"""Reading the duplicate items (see `duplicates`): lookups, the summary, the rebuild.

A lookup reads index entries only (never the records, never a Scan) and at
most READ_BUDGET of them per request; when it stops short it says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog import duplicates
from chalicelib.catalog.batch import get_items
from chalicelib.catalog.layout import decode, encode
from chalicelib.catalog.repair import MAX_WRITES

READ_BUDGET = 200  # index entries one lookup may read, exact and near together
NEAR_DISTANCE = 3  # every hash within this Hamming distance shares a band: complete
NEAR_REPORTED = 8  # candidates up to this distance are reported too (best effort)
INDEX = "ix_key"


class DuplicateIndex:
    def __init__(self, client: Any, table: str, shards: int) -> None:
        self._client = client
        self._table = table
        self._shards = shards

    def summary(self) -> dict[str, int]:
        """`GET /summary`'s `duplicates`: one BatchGetItem of the counter shards."""
        pks = [duplicates.counter_pk(n) for n in range(self._shards)]
        return duplicates.counted(get_items(self._client, self._table, pks).values())

    def lookup(self, record: dict[str, Any], band_values: tuple[str, ...]) -> dict[str, Any]:
        """Exact copies (same content_sha256) and near ones (phash within NEAR_REPORTED,
        found through `band_values`, the record's phash bands) of one record."""
        key, sha, phash = record["s3objectkey"], record["content_sha256"], record.get("phash")
        budget = READ_BUDGET
        members, complete = self._query(duplicates.member_partition(sha), budget)
        budget -= len(members)
        exact = [found for found in (m["s3objectkey"] for m in members) if found != key]
        size = int(record.get("size") or 0)
        near: dict[str, int] = {}
        for n, band in enumerate(band_values if phash else ()):
            share = max(budget // (len(band_values) - n), 0)
            entries, whole = self._query(duplicates.band_partition(band), share)
            budget -= len(entries)
            complete = complete and whole
            for entry in entries:
                other = entry["s3objectkey"]
                distance = _distance(phash, duplicates.phash_of_band_pk(entry["pk"]))
                if other != key and other not in exact and distance <= NEAR_REPORTED:
                    near[other] = distance
        return {
            "s3objectkey": key,
            "content_sha256": sha,
            "phash": phash,
            "exact": [{"s3objectkey": other, "size": size} for other in exact],
            "near": [
                {"s3objectkey": other, "distance": distance}
                for other, distance in sorted(near.items(), key=lambda kv: (kv[1], kv[0]))
            ],
            "near_complete_within": NEAR_DISTANCE,
            "complete": complete,
        }

    def _query(self, partition: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` entries of one index partition, and whether that was all of it."""
        found: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while len(found) < limit:
            start_at = {"ExclusiveStartKey": start} if start else {}
            response = self._client.query(
                TableName=self._table,
                IndexName=INDEX,
                KeyConditionExpression="ix = :ix",
                ExpressionAttributeValues={":ix": {"S": partition}},
                Limit=limit - len(found),
                **start_at,
            )
            found += [decode(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                return found, True
        return found, False

    def rebuild(self, records: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, bool]:
        """Make the stored duplicate items and counters equal a recomputation from
        `records` (key, record); returns (items written, whether a concurrent write
        made it give up). Guarded by every counter shard's version, read first."""
        counters = self.counter_items()
        truth = duplicates.truth(records)
        writes = index_writes(self._table, self._stored(), truth)
        return self.apply(writes, counters, duplicates.totals(truth))

    def counter_items(self) -> dict[str, dict[str, Any] | None]:
        """The `dups#<n>` counter items as stored now (their versions guard a rebuild)."""
        pks = [duplicates.counter_pk(n) for n in range(self._shards)]
        found = get_items(self._client, self._table, pks, consistent=True)
        return {pk: found.get(pk) for pk in pks}

    def apply(
        self,
        writes: list[dict[str, Any]],
        counters: dict[str, dict[str, Any] | None],
        total: dict[str, int] | None,
    ) -> tuple[int, bool]:
        """Apply `writes` guarded by the versions of `counters` (as read before the
        count), then set the counters to `total` (None: leave them); (written, busy)."""
        pks = list(counters)
        have_total = duplicates.counted(counters.values())
        if total is not None and have_total == {
            "groups": total["dup_groups"],
            "wasted_bytes": total["dup_wasted"],
        }:
            total = None
        if not writes and total is None:
            return 0, False
        checks = [_version_check(self._table, pk, counters.get(pk)) for pk in pks]
        # Everything on shard 0 (the summary adds the shards up), the others zeroed;
        # each Put carries its shard's version check (one item, one operation).
        counter_puts = []
        for n, (pk, check) in enumerate(zip(pks, checks, strict=True)):
            values = total if n == 0 else {"dup_groups": 0, "dup_wasted": 0}
            version = int((counters.get(pk) or {}).get("version", 0)) + 1
            item = encode({"pk": pk, **(values or {}), "version": version})
            put = {"TableName": self._table, "Item": item, **check["ConditionCheck"]}
            put.pop("Key")
            counter_puts.append({"Put": put})
        step = MAX_WRITES - len(pks)
        chunks = [writes[i : i + step] for i in range(0, len(writes), step)] or [[]]
        written = 0
        for i, chunk in enumerate(chunks):
            # The counters are written last: a cancelled rebuild leaves them as they were.
            last = i == len(chunks) - 1 and total is not None
            guard = counter_puts if last else checks
            try:
                self._client.transact_write_items(TransactItems=[*chunk, *guard])
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                return written, True
            written += len(chunk)
        return written, False

    def _stored(self) -> dict[str, dict[str, Any]]:
        """Every group, member and band item as stored (reconcile only: a Scan)."""
        prefixes = (duplicates.GROUP_PREFIX, duplicates.MEMBER_PREFIX, duplicates.BAND_PREFIX)
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            ConsistentRead=True,
            FilterExpression=" OR ".join(f"begins_with(pk, :p{i})" for i in range(3)),
            ExpressionAttributeValues={f":p{i}": {"S": p} for i, p in enumerate(prefixes)},
        )
        found = {}
        for page in pages:
            for raw in page["Items"]:
                item = decode(raw)
                found[item.pop("pk")] = item
        return found


def index_writes(
    table: str, stored: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The Put and Delete operations making the `stored` group and index items (by
    pk, without it) equal `truth`."""
    writes: list[dict[str, Any]] = []
    for pk in sorted(set(stored) | set(truth)):
        want, have = truth.get(pk), stored.get(pk)
        if want is None:
            writes.append({"Delete": {"TableName": table, "Key": {"pk": {"S": pk}}}})
        elif have is None or any(str(have.get(k)) != str(v) for k, v in want.items()):
            writes.append({"Put": {"TableName": table, "Item": encode({"pk": pk, **want})}})
    return writes


def _distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def _version_check(table: str, pk: str, item: dict[str, Any] | None) -> dict[str, Any]:
    check: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": pk}}}
    if item is None or "version" not in item:
        check["ConditionExpression"] = "attribute_not_exists(version)"
    else:
        check["ConditionExpression"] = "version = :v"
        check["ExpressionAttributeValues"] = {":v": {"N": str(item["version"])}}
    return {"ConditionCheck": check}
