"""`make redrive STAGE=...` / `python -m ops.redrive --stage STAGE`: replay failed events.

An S3 event the handlers still failed on after Lambda's retries is kept in
the stage's failed-events queue (its on-failure destination; locally, the
event pump's dead-letter queue), as Lambda's destination record: the event
is its `requestPayload`. Fix the cause (the alarm's notification and the
handler's log line say what it was), then redrive: each event goes through
the very same handler functions, from your machine and with your
credentials, like `make reconcile`. A replayed event is deleted from the
queue; one that fails again stays there, and the report says why.

Replaying is safe in any order and at any time: an event older than what the
catalog already applied for its key is `stale` and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devstack.pump import DEAD_LETTER_QUEUE
from devstack.stages import PROJECT_DIR
from ops.policy import load_config
from ops.stage_env import use_stage
from ops.wiring import failed_events_queue_name

Handler = Callable[[dict[str, Any], Any], Any]
# Long enough that a message being replayed is not received twice in one run.
VISIBILITY_SECONDS = 300


@dataclass
class RedriveReport:
    received: int = 0
    replayed: int = 0  # messages whose events all went through (deleted from the queue)
    actions: dict[str, int] = field(default_factory=dict)  # stored, deleted, stale, ...
    failed: list[dict[str, str]] = field(default_factory=list)  # still failing: kept
    skipped: int = 0  # not an S3 event (kept for a human to look at)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.skipped


class _Context:
    """The attributes of a Lambda context the handlers read."""

    function_name = "redrive"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def failed_records(body: str) -> list[dict[str, Any]] | None:
    """The S3 event records a failed-events message holds, or None if it holds none.

    Lambda's on-failure record carries the invocation's event as
    `requestPayload`; a plain S3 notification (`Records`) is taken as it is.
    """
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    event = message.get("requestPayload", message)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return None
    if not all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records):
        return None
    return records


def redrive(sqs: Any, queue_url: str, handlers: dict[str, Handler]) -> RedriveReport:
    """Replay every message in the queue through `handlers` (by event kind)."""
    report = RedriveReport()
    actions: Counter[str] = Counter()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=VISIBILITY_SECONDS
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            report.received += 1
            records = failed_records(message["Body"])
            if records is None:
                report.skipped += 1
                continue
            try:
                for record in records:
                    kind = record.get("eventName", "").split(":")[0]
                    outcome = handlers[kind]({"Records": [record]}, _Context())
                    actions[(outcome or {}).get("action", "done")] += 1
            except Exception as error:  # noqa: BLE001 - reported, the message stays queued
                key = records[0].get("s3", {}).get("object", {}).get("key", "?")
                report.failed.append({"key": key, "error": f"{type(error).__name__}: {error}"})
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
    report.actions = dict(sorted(actions.items()))
    return report


def queue_name(stage: str) -> str:
    if stage == "local":
        return DEAD_LETTER_QUEUE
    return failed_events_queue_name(load_config()["app_name"], stage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="Chalice stage (default: local)")
    parser.add_argument("--profile", help="AWS profile (default: the environment's)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)
    use_stage(args.stage, args.profile, args.region)

    # Imported only now: the app reads its settings from the environment.
    sys.path.insert(0, str(PROJECT_DIR))
    import app as application

    # The handlers' log lines go to standard error: standard output is the report.
    for handler in application.app.log.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    sqs = boto3.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue_name(args.stage))["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" not in str(error) and "does not exist" not in str(error):
            raise
        print(json.dumps({**asdict(RedriveReport()), "complete": True}, indent=2))
        print(f"no queue {queue_name(args.stage)}: nothing has failed", file=sys.stderr)
        return 0
    handlers = {
        "ObjectCreated": application.on_object_created,
        "ObjectRemoved": application.on_object_removed,
    }
    report = redrive(sqs, url, handlers)
    print(json.dumps({**asdict(report), "complete": report.complete}, indent=2))
    if report.failed:
        print(f"{len(report.failed)} events failed again and stay queued", file=sys.stderr)
    return 0 if report.complete else 3


if __name__ == "__main__":
    sys.exit(main())
