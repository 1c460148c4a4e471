"""What the metadata path knows of the pixel stage: its message, its queue, its files.

The metadata handler, after committing an `ok` record, sends one small message
to the pixels queue and moves on: a failed send is logged, never retried here
and never fails the event (reconcile enqueues what is missing). No Pillow is
imported here, so the metadata functions' cold start stays as it was.

Previews live at `<derived>/<key under the uploads prefix>/<etag>/<size>.webp`:
keyed by the source's ETag, so an overwrite never serves a stale preview, and
parsed from the right (an ETag and a file name hold no `/`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# Not the handlers' logger, whose lines are one JSON object per event or request.
log = logging.getLogger("image-metadata-pixels")
PREVIEW_SIZES = (256, 1024)  # chalicelib.pixels.PREVIEW_SIZES (a test holds them equal)
PREVIEW_SUFFIX = ".webp"
# The record fields the pixel stage writes; any one of the first three means it has run.
STAGE_MARKERS = ("content_sha256", "preview_error", "preview_skipped")
STAGE_FIELDS = (
    *STAGE_MARKERS,
    "preview",
    "average_color",
    "dominant_colors",
    "placeholder",
    "phash",
)


class InvalidMessageError(ValueError):
    """A queue message that is not a pixel message (dropped: retrying cannot help)."""


@dataclass(frozen=True)
class PixelMessage:
    key: str
    etag: str
    sequencer: str
    size: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> PixelMessage:
        try:
            data = json.loads(body)
            message = cls(
                str(data["key"]), str(data["etag"]), str(data["sequencer"]), int(data["size"])
            )
        except (ValueError, TypeError, KeyError) as error:
            raise InvalidMessageError(f"not a pixel message: {error}") from None
        return message


def stage_has_run(record: dict[str, Any] | None) -> bool:
    return bool(record) and any(name in record for name in STAGE_MARKERS)


def needs_pixels(record: dict[str, Any] | None) -> bool:
    """An `ok` record the stage has not run for yet."""
    return bool(record) and record.get("status") == "ok" and not stage_has_run(record)


def preview_key(derived: str, prefix: str, key: str, etag: str, size: int) -> str:
    return f"{derived}{key[len(prefix) :]}/{etag}/{size}{PREVIEW_SUFFIX}"


def preview_keys(derived: str, prefix: str, record: dict[str, Any] | None) -> list[str]:
    """Where the previews of this record version are (empty when it has none)."""
    if not record or not record.get("preview") or not record.get("etag"):
        return []
    key, etag = record["s3objectkey"], record["etag"]
    return [preview_key(derived, prefix, key, etag, int(size)) for size in record["preview"]]


def source_of(derived: str, prefix: str, preview: str) -> tuple[str, str] | None:
    """(source key, source etag) of a preview object's key, or None if it is not one."""
    if not preview.startswith(derived) or not preview.endswith(PREVIEW_SUFFIX):
        return None
    parts = preview[len(derived) :].rsplit("/", 2)
    if len(parts) != 3 or not parts[0]:
        return None
    return prefix + parts[0], parts[1]


def remove_previews(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete previews (one request); a failure is logged, reconcile removes orphans."""
    if not keys:
        return
    try:
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
        )
    except (BotoCoreError, ClientError) as error:
        log.warning("could not delete previews %s: %s (reconcile removes them)", keys, error)


class PixelQueue:
    """Sends pixel messages; the queue URL is looked up once per container."""

    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._name = queue_name
        self._url: str | None = None

    def send(self, message: PixelMessage) -> bool:
        """One SendMessage (plus one GetQueueUrl per container); False when it failed."""
        try:
            if self._url is None:
                self._url = self._sqs.get_queue_url(QueueName=self._name)["QueueUrl"]
            self._sqs.send_message(QueueUrl=self._url, MessageBody=message.to_json())
            return True
        except (BotoCoreError, ClientError) as error:
            log.warning(
                "could not queue %r for previews: %s (reconcile queues it again)",
                message.key,
                error,
            )
            return False


class PixelHooks:
    """What the metadata handlers do for the pixel stage after their catalog write."""

    def __init__(self, s3: Any, bucket: str, prefix: str, derived: str, queue: PixelQueue):
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._derived = derived
        self._queue = queue

    def carry_over(self, old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        """`new` with the stage's fields of `old` when both are the same bytes (same
        ETag): a repeated event or a re-extraction does not redo the pixel work."""
        if not stage_has_run(old) or old.get("etag") != new.get("etag"):
            return new
        if new.get("status") != "ok":
            return new
        return {**new, **{name: old[name] for name in STAGE_FIELDS if name in old}}

    def stored(self, old: dict[str, Any] | None, new: dict[str, Any], sequencer: str) -> None:
        """After a record was stored: the replaced version's previews go (unless the
        bytes are the same), and a record that needs pixels is queued."""
        if old and old.get("etag") != new.get("etag"):
            remove_previews(self._s3, self._bucket, preview_keys(self._derived, self._prefix, old))
        if needs_pixels(new):
            key, etag, size = new["s3objectkey"], new["etag"], int(new.get("size") or 0)
            self._queue.send(PixelMessage(key, etag, sequencer, size))

    def queue(self, message: PixelMessage) -> bool:
        return self._queue.send(message)

    def removed(self, old: dict[str, Any] | None) -> None:
        remove_previews(self._s3, self._bucket, preview_keys(self._derived, self._prefix, old))
