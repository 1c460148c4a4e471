"""Reconcile: make the catalog equal the bucket again (backfill and repair).

Three phases, each safe while uploads continue:
1. `objects`, bucket -> catalog: every object under the prefix whose record is
   missing, deleted, `unreadable` (it may have been restored or its key
   granted since) or has another ETag is re-extracted (`force`: all of them);
2. `records`, catalog -> bucket: records whose object is gone get a tombstone;
3. `counters`: recomputed from a scan of the records and rewritten per shard,
   only where they differ and only if no write touched the shard meanwhile;
4. `facets`: the facet value items recomputed the same way (one pass, guarded
   by the counter shard versions; it has no resume point of its own).

Every write is conditional on the entry revision seen before looking at S3,
and S3 reads carry IfMatch, so a concurrent event always wins over reconcile.

Every phase can stop in time (`should_stop`, checked after each key) and say
where to go on: the report's `resume` is a Position (reconcile_payload) to
pass back, which carries the phase, the last key done, and the counters
phase's partial counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import pixel_reconcile
from chalicelib.catalog.catalog import CatalogBusyError
from chalicelib.catalog.records import STATUS_UNREADABLE
from chalicelib.catalog.summary import COUNTER_PREFIXES, FACET_PREFIXES, counter_changes
from chalicelib.dependencies import Dependencies
from chalicelib.keys import is_image_key
from chalicelib.reconcile_payload import PHASES, Position

Progress = Callable[[str, int], None]
StopCheck = Callable[[], bool]
MAX_FAILED_KEYS = 20  # named in the report; the count is complete


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


def reconcile(
    deps: Dependencies,
    *,
    start_after: str = "",
    force: bool = False,
    resume: Position | None = None,
    should_stop: StopCheck = lambda: False,
    progress: Progress = lambda phase, done: None,
) -> ReconcileReport:
    """Run the phases from `resume` (default: the objects after `start_after`)."""
    report = ReconcileReport()
    position = resume or Position("objects", start_after, force)
    for phase in PHASES[PHASES.index(position.phase) :]:
        if position.phase != phase:
            position = Position(phase, force=position.force)
        stopped = _PHASES[phase](deps, position, should_stop, progress, report)
        if stopped is not None:
            report.resume = stopped.to_json()
            break
    return report


def _objects(
    deps: Dependencies,
    position: Position,
    should_stop: StopCheck,
    progress: Progress,
    report: ReconcileReport,
) -> Position | None:
    prefix = deps.settings.prefix
    pages = deps.s3.get_paginator("list_objects_v2").paginate(
        Bucket=deps.settings.bucket, Prefix=prefix, StartAfter=position.after
    )
    for page in pages:
        for obj in page.get("Contents", []):
            key, etag = obj["Key"], obj["ETag"].strip('"')
            if not is_image_key(key, prefix):
                continue
            report.listed += 1
            _refresh(deps, key, etag, position.force, report)
            progress("objects", report.listed)
            if should_stop():
                return Position("objects", key, position.force)
    return None


def _refresh(deps: Dependencies, key: str, etag: str, force: bool, report: ReconcileReport) -> None:
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


def _records(
    deps: Dependencies,
    position: Position,
    should_stop: StopCheck,
    progress: Progress,
    report: ReconcileReport,
) -> Position | None:
    for checked, (key, entry) in enumerate(deps.catalog.entries(after=position.after), start=1):
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
            return Position("records", key, position.force)
    return None


def _counters(
    deps: Dependencies,
    position: Position,
    should_stop: StopCheck,
    progress: Progress,
    report: ReconcileReport,
) -> Position | None:
    catalog = deps.catalog
    if not position.after:
        # Versions first: any write during the count bumps them and voids the rebuild.
        position.versions = {n: _version(item) for n, item in catalog.counter_shards().items()}
        position.counts = {n: {} for n in position.versions}
    for counted, (key, entry) in enumerate(catalog.entries(after=position.after), start=1):
        increments, labels = counter_changes(None, entry.record)
        if not entry.indexed:  # stored before facets were counted: it adds none yet
            increments = {k: v for k, v in increments.items() if not k.startswith(FACET_PREFIXES)}
        shard = position.counts[catalog.shard_of(key)]
        for name, value in increments.items():
            shard[name] = shard.get(name, 0) + value
        shard.update(labels)
        progress("counters", counted)
        if should_stop():
            position.after = key
            return position
    for n, stored in catalog.counter_shards().items():
        if _numbers(stored) == _numbers(position.counts[n]):
            continue
        if catalog.replace_counters(n, position.counts[n], position.versions[n]):
            report.counters_rebuilt.append(n)
        else:
            report.counters_busy.append(n)
    return None


def _facets(
    deps: Dependencies,
    position: Position,
    should_stop: StopCheck,
    progress: Progress,
    report: ReconcileReport,
) -> Position | None:
    if should_stop():
        return Position("facets", force=position.force)
    report.facets_rewritten, report.facets_busy = deps.catalog.rebuild_facets()
    report.duplicates_rewritten, report.duplicates_busy = pixel_reconcile.rebuild_duplicates(deps)
    report.previews_removed = pixel_reconcile.sweep_previews(deps)
    progress("facets", report.facets_rewritten)
    return None


_PHASES = {"objects": _objects, "records": _records, "counters": _counters, "facets": _facets}


def _version(item: dict[str, Any] | None) -> int | None:
    return int(item["version"]) if item and "version" in item else None


def _numbers(counters: dict[str, Any] | None) -> dict[str, int]:
    """The counts in a counter item, zeros dropped (labels and version ignored)."""
    return {
        name: int(value)
        for name, value in (counters or {}).items()
        if name.startswith(COUNTER_PREFIXES) and int(value) != 0
    }
