"""The pixel stage: one message per `ok` record, one GET, previews and hashes stored.

A message names the record version it was sent for (key, ETag, sequencer).
Anything else in the catalog by the time it is handled (gone, not `ok`,
overwritten, already done) makes it stale: it is dropped, and whatever
replaced the record sent its own message. Otherwise the object is streamed
once (GET with IfMatch) into `chalicelib.pixels.analyse`, the previews are
written under the derived prefix, and the record gains the stage's fields in
one transaction with its duplicate items and counters (`Catalog.enrich`,
conditioned on the same version). Redelivery (SQS is at-least-once) finds the
fields there and does nothing; two copies at once write the same preview
bytes to the same keys and only one enrichment commits.

Pillow is imported only when a message is handled: the other functions share
this package and their cold start must not pay for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.catalog import Catalog
from chalicelib.pixel_queue import (
    STAGE_MARKERS,
    InvalidMessageError,
    PixelMessage,
    preview_key,
    remove_previews,
    stage_has_run,
)
from chalicelib.preview_api import IMMUTABLE
from chalicelib.s3file import unreadable
from chalicelib.settings import Settings


@dataclass
class StageOutcome:
    key: str
    action: str  # enriched | stale | done
    previews: int = 0
    bytes_read: int = 0
    reason: str | None = None


class PixelStage:
    def __init__(self, s3: Any, catalog: Catalog, settings: Settings) -> None:
        self._s3 = s3
        self._catalog = catalog
        self._settings = settings

    def handle(self, message: PixelMessage) -> StageOutcome:
        key = message.key
        entry = self._catalog.entry(key)
        record = entry.record if entry else None
        if not self._current(message, entry):
            return StageOutcome(key, "stale")
        if stage_has_run(record):
            return StageOutcome(key, "done")  # a redelivered message
        from chalicelib.pixels import PixelLimits, analyse  # Pillow: this function only

        s = self._settings
        limits = PixelLimits(
            max_bytes=s.preview_max_bytes,
            max_pixels=s.preview_max_pixels,
            max_decode_bytes=s.preview_max_decode_mb << 20,
        )
        try:
            if message.size > limits.max_bytes:  # skipped without a GET
                facts = analyse(_Empty(), size_hint=message.size, limits=limits)
            else:
                response = self._s3.get_object(
                    Bucket=s.bucket, Key=key, IfMatch=f'"{message.etag}"'
                )
                with response["Body"] as body:
                    facts = analyse(body, size_hint=message.size, limits=limits)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "NoSuchKey", "404", "NotFound"):
                return StageOutcome(key, "stale", reason=code)  # its successor decides
            problem = unreadable(error)
            if problem is None:
                raise  # transient: SQS redelivers, then the dead-letter queue
            # Archived or out of the role's reach since the record: retrying cannot help.
            return self._store(message, [], {"preview_error": problem.reason})
        written = self._write_previews(message, facts.previews)
        return self._store(message, written, record_fields(facts))

    def _store(self, message: PixelMessage, written: list[str], fields: dict) -> StageOutcome:
        key, s = message.key, self._settings
        if self._catalog.enrich(key, message.etag, message.sequencer, fields):
            return StageOutcome(key, "enriched", len(written), message.size, fields_reason(fields))
        # Changed meanwhile. The previews stay if this version's bytes are still
        # the record's (a concurrent copy of this message won); otherwise they go.
        now = self._catalog.entry(key)
        if not (now and now.record and now.record.get("etag") == message.etag):
            remove_previews(self._s3, s.bucket, written)
        return StageOutcome(key, "stale", reason="the record changed meanwhile")

    def _current(self, message: PixelMessage, entry: Any) -> bool:
        record = entry.record if entry else None
        return (
            record is not None
            and record.get("status") == "ok"
            and record.get("etag") == message.etag
            and entry.sequencer == message.sequencer
        )

    def _write_previews(self, message: PixelMessage, previews: tuple[Any, ...]) -> list[str]:
        s = self._settings
        written = []
        for preview in previews:
            target = preview_key(
                s.derived_prefix, s.prefix, message.key, message.etag, preview.size
            )
            self._s3.put_object(
                Bucket=s.bucket,
                Key=target,
                Body=preview.data,
                ContentType=preview.media_type,
                CacheControl=IMMUTABLE,
            )
            written.append(target)
        return written


def record_fields(facts: Any) -> dict[str, Any]:
    """The record fields of a PixelFacts (only those with a value)."""
    fields: dict[str, Any] = {
        "content_sha256": facts.content_sha256,
        "phash": facts.phash,
        "average_color": facts.average_color,
        "placeholder": facts.placeholder,
        "preview_error": facts.error,
        "preview_skipped": facts.skipped,
    }
    if facts.previews:
        fields["preview"] = {
            str(p.size): {"width": p.width, "height": p.height} for p in facts.previews
        }
    if facts.dominant_colors:
        fields["dominant_colors"] = [
            {"color": color, "share": round(share, 4)} for color, share in facts.dominant_colors
        ]
    fields = {name: value for name, value in fields.items() if value is not None}
    if not any(name in fields for name in STAGE_MARKERS):
        # The stage has run all the same: say so, or every reconcile would queue it again.
        fields["preview_error"] = "the image could not be analysed"
    return fields


def fields_reason(fields: dict[str, Any]) -> str | None:
    return fields.get("preview_error") or fields.get("preview_skipped")


class _Empty:
    """A stream of no bytes: `analyse` skips by size before reading."""

    def read(self, size: int = -1) -> bytes:
        return b""


def handle_body(stage: PixelStage, body: str) -> dict[str, Any]:
    """One SQS message body through the stage; a body that is no pixel message is
    dropped (retrying cannot help), anything transient raises (SQS redelivers)."""
    try:
        message = PixelMessage.parse(body)
    except InvalidMessageError as error:
        return {"key": None, "action": "dropped", "reason": str(error)}
    return asdict(stage.handle(message))
