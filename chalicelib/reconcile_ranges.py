"""One piece of each reconcile pass: the logic the single process and the job's
workers share.

- `objects_in_range`: the objects pass over the keys `after < key <= upto`
  (`upto` empty: to the end of the prefix) — the single process runs it over
  the whole prefix, a worker over one range of a job;
- `records_in_segment`: the records pass over one parallel Scan segment.

Both stop when `should_stop()` says so (checked after each key) and return the
last key they finished, to go on from (None: the piece is done). Every write
is conditional on the entry revision read before looking at S3, so running a
key twice, or next to a live event, changes nothing the event did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import pixel_reconcile
from chalicelib.catalog.catalog import CatalogBusyError
from chalicelib.catalog.records import STATUS_UNREADABLE
from chalicelib.dependencies import Dependencies
from chalicelib.keys import is_image_key

Progress = Callable[[str, int], None]
StopCheck = Callable[[], bool]
MAX_FAILED_KEYS = 20  # named in the report; the count is complete
STATS = ("listed", "refreshed", "removed", "unreadable", "failed")


@dataclass
class ReconcileReport:
    listed: int = 0
    refreshed: int = 0
    removed: int = 0
    # Objects that cannot be read (archived, or encrypted beyond our reach):
    # they have an `unreadable` record, nothing is wrong with the catalog.
    unreadable: int = 0
    # Keys whose repair failed for a transient reason (throttling, 5xx):
    # reconcile goes on; run it again to retry them.
    failed: int = 0
    failed_keys: list[str] = field(default_factory=list)
    counters_rebuilt: list[int] = field(default_factory=list)
    counters_busy: list[int] = field(default_factory=list)
    facets_rewritten: int = 0
    facets_busy: bool = False
    # The pixel stage (chalicelib/pixel_reconcile.py).
    previews_queued: int = 0
    previews_removed: int = 0
    duplicates_rewritten: int = 0
    duplicates_busy: bool = False
    # Set when a phase stopped early: pass it back as `{"resume": ...}`.
    resume: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        busy = self.counters_busy or self.facets_busy or self.duplicates_busy
        return self.resume is None and not busy and not self.failed

    def fail(self, key: str) -> None:
        self.failed += 1
        if len(self.failed_keys) < MAX_FAILED_KEYS:
            self.failed_keys.append(key)

    def stats(self) -> dict[str, int]:
        """The counts a job adds up over its pieces."""
        return {name: getattr(self, name) for name in STATS}


def objects_in_range(
    deps: Dependencies,
    report: ReconcileReport,
    *,
    after: str = "",
    upto: str = "",
    force: bool = False,
    should_stop: StopCheck = lambda: False,
    progress: Progress = lambda phase, done: None,
) -> str | None:
    """Refresh every object `after < key <= upto` whose record is missing or stale."""
    prefix = deps.settings.prefix
    pages = deps.s3.get_paginator("list_objects_v2").paginate(
        Bucket=deps.settings.bucket, Prefix=prefix, StartAfter=after
    )
    for page in pages:
        for obj in page.get("Contents", []):
            key, etag = obj["Key"], obj["ETag"].strip('"')
            if upto and key > upto:
                return None
            if not is_image_key(key, prefix):
                continue
            report.listed += 1
            refresh_object(deps, key, etag, force, report)
            progress("objects", report.listed)
            if should_stop():
                return key
    return None


def refresh_object(
    deps: Dependencies, key: str, etag: str, force: bool, report: ReconcileReport
) -> None:
    try:
        entry = deps.catalog.entry(key)
        current = entry.record if entry else None
        stale = current is None or current.get("etag") != etag
        if force or stale or current.get("status") == STATUS_UNREADABLE:
            outcome = deps.ingestor.refresh(key, etag, entry.revision if entry else 0)
            report.refreshed += outcome.action == "stored"
            current = {"status": outcome.status} if outcome.status else current
        report.unreadable += bool(current) and current.get("status") == STATUS_UNREADABLE
    except (ClientError, BotoCoreError, CatalogBusyError):
        # Transient (anything permanent became a record): count it, go on.
        report.fail(key)


def records_in_segment(
    deps: Dependencies,
    report: ReconcileReport,
    *,
    segment: int = 0,
    segments: int = 1,
    after: str = "",
    should_stop: StopCheck = lambda: False,
    progress: Progress = lambda phase, done: None,
) -> str | None:
    """Tombstone the records of one Scan segment whose object is gone."""
    entries = deps.catalog.entries(segment, segments, after=after)
    for checked, (key, entry) in enumerate(entries, start=1):
        if entry.record is not None:
            try:
                outcome = deps.ingestor.forget_if_gone(key, entry.revision)
                report.removed += outcome.action == "deleted"
                if outcome.action == "unchanged":
                    report.previews_queued += pixel_reconcile.record_checked(deps, key, entry)
            except (ClientError, BotoCoreError, CatalogBusyError):
                report.fail(key)
        progress("records", checked)
        if should_stop():
            return key
    return None
