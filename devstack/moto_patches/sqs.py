"""SQS at constant cost whatever the backlog: receive, delete, retention check, no queue walks.

With thousands of events queued (a bulk upload), stock moto walks the whole
queue several times per received message: the list of visible messages is
rebuilt for every receive, the retention check computes every queue
attribute (counting all messages) for each message returned, so does every
send, and a delete scans and rebuilds the list. Here, on a standard queue, a
receive only looks at the head of the queue, the retention check and a send
read the one attribute they need, and a delete looks among the in-flight
messages first.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.utils import unix_time
from moto.sqs.models import Message, Queue, SQSBackend

from devstack.moto_patches.patching import Patches

patches = Patches()
_local = threading.local()


def install() -> None:
    patches.apply(
        {
            (SQSBackend, "receive_message"): _receive_message,
            (SQSBackend, "send_message"): _send_message,
            (Queue, "attributes"): property(_attributes),
            (SQSBackend, "is_message_valid_based_on_retention_period"): _retained,
            (Queue, "messages"): property(_visible_messages),
            (Queue, "delete_message"): _delete_message,
        }
    )


def _receive_message(self: SQSBackend, queue_name: str, count: int, *args: Any, **kwargs: Any):
    queue = self.get_queue(queue_name)
    # A FIFO queue may have to skip many messages of busy groups: moto's own walk.
    _local.wanted = None if queue.fifo_queue else int(count) + 10
    try:
        return patches.original(SQSBackend, "receive_message")(
            self, queue_name, count, *args, **kwargs
        )
    finally:
        _local.wanted = None


def _send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Message:
    queue = self.get_queue(queue_name)
    _local.sending = None if queue.fifo_queue else queue
    try:
        return patches.original(SQSBackend, "send_message")(self, queue_name, *args, **kwargs)
    finally:
        _local.sending = None


def _attributes(self: Queue) -> dict[str, Any]:
    if getattr(_local, "sending", None) is self:  # all a standard queue's send reads
        deduplicate = bool(getattr(self, "content_based_deduplication", False))
        return {"ContentBasedDeduplication": str(deduplicate).lower()}
    return patches.original(Queue, "attributes").fget(self)


def _visible_messages(self: Queue) -> list[Message]:
    wanted = getattr(_local, "wanted", None)
    if wanted is None:
        return patches.original(Queue, "messages").fget(self)
    found = []
    for message in self._messages:  # oldest first; only in-flight ones are skipped
        if message.visible and not message.delayed:
            found.append(message)
            if len(found) >= wanted:
                break
    return found


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    period = int(self.get_queue(queue_name).message_retention_period)
    return period + message.sent_timestamp / 1000 > unix_time()


def _delete_message(self: Queue, receipt_handle: str) -> None:
    if receipt_handle not in self.deleted_messages:
        for message in list(self.pending_messages):
            if message.had_receipt_handle(receipt_handle):
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                self._messages.remove(message)
                return
    patches.original(Queue, "delete_message")(self, receipt_handle)
