"""The catalog's DynamoDB layout: one table, its indexes, and how items are keyed.

- `image#<key>`: the record, with the event `sequencer` that wrote it and a
  `revision` used for optimistic locking. The record's fields are packed into
  one compressed binary attribute, `doc` (see `compact`); the few that
  indexes, projections and filters use (`s3objectkey`, `size`, `format`,
  `width`, `height`, `status`) are plain attributes too. Items written before
  `doc` existed (every field a plain attribute) read the same. A delete leaves a tombstone
  (`status` = `deleted`, `expires_at` for DynamoDB TTL) so a late, older
  create event cannot bring the image back.
- `counters#<n>`: images and bytes per format and records per status, in N
  shards chosen by a hash of the key.
- Index `by_size` (hash `size_shard`, range `size`): only `ok` records carry
  `size_shard`, so the index is sparse and biggest/smallest are one `Limit=1`
  query each way per shard.
- Index `by_key` (hash `list_shard`, range `s3objectkey`): every live record
  (not tombstones), for listing in key order without a Scan.

Pure: builds names, items and request arguments; never calls AWS.
"""

from __future__ import annotations

import zlib
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.catalog.compact import pack, unpack
from chalicelib.catalog.indexes import SORT_KEYS
from chalicelib.catalog.records import from_dynamo, normalize, to_dynamo

SIZE_INDEX = "by_size"
LIST_INDEX = "by_key"
STATUS_DELETED = "deleted"
IMAGE_PREFIX = "image#"
DISTINCT_PK = "counters#distinct"  # distinct values per facet (changes only as values come and go)
RECORD_ORDERS = {"by_taken": "taken_sk", "by_uploaded": "uploaded_sk", "by_bytes": "bytes_sk"}
INTERNAL_FIELDS = (
    "pk",
    "sequencer",
    "revision",
    "size_shard",
    "list_shard",
    "expires_at",
    "iv",
    "doc",
    *SORT_KEYS,
)
# Plain attributes besides `doc`: index keys, the by_size projection, the listing filter.
INDEXED_FIELDS = ("s3objectkey", "size", "format", "width", "height", "status")
# Records stored before the search indexes existed lack `iv`: their index items and
# facet counters are written when reconcile (FORCE=1) stores them again.
INDEX_VERSION = 1

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
            {"AttributeName": "list_shard", "AttributeType": "S"},
            {"AttributeName": "s3objectkey", "AttributeType": "S"},
            *(
                {"AttributeName": name, "AttributeType": "S"}
                for name in (*SORT_KEYS, "ix", "fk", "v")
            ),
            {"AttributeName": "n", "AttributeType": "N"},
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
            },
            {
                "IndexName": LIST_INDEX,
                "KeySchema": [
                    {"AttributeName": "list_shard", "KeyType": "HASH"},
                    {"AttributeName": "s3objectkey", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            # Search: every live record in each order; the index items of each term in
            # the key and capture-time orders; facet values by count and by value.
            *(_index(name, "list_shard", attribute) for name, attribute in RECORD_ORDERS.items()),
            _index("ix_key", "ix", "s3objectkey"),
            _index("ix_taken", "ix", "taken_sk"),
            _index("by_count", "fk", "n", everything=True),
            _index("by_value", "fk", "v", everything=True),
        ],
    }


def _index(name: str, hash_key: str, range_key: str, everything: bool = False) -> dict[str, Any]:
    # A walk needs only the key of each record it meets; facet value items are tiny.
    projection = (
        {"ProjectionType": "ALL"}
        if everything
        else {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s3objectkey"]}
    )
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": projection,
    }


def shard_of(key: str, shards: int) -> int:
    """The counter and index shard of a key: a stable hash, so every writer agrees."""
    return zlib.crc32(key.encode("utf-8")) % shards


def image_pk(key: str) -> str:
    return IMAGE_PREFIX + key


def counter_pk(shard: int) -> str:
    return f"counters#{shard}"


def version_of(item: dict[str, Any] | None) -> int | None:
    """The version a counter item holds (None: no item, or one never versioned)."""
    return int(item["version"]) if item and "version" in item else None


def counter_update(
    table: str, pk: str, increments: dict[str, int], labels: dict[str, str]
) -> dict[str, Any]:
    """The Update that adds `increments` to one counter item and sets its `labels`."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds, sets = [], []
    # Every change bumps the shard's version, so a counter rebuild can tell
    # whether anything was written while it was counting.
    increments = {**increments, "version": 1}
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
        "TableName": table,
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def record_attributes(record: dict[str, Any]) -> dict[str, Any]:
    """The stored attributes of a record (without the catalog's own fields)."""
    plain = {k: record[k] for k in INDEXED_FIELDS if record.get(k) is not None}
    fields = normalize({k: v for k, v in record.items() if k != "s3objectkey"})
    return {**to_dynamo(plain), "doc": pack(fields)}


def public_record(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as the API returns it: internal fields dropped, numbers as JSON.

    Index items projected without `doc` (by_size) give their plain attributes.
    """
    doc = item.get("doc")
    if doc is not None:
        return {"s3objectkey": item["s3objectkey"], **unpack(getattr(doc, "value", doc))}
    return {k: from_dynamo(v) for k, v in item.items() if k not in INTERNAL_FIELDS}


def encode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
