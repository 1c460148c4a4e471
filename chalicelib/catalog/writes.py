"""The one transaction that stores a record or its tombstone, with all it implies. Pure.

Replacing what a key holds changes, together: the record item (guarded by its
revision), the key's index items, its counter shard, the facet value items of
its old and new values, and when a value enters or leaves the collection, the
distinct-values counters, and its duplicate items and counters. Everything is
derived from the old and new record, so the stored counters and indexes always
equal a recomputation.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog import duplicates, facets
from chalicelib.catalog.indexes import index_operations, sort_keys
from chalicelib.catalog.layout import (
    DISTINCT_PK,
    INDEX_VERSION,
    STATUS_DELETED,
    counter_pk,
    counter_update,
    encode,
    image_pk,
    public_record,
    record_attributes,
)
from chalicelib.catalog.records import STATUS_OK
from chalicelib.catalog.summary import counter_changes

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit; MAX_KEYWORDS keeps the worst case below it


def indexed(live: dict[str, Any] | None) -> dict[str, Any] | None:
    """The live item's record if its index items and facet counters were written, else
    None (a record stored before they existed contributes nothing to them yet)."""
    return public_record(live) if live is not None and live.get("iv") == INDEX_VERSION else None


def facet_keys(live: dict[str, Any] | None, record: dict[str, Any] | None, shard: int) -> list[str]:
    """The facet items the transaction depends on: read them (consistently) first."""
    found = facets.changes(indexed(live), record)
    keys = {facets.value_pk(c.facet, shard, c.value) for c in found}
    keys |= {facets.presence_pk(c.facet, c.value) for c in found}
    keys.update(duplicates.group_keys(public_record(live) if live else None, record))
    return sorted(keys)


def operations(
    table: str,
    key: str,
    shard: int,
    sequencer: str,
    record: dict[str, Any] | None,
    current: dict[str, Any] | None,
    facet_items: dict[str, dict[str, Any]],
    expires_at: int,
) -> list[dict[str, Any]]:
    """TransactWriteItems operations replacing `current` (the stored item, or None) by
    `record` (None: a tombstone), given the facet items read (`facet_items`, by pk)."""
    live = current if current and current.get("status") != STATUS_DELETED else None
    old = indexed(live)  # numbers as JSON numbers, like the records written
    live = public_record(live) if live else None
    revision = int(current["revision"]) + 1 if current else 1
    item: dict[str, Any] = {"pk": image_pk(key), "sequencer": sequencer, "revision": revision}
    if record is None:
        item.update(s3objectkey=key, status=STATUS_DELETED, expires_at=expires_at)
    else:
        item.update(record_attributes(record))  # the record packed in `doc` (see layout)
        item.update(sort_keys(record), list_shard=str(shard), iv=INDEX_VERSION)
        if record["status"] == STATUS_OK:
            item["size_shard"] = str(shard)
    put: dict[str, Any] = {"TableName": table, "Item": encode(item)}
    if current is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "revision = :revision"
        put["ExpressionAttributeValues"] = {":revision": {"N": str(current["revision"])}}
    ops: list[dict[str, Any]] = [{"Put": put}]
    ops += index_operations(table, key, shard, old, record)
    value_ops, distinct = facets.operations(table, shard, facets.changes(old, record), facet_items)
    ops += value_ops
    increments, labels = counter_changes(live, record, old_has_facets=old is not None)
    # Facet value items change only with their counter shard's version (see `repair`).
    if increments or labels or value_ops:
        ops.append({"Update": counter_update(table, counter_pk(shard), increments, labels)})
    if distinct:
        ops.append({"Update": counter_update(table, DISTINCT_PK, distinct, {})})
    # The pixel stage's hashes: duplicate index items, group and counters (see duplicates).
    ops += duplicates.operations(table, key, shard, live, record, facet_items)
    return ops
