"""S3 events in, catalog writes out: what the event handlers do.

S3 delivers events at least once and in no guaranteed order. Each event
carries a per-key `sequencer`; the catalog applies an event only when it is
newer than the last one applied to the key, so duplicates and stragglers are
harmless. Both event kinds are also checked against the bucket itself: reads
carry `IfMatch` on the event's ETag, and a delete is applied only if the
object is really gone. If the object changed since the event, a newer event
is on its way (or reconcile will catch it) and this one is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from chalicelib.catalog.catalog import UNREAD, Catalog, Entry
from chalicelib.catalog.records import STATUS_UNREADABLE
from chalicelib.extraction.extract import extract_metadata
from chalicelib.keys import extension_of, is_image_key
from chalicelib.pixel_queue import PixelHooks
from chalicelib.s3file import ObjectChangedError, ObjectInfo, S3RangeFile, UnreadableObjectError

# S3 sequencers are hex strings of varying length; AWS documents comparing
# them after right-padding the shorter one with zeros. A fixed width lets the
# stored strings compare correctly in DynamoDB conditions too.
SEQUENCER_WIDTH = 32


@dataclass(frozen=True)
class ObjectEvent:
    bucket: str
    key: str
    sequencer: str
    etag: str | None = None


def parse_s3_record(record: dict[str, Any]) -> ObjectEvent:
    """The parts of one S3 notification record we use; the key URL-decoded."""
    s3 = record["s3"]
    obj = s3["object"]
    etag = obj.get("eTag") or obj.get("etag")
    return ObjectEvent(
        bucket=s3["bucket"]["name"],
        key=unquote_plus(obj["key"]),
        sequencer=normalize_sequencer(obj.get("sequencer")),
        etag=etag.strip('"') if etag else None,
    )


def normalize_sequencer(raw: str | None) -> str:
    """Fixed-width, upper-case form; empty when the event has none."""
    if not raw:
        return ""
    return raw.strip().upper().ljust(SEQUENCER_WIDTH, "0")


@dataclass
class Outcome:
    """What handling one event did; logged as one line."""

    key: str
    action: str  # stored | deleted | stale | superseded | ignored | unchanged
    status: str | None = None
    requests: int = 0
    bytes_read: int = 0


class Ingestor:
    def __init__(
        self,
        s3_client: Any,
        catalog: Catalog,
        bucket: str,
        prefix: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pixels: PixelHooks | None = None,
    ) -> None:
        self._s3 = s3_client
        self._pixels = pixels  # None: the pixel stage is off
        self._catalog = catalog
        self._bucket = bucket
        self._prefix = prefix
        self._clock = clock

    def object_created(self, event: ObjectEvent) -> Outcome:
        if not self._concerns_us(event):
            return Outcome(event.key, "ignored")
        # Cheap early exit for duplicates and stragglers: no S3 read at all.
        # The entry read here is the one the write checks (read once per event).
        entry = self._catalog.entry(event.key)
        if event.sequencer and entry and entry.sequencer >= event.sequencer:
            return Outcome(event.key, "stale")
        return self._extract_and_store(event.key, event.etag, event.sequencer, seen=entry)

    def object_removed(self, event: ObjectEvent) -> Outcome:
        if not self._concerns_us(event):
            return Outcome(event.key, "ignored")
        if self.exists(event.key):
            # Re-created since this delete: the newer create event decides.
            return Outcome(event.key, "superseded")
        # What is deleted, for its previews (one more read, only with the stage on).
        old = self._catalog.entry(event.key) if self._pixels else None
        deleted = self._catalog.delete(event.key, event.sequencer)
        if deleted and self._pixels and old:
            self._pixels.removed(old.record)
        return Outcome(event.key, "deleted" if deleted else "stale")

    def refresh(self, key: str, etag: str | None, if_revision: int) -> Outcome:
        """Re-extract `key` outside any event (reconcile), if its entry is unchanged."""
        return self._extract_and_store(key, etag, "", if_revision)

    def forget_if_gone(self, key: str, if_revision: int) -> Outcome:
        """Tombstone a record whose object no longer exists (reconcile)."""
        if self.exists(key):
            return Outcome(key, "unchanged")
        deleted = self._catalog.delete(key, "", if_revision)
        return Outcome(key, "deleted" if deleted else "stale")

    def _extract_and_store(
        self,
        key: str,
        etag: str | None,
        sequencer: str,
        if_revision: int | None = None,
        seen: Entry | None = UNREAD,
    ) -> Outcome:
        try:
            reader = S3RangeFile(self._s3, self._bucket, key, if_match=etag)
            metadata = extract_metadata(reader)
            if reader.failure:
                raise reader.failure
        except ObjectChangedError:
            # Overwritten or deleted since: the newer event decides.
            return Outcome(key, "superseded")
        except UnreadableObjectError as error:
            # Archived or encrypted beyond our reach: retrying cannot help, so
            # the object gets a record saying why instead of failing forever.
            return self._store_unreadable(key, etag, sequencer, if_revision, error.reason)
        record = build_record(key, reader.info, metadata, self._clock())
        old = seen.record if seen is not UNREAD and seen is not None else None
        if self._pixels:
            record = self._pixels.carry_over(old, record)
        stored = self._catalog.put(record, sequencer, if_revision, seen)
        if stored and self._pixels:
            self._pixels.stored(old, record, sequencer)
        return Outcome(
            key,
            "stored" if stored else "stale",
            record["status"],
            reader.requests,
            reader.bytes_read,
        )

    def _store_unreadable(
        self, key: str, etag: str | None, sequencer: str, if_revision: int | None, reason: str
    ) -> Outcome:
        info = self._listed(key)
        if info is None or (etag and info.etag != etag):
            return Outcome(key, "superseded")
        entry = self._catalog.entry(key)
        known = entry.record if entry else None
        if known and (known.get("status"), known.get("etag"), known.get("error")) == (
            STATUS_UNREADABLE,
            info.etag,
            reason,
        ):
            # Still unreadable for the same reason (a reconcile retrying it): nothing new.
            return Outcome(key, "unchanged", STATUS_UNREADABLE, requests=2)
        metadata = {"status": STATUS_UNREADABLE, "error": reason, "format": None, "mime_type": None}
        record = build_record(key, info, metadata, self._clock())
        stored = self._catalog.put(record, sequencer, if_revision, entry)
        return Outcome(key, "stored" if stored else "stale", STATUS_UNREADABLE, requests=2)

    def _listed(self, key: str) -> ObjectInfo | None:
        """Size, ETag and date of `key` from a one-key listing, or None if it is gone.

        A listing describes objects whose bytes (and even HEAD, for SSE-C) are
        out of reach.
        """
        response = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=key, MaxKeys=1)
        found = response.get("Contents", [])
        if not found or found[0]["Key"] != key:
            return None
        obj = found[0]
        return ObjectInfo(int(obj["Size"]), obj["ETag"].strip('"'), obj.get("LastModified"), None)

    def exists(self, key: str) -> bool:
        """Whether the bucket holds `key` right now (a HEAD request)."""
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
            return True
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            # With s3:ListBucket a missing key is a 404, so a refusal means the
            # object is there: SSE-C objects answer HEAD with 400, KMS ones
            # the role may not use with 403.
            if code in ("400", "BadRequest", "403", "AccessDenied"):
                return True
            raise

    def _concerns_us(self, event: ObjectEvent) -> bool:
        return event.bucket == self._bucket and is_image_key(event.key, self._prefix)


def build_record(
    key: str, info: ObjectInfo, metadata: dict[str, Any], extracted_at: datetime
) -> dict[str, Any]:
    """The public record of one object: S3 facts plus what extraction found."""
    record: dict[str, Any] = {
        "s3objectkey": key,
        "size": info.size,
        "etag": info.etag,
        "last_modified": iso_utc(info.last_modified) if info.last_modified else None,
        "content_type": info.content_type,
        "extension": extension_of(key),
        "extracted_at": iso_utc(extracted_at),
    }
    record.update(metadata)
    return record


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the second (what S3 reports)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
