"""The DynamoDB catalog: one item per image key, plus collection counters.

Layout (one table, hash key `pk`):
- `image#<key>`: the record, with the event `sequencer` that wrote it and a
  `revision` used for optimistic locking. A delete leaves a tombstone
  (`status` = `deleted`, `expires_at` for DynamoDB TTL) so a late, older
  create event cannot bring the image back.
- `counters#<n>`: images and bytes per format and records per status, in N
  shards chosen by a hash of the key.
- Index `by_size` (hash `size_shard`, range `size`): only `ok` records carry
  `size_shard`, so the index is sparse and biggest/smallest are one `Limit=1`
  query each way per shard.

The record and its counter shard change in one TransactWriteItems, so the
summary never drifts from the records.
"""

from __future__ import annotations

import random
import time
import zlib
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.records import STATUS_OK, from_dynamo, to_dynamo
from chalicelib.summary import build_summary, counter_changes, merge_shards

SIZE_INDEX = "by_size"
STATUS_DELETED = "deleted"
INTERNAL_FIELDS = ("pk", "sequencer", "revision", "size_shard", "expires_at")
MAX_ATTEMPTS = 8

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table_definition(table_name: str) -> dict[str, Any]:
    """`create_table` arguments for the catalog (local stack, tests, templates)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "size_shard", "AttributeType": "S"},
            {"AttributeName": "size", "AttributeType": "N"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": SIZE_INDEX,
                "KeySchema": [
                    {"AttributeName": "size_shard", "KeyType": "HASH"},
                    {"AttributeName": "size", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["s3objectkey", "format", "width", "height"],
                },
            }
        ],
    }


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

    def sequencer_of(self, key: str) -> str | None:
        """The sequencer of the last event applied to `key`, if any."""
        item = self._get_item(key, consistent=True)
        return item.get("sequencer") if item else None

    def summary(self) -> dict[str, Any]:
        """`GET /summary`: a fixed number of reads whatever the collection size."""
        keys = [{"pk": {"S": _counter_pk(n)}} for n in range(self._shards)]
        response = self._client.batch_get_item(
            RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
        )
        # N is small (a setting); unprocessed keys only appear under throttling.
        shards = [_decode(item) for item in response["Responses"].get(self._table, [])]
        while response.get("UnprocessedKeys"):
            response = self._client.batch_get_item(RequestItems=response["UnprocessedKeys"])
            shards += [_decode(item) for item in response["Responses"].get(self._table, [])]
        biggest = [self._extreme(n, largest=True) for n in range(self._shards)]
        smallest = [self._extreme(n, largest=False) for n in range(self._shards)]
        return build_summary(
            merge_shards(shards),
            max((r for r in biggest if r), key=lambda r: r["size"], default=None),
            min((r for r in smallest if r), key=lambda r: r["size"], default=None),
        )

    # --- writes ---------------------------------------------------------
    def put(self, record: dict[str, Any], sequencer: str) -> bool:
        """Store `record` unless a newer (or the same) event was applied already.

        Returns False when the event was stale and nothing changed.
        """
        return self._apply(record["s3objectkey"], sequencer, record)

    def delete(self, key: str, sequencer: str) -> bool:
        """Replace the record of `key` by a tombstone, unless a newer event won."""
        return self._apply(key, sequencer, None)

    def _apply(self, key: str, sequencer: str, record: dict[str, Any] | None) -> bool:
        for attempt in range(MAX_ATTEMPTS):
            current = self._get_item(key, consistent=True)
            # An empty sequencer (a hand-made event) is applied in arrival order.
            if current and sequencer and current.get("sequencer", "") >= sequencer:
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
        shard = self._shard(key)
        revision = int(current["revision"]) + 1 if current else 1
        item: dict[str, Any] = {"pk": _image_pk(key), "sequencer": sequencer, "revision": revision}
        if record is None:
            item.update(
                s3objectkey=key,
                status=STATUS_DELETED,
                expires_at=int(time.time()) + self._tombstone_ttl,
            )
        else:
            item.update(to_dynamo(record))
            if record["status"] == STATUS_OK:
                item["size_shard"] = str(shard)
        put: dict[str, Any] = {"TableName": self._table, "Item": _encode(item)}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = {":revision": {"N": str(current["revision"])}}
        operations = [{"Put": put}]
        increments, labels = counter_changes(live, record)
        if increments or labels:
            operations.append({"Update": self._counter_update(shard, increments, labels)})
        self._client.transact_write_items(TransactItems=operations)

    def _counter_update(
        self, shard: int, increments: dict[str, int], labels: dict[str, str]
    ) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets = [], []
        for i, (name, value) in enumerate(sorted(increments.items())):
            names[f"#a{i}"], values[f":a{i}"] = name, {"N": str(value)}
            adds.append(f"#a{i} :a{i}")
        for i, (name, value) in enumerate(sorted(labels.items())):
            names[f"#s{i}"], values[f":s{i}"] = name, {"S": value}
            sets.append(f"#s{i} = :s{i}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(sets) if sets else "",
                "ADD " + ", ".join(adds) if adds else "",
            )
            if part
        )
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": _counter_pk(shard)}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # --- helpers --------------------------------------------------------
    def _get_item(self, key: str, consistent: bool) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": _image_pk(key)}}, ConsistentRead=consistent
        )
        return _decode(response["Item"]) if "Item" in response else None

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
        return public_record(_decode(items[0])) if items else None

    def _shard(self, key: str) -> int:
        return zlib.crc32(key.encode("utf-8")) % self._shards


def public_record(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as the API returns it: internal fields dropped, numbers as JSON."""
    return {k: from_dynamo(v) for k, v in item.items() if k not in INTERNAL_FIELDS}


def _image_pk(key: str) -> str:
    return "image#" + key


def _counter_pk(shard: int) -> str:
    return f"counters#{shard}"


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
