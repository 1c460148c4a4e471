"""Facet items recomputed from the records, and the writes that make the stored ones
equal them (reconcile's last pass). Pure.

The value items of shard N change only in transactions that also bump the
version of counter shard N, and presence items only in transactions that bump
some shard's version, so a rewrite guarded by the versions read before counting
can never overwrite a concurrent change: it fails instead, and the next
reconcile tries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from chalicelib.catalog.facets import facet_partition, presence_pk, record_values, value_pk
from chalicelib.catalog.layout import DISTINCT_PK, counter_pk

MAX_WRITES = 90  # per transaction, leaving room for the version checks
_serializer = TypeSerializer()


def facet_truth(records: Iterable[tuple[int, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every facet item as it should be, by pk, from (shard, record) pairs."""
    values: dict[str, dict[str, Any]] = {}
    for shard, record in records:
        add_values(values, shard, record)
    return {**values, **presence_truth(values)}


def add_values(values: dict[str, dict[str, Any]], shard: int, record: dict[str, Any]) -> None:
    """Add what `record` (of counter shard `shard`) contributes to the value items."""
    for (facet, value), (label, amounts) in record_values(record).items():
        pk = value_pk(facet, shard, value)
        item = values.setdefault(
            pk, {"pk": pk, "fk": facet_partition(facet, shard), "v": value, "label": label}
        )
        for name, amount in amounts.items():
            item[name] = item.get(name, 0) + amount


def presence_truth(value_pks: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The presence items and the distinct counters, by pk, from the pks of the value
    items that should exist (a value is present in a shard while its item exists)."""
    items: dict[str, dict[str, Any]] = {}
    distinct: dict[str, set[str]] = {}
    for pk in value_pks:
        _, facet, shard, value = pk.split("#", 3)
        presence = items.setdefault(presence_pk(facet, value), {"pk": presence_pk(facet, value)})
        presence.setdefault("shards", set()).add(int(shard))
        distinct.setdefault(facet, set()).add(value)
    if distinct:
        items[DISTINCT_PK] = {
            "pk": DISTINCT_PK,
            **{f"distinct_{facet}": len(found) for facet, found in distinct.items()},
        }
    return items


def differences(
    stored: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]
) -> list[tuple[str, dict[str, Any] | None]]:
    """(pk, the item to write or None to delete) where the stored items differ."""
    found = []
    for pk in sorted(set(stored) | set(truth)):
        want, have = truth.get(pk), stored.get(pk)
        if want is None:
            found.append((pk, None))
        elif have is None or _content(have) != _content(want):
            # Keep the label first seen and the version counters tick on.
            kept = {k: have[k] for k in ("label",) if have and k in have}
            version = {"ver": int((have or {}).get("ver", 0)) + 1} if "shards" in want else {}
            found.append((pk, {**want, **kept, **version}))
    return found


def shard_of_item(pk: str) -> int | None:
    """The counter shard a value item belongs to (None: presence and distinct items)."""
    if not pk.startswith("fv#"):
        return None
    return int(pk.split("#", 3)[2])


def guarded_writes(
    table: str,
    writes: list[tuple[str, dict[str, Any] | None]],
    versions: dict[int, int | None],
) -> list[list[dict[str, Any]]]:
    """Transactions applying `writes`, each checking that the counter shard versions
    (those given) are still as read."""
    checks = [_version_check(table, shard, version) for shard, version in versions.items()]
    transactions = []
    for start in range(0, len(writes), MAX_WRITES - len(checks)):
        ops = list(checks)
        for pk, item in writes[start : start + MAX_WRITES - len(checks)]:
            if item is None:
                ops.append({"Delete": {"TableName": table, "Key": {"pk": {"S": pk}}}})
            else:
                encoded = {k: _serializer.serialize(v) for k, v in item.items()}
                ops.append({"Put": {"TableName": table, "Item": encoded}})
        transactions.append(ops)
    return transactions


def _version_check(table: str, shard: int, version: int | None) -> dict[str, Any]:
    check: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": counter_pk(shard)}}}
    if version is None:
        check["ConditionExpression"] = "attribute_not_exists(version)"
    else:
        check["ConditionExpression"] = "version = :v"
        check["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
    return {"ConditionCheck": check}


def _content(item: dict[str, Any]) -> dict[str, Any]:
    """What must be equal: counts, bytes, days, shards (not labels or versions)."""
    content = {}
    for name, value in item.items():
        if name in ("label", "ver", "version"):
            continue
        if name == "shards":
            content[name] = {int(shard) for shard in value}
        elif isinstance(value, str):
            content[name] = value
        elif int(value):  # a counter at zero is the same as none
            content[name] = int(value)
    return content
