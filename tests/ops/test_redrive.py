"""`make redrive`: failed events replayed through the same handlers, then reported.

Units against moto in-process, and the whole path on the real local stack:
a handler failure, the pump's dead-letter queue, `python -m ops.redrive`, the
record correct.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from conftest import Uploader, s3_event
from images import image_bytes, png_with_alpha
from stackrunner import running_stack

import app as app_module
from chalicelib.catalog.layout import table_definition
from devstack.pump import DEAD_LETTER_QUEUE
from ops.redrive import failed_records, redrive

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = {
    "ObjectCreated": app_module.on_object_created,
    "ObjectRemoved": app_module.on_object_removed,
}


def destination_record(event: dict, error: str = "ResourceNotFoundException") -> str:
    """What Lambda sends to an on-failure destination after the last retry."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "requestContext": {
                "requestId": "e0b5ba1f-0000-4000-8000-000000000000",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": error, "errorType": "ClientError"},
        }
    )


@pytest.fixture
def queue(deps):
    sqs = boto3.client("sqs")
    return sqs, sqs.create_queue(QueueName="image-metadata-dev-failed-events")["QueueUrl"]


def remaining(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_redrive_replays_each_event_through_the_handlers(queue, uploader: Uploader) -> None:
    sqs, url = queue
    created = uploader.put("uploads/lost.png", png_with_alpha((9, 7)))
    uploader.upload("uploads/gone.png", png_with_alpha())
    removed = uploader.delete("uploads/gone.png")
    stale = s3_event("uploads/lost.png", sequencer="0001")  # older than `created`
    for event in (created, removed):
        sqs.send_message(QueueUrl=url, MessageBody=destination_record(event))

    report = redrive(sqs, url, HANDLERS)

    assert (report.received, report.replayed, report.failed) == (2, 2, [])
    assert report.actions == {"deleted": 1, "stored": 1}
    assert app_module.deps.catalog.get("uploads/lost.png")["width"] == 9
    assert app_module.deps.catalog.get("uploads/gone.png") is None
    assert remaining(sqs, url) == 0
    # Replaying again, or an older event, changes nothing.
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(stale))
    assert redrive(sqs, url, HANDLERS).actions == {"stale": 1}


def test_an_event_that_fails_again_stays_queued_and_is_reported(queue, deps, uploader) -> None:
    sqs, url = queue
    event = uploader.put("uploads/still.png", png_with_alpha())
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(event))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Service": "Amazon S3"}))
    deps.dynamodb.delete_table(TableName=deps.settings.table)  # the cause is not fixed yet

    report = redrive(sqs, url, HANDLERS)

    assert (report.received, report.replayed, report.skipped) == (2, 0, 1)
    (failure,) = report.failed
    assert failure["key"] == "uploads%2Fstill.png" and "ResourceNotFound" in failure["error"]
    assert not report.complete
    assert remaining(sqs, url) == 2  # nothing lost


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (destination_record(s3_event("uploads/a.png")), 1),
        (json.dumps(s3_event("uploads/a.png")), 1),  # a plain S3 notification
        (json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}), None),
        (json.dumps({"requestPayload": {"version": "0", "detail-type": "Scheduled Event"}}), None),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_failed_records_reads_what_the_queue_holds(body: str, found: int | None) -> None:
    records = failed_records(body)
    assert (len(records) if records is not None else None) == found


@pytest.mark.e2e
def test_a_failed_event_is_dead_lettered_then_redriven_on_the_local_stack(tmp_path) -> None:
    """Failure -> the pump's dead-letter queue -> `python -m ops.redrive` -> record correct."""
    with running_stack(tmp_path, DEVSTACK_MAX_RECEIVES="2") as stack:
        endpoint = f"http://127.0.0.1:{stack.aws_port}"
        clients = {
            name: boto3.client(
                name,
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            for name in ("dynamodb", "sqs")
        }
        table = "image-metadata-local"
        clients["dynamodb"].delete_table(TableName=table)  # every event now fails
        photo = image_bytes("PNG", (33, 22))
        stack.s3.put_object(Bucket="images-local", Key="uploads/redrive.png", Body=photo)

        # Two attempts, 5 s apart (the queue's visibility timeout), then dead-lettered.
        deadline = time.monotonic() + 30
        dead_url = None
        while time.monotonic() < deadline:
            try:
                dead_url = clients["sqs"].get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
                if remaining(clients["sqs"], dead_url):
                    break
            except clients["sqs"].exceptions.QueueDoesNotExist:
                pass
            time.sleep(0.5)
        assert dead_url and remaining(clients["sqs"], dead_url) == 1, "nothing dead-lettered"

        clients["dynamodb"].create_table(**table_definition(table))  # the cause is fixed
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMAGES_"))}
        result = subprocess.run(
            [sys.executable, "-m", "ops.redrive", "--stage", "local"],
            cwd=ROOT,
            env={**env, "DATA_DIR": str(stack.data_dir)},  # the stack's state file says where
            capture_output=True,
            text=True,
            timeout=60,
        )

        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert (report["replayed"], report["actions"], report["failed"]) == (1, {"stored": 1}, [])
        record = stack.wait_for_record("uploads/redrive.png")
        assert (record["width"], record["height"], record["size"]) == (33, 22, len(photo))
        summary = requests.get(f"{stack.api}/summary", timeout=5).json()
        assert summary["total_images"] == 1
        assert remaining(clients["sqs"], dead_url) == 0
