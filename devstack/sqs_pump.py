"""A local pump for an SQS-triggered function (the pixel stage): queue in, handler called.

In AWS, Lambda's event source mapping polls the queue and invokes the function
with `{"Records": [...]}` in the SQS event shape; this does the same, one
message per call (the stage's batch size). A failed message stays in the
queue and comes back after its visibility timeout; the queue's redrive
policy (devstack/provision.py) moves it to its dead-letter queue in the end.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("devstack.pump")


def sqs_lambda_event(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One received message as Lambda delivers it to an SQS-triggered function."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3] if queue_arn.count(":") >= 3 else "",
            }
        ]
    }


class _Context:
    function_name = "local-pixels-pump"
    memory_limit_in_mb = 1024

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class SqsPump:
    def __init__(self, sqs: Any, queue_url: str, handler: Callable[[dict, Any], Any]) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handler = handler
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pixels-pump", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except (BotoCoreError, ClientError) as error:
                if self._stop.wait(0.5):
                    return
                log.warning("pixels pump: receiving failed (%s); retrying", error)
            except Exception:  # keep pumping
                log.exception("pixels pump: receiving failed")
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        for message in messages:
            try:
                self._handler(sqs_lambda_event(message, self._arn), _Context())
            except Exception:  # as on Lambda: the message comes back, then dead-letters
                log.exception("pixels pump: handler failed")
                continue
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)
