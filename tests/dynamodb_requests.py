"""DynamoDB requests, valid and invalid, for comparing patched moto with stock moto.

Each round sends the same expressions with different values, so a second and
third round hit whatever the patches remember (tests/devstack/
test_moto_patches_requests.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.catalog.layout import LIST_INDEX

TABLE = "patched"
KEY = {"pk": {"S": "item#1"}}


def update(expression: str, values: dict | None = None, names: dict | None = None, **more) -> tuple:
    params: dict[str, Any] = {"TableName": TABLE, "Key": KEY, "UpdateExpression": expression}
    if values is not None:
        params["ExpressionAttributeValues"] = values
    if names is not None:
        params["ExpressionAttributeNames"] = names
    return "update_item", {**params, **more}


def n(value: int) -> dict:
    return {"N": str(value)}


def requests(round_: int) -> Iterator[tuple[str, dict]]:
    """One round of requests; rounds differ in their values, not in their expressions."""
    blob = bytes([round_, 0, 255]) * 3
    item = {
        "pk": {"S": f"image#{round_}"},
        "list_shard": {"S": "0"},
        "s3objectkey": {"S": f"uploads/{round_}.jpg"},
        "raw": {"B": blob},
        "tags": {"SS": ["a", f"t{round_}"]},
        "blobs": {"BS": [blob, b"x"]},
        "nested": {"M": {"l": {"L": [n(round_), {"NULL": True}, {"BOOL": True}]}}},
    }
    yield "put_item", {"TableName": TABLE, "Item": item}
    yield (
        "put_item",
        {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"},
    )
    yield update(
        "SET a = :a, b = if_not_exists(b, :b) ADD c :c", {":a": n(round_), ":b": n(7), ":c": n(1)}
    )
    yield update(
        "SET #x = :x REMOVE d", {":x": {"S": f"x{round_}"}}, {"#x": "x"}, ReturnValues="ALL_NEW"
    )
    yield update("ADD s :s", {":s": {"SS": [f"s{round_}", "z"]}})
    yield update("DELETE s :gone", {":gone": {"SS": ["z"]}}, ReturnValues="ALL_OLD")
    yield update("SET m = :m", {":m": {"M": {"k": n(1)}}}, ReturnValues="UPDATED_OLD")
    yield update(
        "SET l = list_append(if_not_exists(l, :empty), :more), m.k = :k",
        {":empty": {"L": []}, ":more": {"L": [n(round_)]}, ":k": {"B": blob}},
    )
    yield update("SET m.k = :k", {":k": {"B": blob}}, ReturnValues="UPDATED_NEW")
    yield update(
        "SET a = a + :one", {":one": n(1), ":was": n(round_)}, ConditionExpression="a = :was"
    )
    yield update(
        "SET a = a + :one",
        {":one": n(1), ":was": n(-1)},
        ConditionExpression="a = :was",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    yield update(
        "SET e = :e",
        {":e": n(1), ":lo": n(0), ":hi": n(99), ":p": {"S": "x"}},
        ConditionExpression="(a BETWEEN :lo AND :hi) AND begins_with(#x, :p)"
        " AND NOT contains(s, :p) OR size(l) > :lo",
        ExpressionAttributeNames={"#x": "x"},
    )
    yield update(
        "SET e = :e",
        {":e": n(2), ":in": n(3), ":other": n(round_), ":t": {"S": "N"}},
        ConditionExpression="a IN (:in, :other) AND attribute_exists(c) AND attribute_type(c, :t)",
    )
    # The same expressions, valid or not depending on the names they stand for.
    yield update("SET #p = :a", {":a": {"S": "other"}}, {"#p": "p"})
    yield update("SET #p = :a", {":a": {"S": "other"}}, {"#p": "pk"})
    yield update("SET #f = :a, #g = :b", {":a": n(1), ":b": n(2)}, {"#f": "f", "#g": "g"})
    yield update("SET #f = :a, #g = :b", {":a": n(1), ":b": n(2)}, {"#f": "f", "#g": "f"})
    # Invalid: each must fail the same way every time, cached or not.
    yield update("SET a = :a SET b = :a", {":a": n(1)})
    yield update("ADD a :a ADD b :a", {":a": n(1)})
    yield update("SET a = :a, a = :b", {":a": n(1), ":b": n(2)})
    yield update("SET m = :a, m.k = :b", {":a": n(1), ":b": n(2)})
    yield update("SET pk = :a", {":a": {"S": "other"}})
    yield update("SET #p = :a", {":a": {"S": "other"}}, {"#p": "pk"})
    yield update("SET a = :missing", {":a": n(1)})
    yield update("SET a = :a", {":a": n(1), ":unused": n(2)})
    yield update("SET a = #missing", {":a": n(1)})
    yield update("SET a = = :a", {":a": n(1)})
    yield update("ADD c :s", {":s": {"S": "not a number"}})
    # moto itself fails on these (a 500 in server mode): the same exception, patched or not.
    yield update("SET a = :a", {":a": n(1)}, ConditionExpression="a = = :a")
    yield update("SET a = :a", {":a": n(1)}, ConditionExpression="size = :a")
    yield update("SET a = :a", {":a": n(1)}, ConditionExpression="#undeclared = :a")
    yield (
        "transact_write_items",
        {
            "TransactItems": [
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": f"t#{round_}"}, "v": n(round_)},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "counters#0"}},
                        "UpdateExpression": "SET label = if_not_exists(label, :l)"
                        " ADD #a0 :a0, #a1 :a1",
                        "ExpressionAttributeNames": {"#a0": "count", "#a1": "bytes"},
                        "ExpressionAttributeValues": {
                            ":l": {"S": "x"},
                            ":a0": n(1),
                            ":a1": n(100 + round_),
                        },
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "image#0"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        },
    )
    yield (
        "transact_write_items",
        {  # fails on the second item: the first is rolled back
            "TransactItems": [
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "counters#0"}},
                        "UpdateExpression": "ADD #a0 :a0",
                        "ExpressionAttributeNames": {"#a0": "count"},
                        "ExpressionAttributeValues": {":a0": n(1)},
                    }
                },
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "t#0"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        },
    )
    yield (
        "get_item",
        {"TableName": TABLE, "Key": {"pk": {"S": f"image#{round_}"}}, "ConsistentRead": True},
    )
    yield "get_item", {"TableName": TABLE, "Key": {"pk": {"S": "absent"}}}
    yield (
        "get_item",
        {
            "TableName": TABLE,
            "Key": KEY,
            "ProjectionExpression": "a, m.k, #x",
            "ExpressionAttributeNames": {"#x": "x"},
            "ReturnConsumedCapacity": "TOTAL",
        },
    )
    keys = [{"pk": {"S": f"image#{i}"}} for i in range(round_ + 1)] + [{"pk": {"S": "absent"}}]
    yield (
        "batch_get_item",
        {"RequestItems": {TABLE: {"Keys": keys}}, "ReturnConsumedCapacity": "TOTAL"},
    )
    yield (
        "transact_get_items",
        {"TransactItems": [{"Get": {"TableName": TABLE, "Key": k}} for k in keys]},
    )
    yield (
        "query",
        {
            "TableName": TABLE,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "list_shard = :s",
            "FilterExpression": "contains(tags, :t)",
            "ExpressionAttributeValues": {":s": {"S": "0"}, ":t": {"S": "a"}},
            "Limit": 2,
        },
    )
    yield (
        "scan",
        {
            "TableName": TABLE,
            "FilterExpression": "attribute_exists(#r) AND size(#r) > :z",
            "ExpressionAttributeNames": {"#r": "raw"},
            "ExpressionAttributeValues": {":z": n(0)},
            "Select": "COUNT",
        },
    )
    yield (
        "batch_write_item",
        {
            "RequestItems": {
                TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": f"b#{round_}"}, "raw": {"B": blob}}}},
                    {"DeleteRequest": {"Key": {"pk": {"S": f"b#{round_ - 1}"}}}},
                ]
            }
        },
    )
    yield (
        "delete_item",
        {
            "TableName": TABLE,
            "Key": {"pk": {"S": f"t#{round_ - 1}"}},
            "ReturnValues": "ALL_OLD",
            "ConditionExpression": "attribute_exists(v)",
        },
    )
