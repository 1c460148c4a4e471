"""The local event source of the reconcile work queue: SQS messages in, the
app's `reconcile_worker` called, as Lambda's SQS event source mapping does.

One message per call (batch size 1), at most `workers` at once and no more
than the job asks for (its `parallel`, carried by every work item: on AWS the
event source's maximum concurrency caps it). A handled message is deleted; a
failed one is retried after a second (on AWS: after the queue's visibility
timeout), and the queue's own redrive policy moves it to the dead-letter
queue after MAX_RECEIVES receives. Each call gets a Lambda-like context whose
remaining time runs down from `budget_seconds` (the function's timeout).
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

log = logging.getLogger("devstack.workqueue")
RETRY_SECONDS = 1


class _Context:
    function_name = "local-reconcile-worker"
    memory_limit_in_mb = 1024

    def __init__(self, budget_seconds: float) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class WorkQueuePump:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Callable[[dict, Any], Any],
        workers: int = 4,
        budget_seconds: float = 20.0,
    ) -> None:
        self._sqs, self._url, self._handler = sqs, queue_url, handler
        self._workers, self._budget = workers, budget_seconds
        self._limit = 1  # until a work item says how parallel its job is
        self._running = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(workers, "reconcile-worker")
        self._thread = threading.Thread(target=self._run, name="work-queue", daemon=True)
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
                log.warning("work queue: receiving failed (%s); retrying", error)
            except Exception:  # keep pumping
                log.exception("work queue: receiving failed")
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
                self._limit = min(self._workers, _parallel(message["Body"]))
            self._pool.submit(self._settle, message)
        return len(messages)

    def idle(self) -> bool:
        with self._changed:
            return self._running == 0

    def _settle(self, message: dict) -> None:
        try:
            self._handler(self._event(message), _Context(self._budget))
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        except Exception:  # as on Lambda: logged, retried, then dead-lettered by SQS
            log.exception("work queue: the worker failed on a message")
            # Else it comes back after the queue's visibility timeout.
            with contextlib.suppress(BotoCoreError, ClientError):
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=RETRY_SECONDS,
                )
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def _event(self, message: dict) -> dict:
        """The event Lambda's SQS event source passes (one record)."""
        return {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": message.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._arn,
                    "awsRegion": self._arn.split(":")[3],
                }
            ]
        }


def _parallel(body: str) -> int:
    try:
        value = json.loads(body).get("parallel", 1)
    except (ValueError, AttributeError):
        return 1
    return value if isinstance(value, int) and value > 0 else 1
