"""The emulator's moto patches: same answers as stock moto, without walking the table or queue.

Each test fails if a moto upgrade makes a patch stop applying: a "poison" item
or message makes any whole-table walk, whole-table copy or whole-queue walk
raise, so the constant-cost paths are checked structurally, not by timing.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.sqs.models import Message, sqs_backends

from chalicelib.catalog.layout import LIST_INDEX, SIZE_INDEX, table_definition
from devstack import moto_patches

TABLE = "patched"


@pytest.fixture
def client(aws) -> Iterator:
    with moto_patches.installed():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**table_definition(TABLE))
        yield dynamodb


def moto_table():
    return dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]


def put(client, key: str, size: int | None, shard: str = "0", **extra) -> None:
    item = {"pk": {"S": f"image#{key}"}, "s3objectkey": {"S": key}, "list_shard": {"S": shard}}
    if size is not None:
        item.update(size={"N": str(size)}, size_shard={"S": shard})
    item.update(extra)
    client.put_item(TableName=TABLE, Item=item)


class Poison(Item):
    """An item that raises when anything walks over it or copies it."""

    __module__ = "moto.dynamodb.models"  # moto's model metaclass wants a moto module name

    def __init__(self) -> None:
        self.hash_key, self.range_key = DynamoType({"S": "~poison"}), None

    @property
    def attrs(self):  # type: ignore[override]
        raise AssertionError("a whole-table walk touched an unrelated item")

    @attrs.setter
    def attrs(self, value) -> None:
        pass

    def __deepcopy__(self, memo):
        raise AssertionError("the whole table was copied")


def poison() -> None:
    """Put the poison item straight into moto's storage (no hook sees it)."""
    moto_table().items[DynamoType({"S": "~poison"})] = Poison()


def query(client, **kwargs) -> list[str]:
    response = client.query(TableName=TABLE, **kwargs)
    return [item["pk"]["S"] for item in response["Items"]], response.get("LastEvaluatedKey")


def test_index_queries_answer_like_stock_moto_under_random_writes(client) -> None:
    rng = random.Random(7)
    keys = [f"uploads/{rng.choice('abc')}{i:03d}.jpg" for i in range(120)]
    for step in range(300):
        key = rng.choice(keys)
        action = rng.random()
        if action < 0.6:
            put(client, key, rng.choice([None, 5, 10, 10, 20, 30]), rng.choice("01"))
        elif action < 0.75:
            client.update_item(
                TableName=TABLE,
                Key={"pk": {"S": f"image#{key}"}},
                UpdateExpression="SET size_shard = :s, #size = :n",
                ExpressionAttributeNames={"#size": "size"},
                ExpressionAttributeValues={":s": {"S": "1"}, ":n": {"N": str(step)}},
            )
        else:
            client.delete_item(TableName=TABLE, Key={"pk": {"S": f"image#{key}"}})
        if step % 20:
            continue
        for kwargs in rng.sample(list(queries(rng)), 6):
            moto_patches.uninstall()
            try:
                expected = query(client, **kwargs)
            finally:
                moto_patches.install()
            assert query(client, **kwargs) == expected, kwargs


def queries(rng: random.Random) -> Iterator[dict]:
    for shard in "01":
        for forward in (True, False):
            yield {
                "IndexName": SIZE_INDEX,
                "KeyConditionExpression": "size_shard = :s",
                "ExpressionAttributeValues": {":s": {"S": shard}},
                "ScanIndexForward": forward,
                "Limit": rng.choice([1, 2, 7]),
            }
            yield {
                "IndexName": SIZE_INDEX,
                "KeyConditionExpression": "size_shard = :s AND #size BETWEEN :a AND :b",
                "ExpressionAttributeNames": {"#size": "size"},
                "ExpressionAttributeValues": {
                    ":s": {"S": shard},
                    ":a": {"N": "6"},
                    ":b": {"N": "25"},
                },
                "ScanIndexForward": forward,
                "Limit": 3,
                "ExclusiveStartKey": {
                    "pk": {"S": "image#uploads/b050.jpg"},
                    "size_shard": {"S": shard},
                    "size": {"N": "10"},
                },
            }
            after = rng.choice("abc")
            yield {
                "IndexName": LIST_INDEX,
                "KeyConditionExpression": "list_shard = :s AND s3objectkey > :after",
                "ExpressionAttributeValues": {
                    ":s": {"S": shard},
                    ":after": {"S": f"uploads/{after}"},
                },
                "ScanIndexForward": forward,
                "Limit": 5,
                "FilterExpression": "attribute_exists(#size)",
                "ExpressionAttributeNames": {"#size": "size"},
            }
            yield {
                "IndexName": LIST_INDEX,
                "KeyConditionExpression": "list_shard = :s AND begins_with(s3objectkey, :p)",
                "ExpressionAttributeValues": {":s": {"S": shard}, ":p": {"S": "uploads/b"}},
                "ScanIndexForward": forward,
            }


