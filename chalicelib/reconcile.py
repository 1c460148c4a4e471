"""Reconcile: make the catalog equal the bucket again (backfill and repair).

Three phases, each safe while uploads continue:
1. `objects`, bucket -> catalog: every object under the prefix whose record is
   missing, deleted, `unreadable` (it may have been restored or its key
   granted since) or has another ETag is re-extracted (`force`: all of them);
2. `records`, catalog -> bucket: records whose object is gone get a tombstone;
3. `counters`: recomputed from a scan of the records and rewritten per shard,
   only where they differ and only if no write touched the shard meanwhile;
4. `facets`: the facet value items recomputed the same way (one tally of the
   whole table, catalog/tally.py, guarded by the counter shard versions; no
   resume point of its own: a job's final step runs the same tally in
   resumable pieces over Scan segments, reconcile_finish.py).

Every write is conditional on the entry revision seen before looking at S3,
and S3 reads carry IfMatch, so a concurrent event always wins over reconcile.

Every phase can stop in time (`should_stop`, checked after each key) and say
where to go on: the report's `resume` is a Position (reconcile_payload) to
pass back, which carries the phase, the last key done, and the counters
phase's partial counts.
"""

from __future__ import annotations

from chalicelib import pixel_reconcile
from chalicelib.catalog.rebuild import rebuild_facets
from chalicelib.catalog.tally import count_record, counter_numbers
from chalicelib.dependencies import Dependencies
from chalicelib.reconcile_payload import PHASES, Position
from chalicelib.reconcile_ranges import (
    Progress,
    ReconcileReport,
    StopCheck,
    objects_in_range,
    records_in_segment,
)

__all__ = ["ReconcileReport", "reconcile"]


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
    # The whole prefix as one range (a job's workers take one range each).
    last = objects_in_range(
        deps,
        report,
        after=position.after,
        force=position.force,
        should_stop=should_stop,
        progress=progress,
    )
    return None if last is None else Position("objects", last, position.force)


def _records(
    deps: Dependencies,
    position: Position,
    should_stop: StopCheck,
    progress: Progress,
    report: ReconcileReport,
) -> Position | None:
    # One Scan segment of one (a job's workers take one segment each).
    last = records_in_segment(
        deps, report, after=position.after, should_stop=should_stop, progress=progress
    )
    return None if last is None else Position("records", last, position.force)


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
        position.versions = catalog.shard_versions()
        position.counts = {n: {} for n in position.versions}
    for counted, (key, entry) in enumerate(catalog.entries(after=position.after), start=1):
        count_record(position.counts[catalog.shard_of(key)], entry.record, entry.indexed)
        progress("counters", counted)
        if should_stop():
            position.after = key
            return position
    for n, stored in catalog.counter_shards().items():
        if counter_numbers(stored) == counter_numbers(position.counts[n]):
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
    s = deps.settings
    facets = rebuild_facets(deps.dynamodb, s.table, deps.catalog.shard_versions())
    report.facets_rewritten, report.facets_busy = facets
    report.duplicates_rewritten, report.duplicates_busy = pixel_reconcile.rebuild_duplicates(deps)
    report.previews_removed = pixel_reconcile.sweep_previews(deps)
    progress("facets", report.facets_rewritten)
    return None


_PHASES = {"objects": _objects, "records": _records, "counters": _counters, "facets": _facets}
