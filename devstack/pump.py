"""The local event pump: SQS notifications in, the app's S3 handlers called.

In AWS, S3 invokes the Lambda handlers directly. Locally the bucket notifies a
queue instead, and this pump long-polls it and calls the very same handler
functions with the very same S3 event payloads (one record per call, as
Lambda delivers them). A failed event stays in the queue and is retried after
its visibility timeout, like Lambda's own retries; after MAX_RECEIVES attempts
it moves to a local dead-letter queue, in the shape Lambda gives an on-failure
destination, and `make redrive` replays it (ops/redrive.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("devstack.pump")

# Then the event moves to the dead-letter queue (tests make it 2, to be quick).
MAX_RECEIVES = int(os.environ.get("DEVSTACK_MAX_RECEIVES", "5"))
DEAD_LETTER_QUEUE = "image-metadata-events-failed"


class _LambdaContext:
    """The few attributes of a Lambda context object a handler might read."""

    function_name = "local-event-pump"
    memory_limit_in_mb = 1024

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


class SequencerClock:
    """Hands out increasing sequencers for emulators whose events have none."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return f"{self._last:016X}"


class EventPump:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        on_created: Callable[[dict, Any], Any],
        on_removed: Callable[[dict, Any], Any],
        dead_letter_queue: str = DEAD_LETTER_QUEUE,
        workers: int = 1,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._dead_letter_queue = dead_letter_queue
        self._handlers = {"ObjectCreated": on_created, "ObjectRemoved": on_removed}
        self._clock = SequencerClock()
        # Sequencers given out per message, so a retried message keeps its place.
        self._assigned: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-pump", daemon=True)
        # Events are independent (the catalog orders them by sequencer), so
        # several workers handle them at once, as Lambda would scale out.
        self._pool = ThreadPoolExecutor(workers, "event-worker") if workers > 1 else None
        # While running, up to two events per worker are in hand (received, not yet
        # settled): a worker that finishes takes the next at once instead of waiting
        # for the slowest event of its batch, and the queue is asked less often.
        self._workers, self._most_in_hand = workers, 2 * workers
        self._in_hand = 0
        self._settled = threading.Condition()
        # Handled messages are deleted ten per request, before the next receive:
        # one DeleteMessage per event was an eighth of an event's requests.
        self._done: list[dict] = []
        self._done_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(BotoCoreError, ClientError):  # else they come back: at least once
            self._delete_done()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._take(wait_seconds=1)
            except (BotoCoreError, ClientError) as error:  # the emulator may be restarting
                if self._stop.wait(0.5):
                    return  # stopping: the emulator may already be gone
                log.warning("event pump: receiving failed (%s); retrying", error)
            except Exception:  # keep pumping
                log.exception("event pump: receiving failed")
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive and handle one batch; returns how many messages were handled."""
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        sequencers = self._sequencers(messages)
        if self._pool is None or len(messages) < 2:
            for message, sequencer in zip(messages, sequencers, strict=True):
                self._settle(message, sequencer)
        else:
            list(self._pool.map(self._settle, messages, sequencers))
        self._delete_done()
        return len(messages)

    def _take(self, wait_seconds: int) -> int:
        """Receive as many messages as there is room for in hand; workers settle them."""
        if self._pool is None:
            return self.poll_once(wait_seconds)
        with self._settled:
            # Ask once a worker is free, for enough to keep them all busy until the next ask.
            while self._in_hand >= self._workers and not self._stop.is_set():
                self._settled.wait(0.5)
            room = self._most_in_hand - self._in_hand
        if room <= 0:
            return 0
        self._delete_done()
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(10, room),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        for message, sequencer in zip(messages, self._sequencers(messages), strict=True):
            with self._settled:
                self._in_hand += 1
            self._pool.submit(self._settle_in_hand, message, sequencer)
        return len(messages)

    def _sequencers(self, messages: list[dict]) -> list[str]:
        """Sequencers in arrival order, before any worker starts."""
        return [
            self._assigned.setdefault(message["MessageId"], self._clock.next())
            for message in messages
        ]

    def _settle_in_hand(self, message: dict, sequencer: str) -> None:
        try:
            self._settle(message, sequencer)
        except Exception:  # deleting failed: those messages come back, as on Lambda
            log.exception("event pump: settling an event failed")
        finally:
            with self._settled:
                self._in_hand -= 1
                self._settled.notify_all()

    def _settle(self, message: dict, sequencer: str) -> None:
        if self._handle(message, sequencer):
            with self._done_lock:
                self._done.append(message)
                full = len(self._done) >= 10
            if full:
                self._delete_done()

    def _delete_done(self) -> None:
        """Delete the handled messages, ten per request."""
        with self._done_lock:
            done, self._done = self._done, []
        for start in range(0, len(done), 10):
            batch = {str(i): message for i, message in enumerate(done[start : start + 10])}
            entries = [{"Id": i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in batch.items()]
            response = self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
            for failed in response.get("Failed", []):  # it comes back and is handled again
                log.warning("event pump: a handled event was not deleted: %s", failed)
                batch.pop(failed.get("Id"), None)
            for message in batch.values():
                self._assigned.pop(message["MessageId"], None)

    def _handle(self, message: dict, sequencer: str) -> bool:
        """True when the message is done with (handled, or not an object event)."""
        try:
            records = json.loads(message["Body"]).get("Records", [])
        except (ValueError, AttributeError):
            log.warning("event pump: dropping a message that is not an S3 event")
            return True
        try:
            for record in records:
                self._dispatch(record, sequencer)
            return True
        except Exception as error:  # as on Lambda: log it, retry later
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            log.exception("event pump: handler failed (attempt %d)", receives)
            if receives < MAX_RECEIVES:
                return False
            self._dead_letter(records, error, receives)
            return True

    def _dead_letter(self, records: list[dict], error: Exception, attempts: int) -> None:
        """Keep the event, as Lambda's on-failure destination would (same record shape)."""
        url = self._sqs.create_queue(QueueName=self._dead_letter_queue)["QueueUrl"]
        failure = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": "local-event-pump",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": {"Records": records},
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(failure))
        log.warning(
            "event pump: moved a failed event to %s (make redrive)", self._dead_letter_queue
        )

    def _dispatch(self, record: dict, sequencer: str) -> None:
        kind = record.get("eventName", "").split(":")[0]
        handler = self._handlers.get(kind)
        if handler is None:
            return
        obj = record["s3"]["object"]
        if not obj.get("sequencer"):
            obj["sequencer"] = sequencer
        handler({"Records": [record]}, _LambdaContext())
