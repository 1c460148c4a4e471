"""A local SQS event source: queue messages in, an SQS-triggered app function called,
as Lambda's event source mapping does (the pixel stage, the reconcile workers).

One message per call (batch size 1) in Lambda's SQS event shape, at most
`workers` calls at once; for the reconcile work queue, no more than the job
asks for (`parallel_of`: its `parallel`, carried by every work item; on AWS
the event source's maximum concurrency caps it). A handled message is
deleted; a failed one comes back after `retry_seconds` (None: after the
queue's visibility timeout, as on AWS), and the queue's own redrive policy
moves it to its dead-letter queue in the end. Each call gets a Lambda-like
context whose remaining time runs down from `budget_seconds` (the function's
timeout).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("devstack.sqs_source")


class _Context:
    memory_limit_in_mb = 1024

    def __init__(self, name: str, budget_seconds: float) -> None:
        self.function_name = f"local-{name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class QueueSource:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Callable[[dict, Any], Any],
        workers: int = 4,
        budget_seconds: float = 20.0,
        *,
        name: str = "reconcile-worker",
        parallel_of: Callable[[str], int] | None = None,
        retry_seconds: int | None = None,
    ) -> None:
        self._sqs, self._url, self._handler = sqs, queue_url, handler
        self._workers, self._budget, self._name = workers, budget_seconds, name
        self._parallel_of, self._retry = parallel_of, retry_seconds
        # With `parallel_of`, one at a time until a message says how parallel its job is.
        self._limit = 1 if parallel_of else workers
        self._running = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(workers, name)
        self._thread = threading.Thread(target=self._run, name=f"{name}-source", daemon=True)
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except (BotoCoreError, ClientError) as error:  # the emulator may be restarting
                if self._stop.wait(0.5):
                    return
                log.warning("%s: receiving failed (%s); retrying", self._name, error)
            except Exception:  # keep pumping
                log.exception("%s: receiving failed", self._name)
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive as many messages as there are free workers; returns how many."""
        with self._changed:
            while self._running >= self._limit and not self._stop.is_set():
                self._changed.wait(0.5)
            free = self._limit - self._running
        if free <= 0:
            return 0
        messages = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(10, free),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
        ).get("Messages", [])
        for message in messages:
            with self._changed:
                self._running += 1
                if self._parallel_of:
                    self._limit = min(self._workers, self._parallel_of(message["Body"]))
            self._pool.submit(self._settle, message)
        return len(messages)

    def idle(self) -> bool:
        with self._changed:
            return self._running == 0

    def _settle(self, message: dict) -> None:
        try:
            event = sqs_lambda_event(message, self._arn)
            self._handler(event, _Context(self._name, self._budget))
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        except Exception:  # as on Lambda: logged, retried, then dead-lettered by SQS
            log.exception("%s: the handler failed on a message", self._name)
            if self._retry is not None:  # sooner than the queue's visibility timeout
                with contextlib.suppress(BotoCoreError, ClientError):
                    self._sqs.change_message_visibility(
                        QueueUrl=self._url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=self._retry,
                    )
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()


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


def job_parallel(body: str) -> int:
    """How many workers a reconcile work item's job may use (its `parallel`)."""
    try:
        value = json.loads(body).get("parallel", 1)
    except (ValueError, AttributeError):
        return 1
    return value if isinstance(value, int) and value > 0 else 1
