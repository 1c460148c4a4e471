"""Counters per facet value (camera, lens, keyword, month): items, changes, transitions. Pure.

A facet with an open set of values cannot live on the counter shard item (it
would grow without bound, and DynamoDB bills an update by the item's size),
so each value has its own small item per counter shard:

    pk `fv#<facet>#<shard>#<value>`: fk `<facet>#<shard>`, v, label, n, b (+ dNN days)

indexed by count (`by_count`: top values) and by value (`by_value`: full lists
and the timeline in order). A value item exists exactly while its count is
positive, so a second item per value, `fp#<facet>#<value>` (the shards where it
is present), tells when a value appears in or leaves the collection: then the
facet's `distinct_<facet>` counter changes. Both kinds change in the record's
transaction, each guarded by a condition on what was read before it, so a
concurrent change cancels the transaction and it is retried with fresh reads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from chalicelib.catalog.indexes import keywords, local_time, term_value
from chalicelib.catalog.records import STATUS_OK

VALUE_FACETS = ("camera", "lens", "keyword", "month")


class Change(NamedTuple):
    facet: str
    value: str
    label: str
    amounts: dict[str, int]  # n (images), b (bytes), dNN (images on day NN of a month)


def camera_label(make: Any, model: Any) -> str | None:
    """ "Canon EOS R5" from make "Canon" and model "Canon EOS R5" (or "EOS R5")."""
    make = make.strip() if isinstance(make, str) else ""
    model = model.strip() if isinstance(model, str) else ""
    if model and make and model.casefold().startswith(make.casefold()):
        return model
    return " ".join(part for part in (make, model) if part) or None


Contribution = dict[tuple[str, str], tuple[str, dict[str, int]]]


def record_values(record: dict[str, Any] | None) -> Contribution:
    """What an `ok` record adds to each facet value: {(facet, value): (label, amounts)}."""
    if not record or record.get("status") != STATUS_OK:
        return {}
    size = int(record.get("size") or 0)
    found: Contribution = {}
    camera = record.get("camera") or {}
    labels = {
        "camera": camera_label(camera.get("make"), camera.get("model")),
        "lens": camera.get("lens") if isinstance(camera.get("lens"), str) else None,
    }
    for facet, label in labels.items():
        value = term_value(label)
        if value:
            found[(facet, value)] = (label.strip(), {"n": 1, "b": size})
    for value, label in keywords(record).items():
        found[("keyword", value)] = (label, {"n": 1, "b": size})
    taken = local_time(record.get("taken_at"))
    if taken:
        found[("month", taken[:7])] = (taken[:7], {"n": 1, "b": size, f"d{taken[8:10]}": 1})
    return found


def changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Change]:
    """The non-zero differences between the facet values of `old` and `new`."""
    before, after = record_values(old), record_values(new)
    found = []
    for facet, value in sorted(set(before) | set(after)):
        label = (after.get((facet, value)) or before[(facet, value)])[0]
        removed = before.get((facet, value), ("", {}))[1]
        added = after.get((facet, value), ("", {}))[1]
        amounts = {
            name: added.get(name, 0) - removed.get(name, 0) for name in set(added) | set(removed)
        }
        amounts = {name: amount for name, amount in sorted(amounts.items()) if amount}
        if amounts:
            found.append(Change(facet, value, label, amounts))
    return found


def value_pk(facet: str, shard: int, value: str) -> str:
    return f"fv#{facet}#{shard}#{value}"


def presence_pk(facet: str, value: str) -> str:
    return f"fp#{facet}#{value}"


def facet_partition(facet: str, shard: int) -> str:
    return f"{facet}#{shard}"


def operations(
    table: str,
    shard: int,
    found: list[Change],
    current: dict[str, dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Transaction operations (in the low-level client's form) applying `found` in
    `shard`, given the value and presence items as read (`current`, by pk), and
    the increments of the `distinct_<facet>` counters."""
    ops: list[dict[str, Any]] = []
    distinct: dict[str, int] = {}
    for change in found:
        pk = value_pk(change.facet, shard, change.value)
        item = current.get(pk)
        count = int(item["n"]) if item else 0
        # Below zero only if the items were damaged: clamp, and reconcile repairs.
        after = max(count + change.amounts.get("n", 0), 0)
        if after == 0:
            ops.append({"Delete": _guarded(table, pk, count)})
        else:
            ops.append({"Update": _add(table, pk, change, shard, count)})
        if (count == 0) != (after == 0):  # the value enters or leaves this shard
            op, gained = _presence(table, change, shard, current, entering=after > 0)
            ops.append(op)
            if gained:
                name = f"distinct_{change.facet}"
                distinct[name] = distinct.get(name, 0) + gained
    return ops, {name: amount for name, amount in distinct.items() if amount}


def _guarded(table: str, pk: str, count: int) -> dict[str, Any]:
    """Key and a condition that the item holds `count` (0: that it does not exist)."""
    request: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": pk}}}
    if count == 0:
        request["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        request["ConditionExpression"] = "n = :was"
        request["ExpressionAttributeValues"] = {":was": {"N": str(count)}}
    return request


def _add(table: str, pk: str, change: Change, shard: int, count: int) -> dict[str, Any]:
    request = _guarded(table, pk, count)
    values = request.setdefault("ExpressionAttributeValues", {})
    names, adds = {}, []
    for i, (name, amount) in enumerate(change.amounts.items()):
        names[f"#a{i}"], values[f":a{i}"] = name, {"N": str(amount)}
        adds.append(f"#a{i} :a{i}")
    values.update(
        {
            ":fk": {"S": facet_partition(change.facet, shard)},
            ":v": {"S": change.value},
            ":label": {"S": change.label},
        }
    )
    request["ExpressionAttributeNames"] = names
    request["UpdateExpression"] = "SET fk = :fk, v = :v, label = if_not_exists(label, :label)" + (
        " ADD " + ", ".join(adds) if adds else ""
    )
    return request


def _presence(
    table: str, change: Change, shard: int, current: dict[str, dict[str, Any]], entering: bool
) -> tuple[dict[str, Any], int]:
    """The presence item's operation and what it does to the distinct count (+1, -1, 0)."""
    pk = presence_pk(change.facet, change.value)
    item = current.get(pk)
    shards = {int(s) for s in item["shards"]} if item else set()
    version = int(item["ver"]) if item else 0
    request: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": pk}}}
    if version:
        request["ConditionExpression"] = "ver = :ver"
        request["ExpressionAttributeValues"] = {":ver": {"N": str(version)}}
    else:
        request["ConditionExpression"] = "attribute_not_exists(pk)"
    remaining = shards | {shard} if entering else shards - {shard}
    if not remaining:
        return {"Delete": request}, -1 if shards else 0
    request.setdefault("ExpressionAttributeValues", {}).update(
        {":s": {"NS": [str(shard)]}, ":one": {"N": "1"}}
    )
    request["UpdateExpression"] = (
        "ADD shards :s, ver :one" if entering else "DELETE shards :s SET ver = ver + :one"
    )
    return {"Update": request}, 1 if not shards else 0
