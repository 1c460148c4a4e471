"""The local event pump: queue messages in, handler calls out, with Lambda-like retries."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote_plus

import boto3
import pytest
from conftest import s3_event

from devstack.pump import DEAD_LETTER_QUEUE, MAX_RECEIVES, EventPump, SequencerClock


@pytest.fixture
def queue(aws):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    return sqs, url


def send(sqs, url, body: dict) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def test_sequencer_clock_is_strictly_increasing() -> None:
    clock = SequencerClock()
    values = [clock.next() for _ in range(1000)]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(len(v) == 16 for v in values)


def test_dispatches_by_event_name_and_assigns_missing_sequencers(queue) -> None:
    sqs, url = queue
    created, removed = [], []
    pump = EventPump(sqs, url, lambda e, c: created.append(e), lambda e, c: removed.append(e))
    plain = s3_event("uploads/a.jpg")
    del plain["Records"][0]["s3"]["object"]["sequencer"]
    send(sqs, url, plain)
    send(sqs, url, s3_event("uploads/a.jpg", "ObjectRemoved:Delete", sequencer="00AB"))
    send(sqs, url, {"Service": "Amazon S3", "Event": "s3:TestEvent"})  # no Records

    while pump.poll_once():
        pass

    assert len(created) == 1 and len(removed) == 1
    assert created[0]["Records"][0]["s3"]["object"]["sequencer"]  # assigned
    assert removed[0]["Records"][0]["s3"]["object"]["sequencer"] == "00AB"  # kept
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_failed_events_are_retried_with_the_same_sequencer_then_dead_lettered(queue) -> None:
    sqs, url = queue
    seen: list[str] = []

    def failing(event, context):
        seen.append(event["Records"][0]["s3"]["object"]["sequencer"])
        raise RuntimeError("boom")

    pump = EventPump(sqs, url, failing, failing)
    event = s3_event("uploads/a.jpg")
    del event["Records"][0]["s3"]["object"]["sequencer"]
    send(sqs, url, event)

    for _ in range(MAX_RECEIVES + 2):
        pump.poll_once()

    assert len(seen) == MAX_RECEIVES  # then moved, not retried forever
    assert len(set(seen)) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    dead = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    (kept,) = sqs.receive_message(QueueUrl=dead)["Messages"]
    failure = json.loads(kept["Body"])  # the shape of a Lambda on-failure destination record
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == MAX_RECEIVES
    assert failure["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "boom"}
    (record,) = failure["requestPayload"]["Records"]
    assert record["s3"]["object"]["key"] == "uploads%2Fa.jpg"  # as S3 sent it: URL-encoded
    assert record["s3"]["object"]["sequencer"] == seen[0]  # its place in the key's order


def test_workers_handle_a_batch_at_once_each_event_exactly_once(queue) -> None:
    sqs, url = queue
    handled: list[str] = []
    running, most = [0], [0]
    lock = threading.Lock()

    def slow(event, context):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
            handled.append(event["Records"][0]["s3"]["object"]["key"])

    for start in range(0, 20, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(s3_event(f"uploads/{i}.jpg"))}
            for i in range(start, start + 10)
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    pump = EventPump(sqs, url, slow, slow, workers=4)

    started = time.monotonic()
    while pump.poll_once():
        pass

    assert sorted(handled) == sorted(quote_plus(f"uploads/{i}.jpg") for i in range(20))
    assert most[0] == 4  # four at a time
    assert time.monotonic() - started < 20 * 0.2 / 2  # well under one at a time
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_a_running_pump_keeps_workers_busy_past_a_slow_event(aws) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="busy", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    finished: list[str] = []
    lock = threading.Lock()

    def handler(event, context):
        key = event["Records"][0]["s3"]["object"]["key"]
        time.sleep(1.5 if key.endswith("slow.jpg") else 0.02)
        with lock:
            finished.append(key)

    send(sqs, url, s3_event("uploads/slow.jpg"))
    entries = [
        {"Id": str(i), "MessageBody": json.dumps(s3_event(f"uploads/{i}.jpg"))} for i in range(10)
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sqs.send_message_batch(QueueUrl=url, Entries=[{**e, "Id": f"b{e['Id']}"} for e in entries])
    pump = EventPump(sqs, url, handler, handler, workers=2)
    pump.start()
    try:
        deadline = time.monotonic() + 20
        while len(finished) < 21 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pump.stop()
    # The other worker went through all 20 quick events while the slow one ran:
    # nobody waited for the slowest event of a batch.
    assert len(finished) == 21 and finished[-1] == quote_plus("uploads/slow.jpg")
    assert "Messages" not in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)


def test_handled_events_are_deleted_ten_per_request(queue) -> None:
    sqs, url = queue
    calls: list[str] = []
    sqs.meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    entries = [
        {"Id": str(i), "MessageBody": json.dumps(s3_event(f"uploads/{i}.jpg"))} for i in range(10)
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sqs.send_message_batch(QueueUrl=url, Entries=[{**e, "Id": f"b{e['Id']}"} for e in entries])
    handled: list[str] = []
    pump = EventPump(sqs, url, lambda e, c: handled.append(e), handled.append, workers=3)
    calls.clear()
    while pump.poll_once():
        pass
    assert len(handled) == 20
    assert calls.count("DeleteMessageBatch") == 2 and "DeleteMessage" not in calls
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