def test_queries_and_scans_never_walk_the_table(client) -> None:
    for i in range(50):
        put(client, f"uploads/{i:02d}.jpg", 100 + i)
    for index, shard in ((SIZE_INDEX, "size_shard"), (LIST_INDEX, "list_shard")):
        query(client, IndexName=index, KeyConditionExpression=f"{shard} = :s",
              ExpressionAttributeValues={":s": {"S": "0"}}, Limit=1)  # fmt: skip
    pages = client.get_paginator("scan").paginate(TableName=TABLE, PaginationConfig={"PageSize": 7})
    assert len([i for page in pages for i in page["Items"]]) == 50  # the sorted views exist
    poison()

    largest, last = query(
        client,
        IndexName=SIZE_INDEX,
        KeyConditionExpression="size_shard = :s",
        ExpressionAttributeValues={":s": {"S": "0"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert largest == ["image#uploads/49.jpg"] and last is not None
    listed, _ = query(
        client,
        IndexName=LIST_INDEX,
        KeyConditionExpression="list_shard = :s AND s3objectkey > :after",
        ExpressionAttributeValues={":s": {"S": "0"}, ":after": {"S": "uploads/45.jpg"}},
        Limit=10,
    )
    assert listed == [f"image#uploads/{i}.jpg" for i in range(46, 50)]
    page = client.scan(
        TableName=TABLE, Limit=3, ExclusiveStartKey={"pk": {"S": "image#uploads/10.jpg"}}
    )
    assert [i["pk"]["S"] for i in page["Items"]] == [f"image#uploads/{i}.jpg" for i in (11, 12, 13)]


def transact(client, key: str, size: int, condition: str | None = None) -> None:
    put_op = {
        "TableName": TABLE,
        "Item": {
            "pk": {"S": f"image#{key}"},
            "s3objectkey": {"S": key},
            "size": {"N": str(size)},
            "size_shard": {"S": "0"},
            "list_shard": {"S": "0"},
        },
    }
    if condition:
        put_op["ConditionExpression"] = condition
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "counters#0"}},
                    "UpdateExpression": "ADD images :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Put": put_op},
        ]
    )


