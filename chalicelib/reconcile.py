"""Reconcile: make the catalog equal the bucket again (backfill and repair).

Three passes, each safe while uploads continue:
1. bucket -> catalog: every object under the prefix whose record is missing,
   deleted or has another ETag is re-extracted (`--force`: all of them);
2. catalog -> bucket: records whose object is gone get a tombstone;
3. counters and facet items: recomputed from a scan of the records and
   rewritten only where they differ and only if no write touched the counter
   shards they belong to meanwhile.

Every write is conditional on the entry revision seen before looking at S3,
and S3 reads carry IfMatch, so a concurrent event always wins over reconcile.
Pass 1 can stop early (`should_stop`) and resume after the last key it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.catalog.catalog import Catalog
from chalicelib.catalog.summary import COUNTER_PREFIXES, counter_changes
from chalicelib.dependencies import Dependencies
from chalicelib.ingest import Ingestor
from chalicelib.keys import is_image_key

Progress = Callable[[str, int], None]


@dataclass
class ReconcileReport:
    listed: int = 0
    refreshed: int = 0
    removed: int = 0
    counters_rebuilt: list[int] = field(default_factory=list)
    counters_busy: list[int] = field(default_factory=list)
    facets_rewritten: int = 0
    facets_busy: bool = False
    # Set when pass 1 stopped early: run again with start_after=this key.
    resume_after: str | None = None

    @property
    def complete(self) -> bool:
        return self.resume_after is None and not self.counters_busy and not self.facets_busy


def reconcile(
    deps: Dependencies,
    *,
    start_after: str = "",
    force: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress = lambda phase, done: None,
) -> ReconcileReport:
    report = ReconcileReport()
    _backfill(deps, start_after, force, should_stop, progress, report)
    if report.resume_after is None:
        _forget_vanished(deps.catalog, deps.ingestor, progress, report)
        _rebuild_counters(deps.catalog, progress, report)
        report.facets_rewritten, report.facets_busy = deps.catalog.rebuild_facets()
    return report


def _backfill(
    deps: Dependencies,
    start_after: str,
    force: bool,
    should_stop: Callable[[], bool],
    progress: Progress,
    report: ReconcileReport,
) -> None:
    prefix, catalog = deps.settings.prefix, deps.catalog
    pages = deps.s3.get_paginator("list_objects_v2").paginate(
        Bucket=deps.settings.bucket, Prefix=prefix, StartAfter=start_after
    )
    for page in pages:
        for obj in page.get("Contents", []):
            key, etag = obj["Key"], obj["ETag"].strip('"')
            if not is_image_key(key, prefix):
                continue
            report.listed += 1
            entry = catalog.entry(key)
            current = entry.record if entry else None
            if force or current is None or current.get("etag") != etag:
                outcome = deps.ingestor.refresh(key, etag, entry.revision if entry else 0)
                report.refreshed += outcome.action == "stored"
            progress("objects", report.listed)
            if should_stop():
                report.resume_after = key
                return


def _forget_vanished(
    catalog: Catalog, ingestor: Ingestor, progress: Progress, report: ReconcileReport
) -> None:
    for checked, (key, entry) in enumerate(catalog.entries(), start=1):
        if entry.record is not None:
            report.removed += ingestor.forget_if_gone(key, entry.revision).action == "deleted"
        progress("records", checked)


def _rebuild_counters(catalog: Catalog, progress: Progress, report: ReconcileReport) -> None:
    # Versions first: any write during the scan bumps them and voids the rebuild.
    before = catalog.counter_shards()
    truth: dict[int, dict[str, Any]] = {n: {} for n in before}
    for counted, (key, entry) in enumerate(catalog.entries(), start=1):
        increments, labels = counter_changes(None, entry.record)
        shard = truth[catalog.shard_of(key)]
        for name, value in increments.items():
            shard[name] = shard.get(name, 0) + value
        shard.update(labels)
        progress("counters", counted)
    for n, stored in before.items():
        if _numbers(stored) == _numbers(truth[n]):
            continue
        version = int(stored["version"]) if stored and "version" in stored else None
        if catalog.replace_counters(n, truth[n], version):
            report.counters_rebuilt.append(n)
        else:
            report.counters_busy.append(n)


def _numbers(counters: dict[str, Any] | None) -> dict[str, int]:
    """The counts in a counter item, zeros dropped (labels and version ignored)."""
    return {
        name: int(value)
        for name, value in (counters or {}).items()
        if name.startswith(COUNTER_PREFIXES) and int(value) != 0
    }