def test_transactions_copy_only_what_they_touch_and_roll_back(client) -> None:
    transact(client, "uploads/a.jpg", 10)
    query(client, IndexName=SIZE_INDEX, KeyConditionExpression="size_shard = :s",
          ExpressionAttributeValues={":s": {"S": "0"}})  # fmt: skip
    poison()

    transact(client, "uploads/b.jpg", 30)  # would copy the poison with stock moto
    with pytest.raises(ClientError) as failed:
        # The counter update comes first and succeeds; the put's condition fails.
        transact(client, "uploads/a.jpg", 99, condition="attribute_not_exists(pk)")
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"

    counter = client.get_item(TableName=TABLE, Key={"pk": {"S": "counters#0"}})["Item"]
    assert counter["images"]["N"] == "2"
    a = client.get_item(TableName=TABLE, Key={"pk": {"S": "image#uploads/a.jpg"}})["Item"]
    assert a["size"]["N"] == "10"
    largest, _ = query(
        client,
        IndexName=SIZE_INDEX,
        KeyConditionExpression="size_shard = :s",
        ExpressionAttributeValues={":s": {"S": "0"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert largest == ["image#uploads/b.jpg"]  # the rolled-back 99 is not in the index


def test_a_rolled_back_new_item_disappears_from_the_index(client) -> None:
    put(client, "uploads/taken.jpg", 5)
    new = {
        "pk": {"S": "image#uploads/new.jpg"},
        "s3objectkey": {"S": "uploads/new.jpg"},
        "size": {"N": "500"},
        "size_shard": {"S": "0"},
        "list_shard": {"S": "0"},
    }
    taken = {"pk": {"S": "image#uploads/taken.jpg"}}
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": new}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": taken,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    largest, _ = query(
        client,
        IndexName=SIZE_INDEX,
        KeyConditionExpression="size_shard = :s",
        ExpressionAttributeValues={":s": {"S": "0"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert largest == ["image#uploads/taken.jpg"]
    assert "Item" not in client.get_item(
        TableName=TABLE, Key={"pk": {"S": "image#uploads/new.jpg"}}
    )


def test_uninstall_restores_stock_moto(aws) -> None:
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    stock = (Table.query, Queue.delete_message)
    moto_patches.install()
    assert (Table.query, Queue.delete_message) != stock
    moto_patches.uninstall()
    assert (Table.query, Queue.delete_message) == stock


class PoisonMessage(Message):
    """A queued message that raises when anything walks over it."""

    __module__ = "moto.sqs.models"  # moto's model metaclass wants a moto module name

    def __init__(self) -> None:
        self.receipt_handle, self._old_receipt_handles = None, []

    @property
    def visible(self) -> bool:  # type: ignore[override]
        raise AssertionError("a whole-queue walk touched the last message")

    delayed = visible

    def had_receipt_handle(self, receipt_handle: str) -> bool:
        raise AssertionError("a whole-queue walk touched the last message")


@pytest.fixture
def queue(aws) -> Iterator:
    with moto_patches.installed():
        sqs = boto3.client("sqs")
        yield sqs, sqs.create_queue(QueueName="backlog")["QueueUrl"]


def test_a_backlog_drains_exactly_once_oldest_first(queue) -> None:
    sqs, url = queue
    for start in range(0, 300, 10):
        entries = [{"Id": str(i), "MessageBody": str(i)} for i in range(start, start + 10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    seen = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        messages = batch.get("Messages", [])
        if not messages:
            break
        seen += [int(m["Body"]) for m in messages]
        for message in messages[::2]:  # delete some one by one, the rest in a batch
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        rest = [{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages[1::2]]
        sqs.delete_message_batch(QueueUrl=url, Entries=rest)
    assert seen == list(range(300))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_send_receive_and_delete_never_walk_the_backlog(queue) -> None:
    sqs, url = queue
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs_backends["123456789012"]["us-east-1"].queues["backlog"]._messages.append(PoisonMessage())

    sqs.send_message(QueueUrl=url, MessageBody="one more")
    for _ in range(2):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(batch) == 10
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_requests_find_their_service_once_per_host(aws, monkeypatch) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_patches.install()
    try:
        dispatcher = DomainDispatcherApplication(create_backend_app)
        calls = []
        original = moto_patches.routing.patches.original(
            DomainDispatcherApplication, "get_backend_for_host"
        )
        monkeypatch.setattr(
            moto_patches.routing.patches,
            "original",
            lambda owner, name: lambda self, host: calls.append(host) or original(self, host),
        )
        moto_patches.routing._known.clear()
        for _ in range(3):
            assert dispatcher.get_backend_for_host("s3.amazonaws.com") == "s3"
        assert calls == ["s3.amazonaws.com"]
    finally:
        moto_patches.uninstall()


def test_a_transactions_update_copies_no_item(client, monkeypatch) -> None:
    """update_item copies the old item for a stream; no table here has one."""
    client.put_item(TableName=TABLE, Item={"pk": {"S": "counters#0"}, "n": {"N": "1"}})
    update = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "counters#0"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }

    copies = []

    def counted(self, memo):
        copies.append(self)
        clone = Item.__new__(type(self))
        clone.__dict__ = copy.deepcopy(self.__dict__, memo)
        return clone

    monkeypatch.setattr(Item, "__deepcopy__", counted, raising=False)
    for _ in range(2):
        client.transact_write_items(TransactItems=[{"Update": update}])
    monkeypatch.undo()
    assert len(copies) == 2  # the rollback snapshot of each transaction, nothing else
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "counters#0"}})["Item"]
    assert item["n"] == {"N": "3"}
