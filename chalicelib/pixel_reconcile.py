"""Reconcile's part for the pixel stage: queue what it missed, remove orphan previews,
rebuild the duplicate items and counters.

Called from chalicelib/reconcile.py through three small hooks, so that the
phases there stay about the metadata records:
- `record_checked(deps, key, entry)`: an `ok` record the stage never ran for
  (its message was lost, the send failed, the stage was off) is queued again;
- `sweep_previews(deps)`: every object under the derived prefix whose source
  record (key and ETag) no longer exists is deleted (`sweep_range`: one range
  of it, resumable; `sweep_work_item`: a job's work item for one);
- `rebuild_duplicates(deps)`: the duplicate group, member and band items and
  the `dups#` counters, recomputed from the records (guarded like the facets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.pixel_queue import PixelMessage, needs_pixels, remove_previews, source_of
from chalicelib.reconcile_work import WorkItem, end_if_done, next_piece, send_items

DELETE_BATCH = 1000  # DeleteObjects' limit


def record_checked(deps: Any, key: str, entry: Any) -> bool:
    """Queue `key` for the stage if its record needs pixels; True when queued."""
    if not deps.settings.previews or entry is None or not needs_pixels(entry.record):
        return False
    record = entry.record
    message = PixelMessage(key, record["etag"], entry.sequencer, int(record.get("size") or 0))
    return deps.pixel_hooks.queue(message)


def sweep_previews(deps: Any) -> int:
    """Delete the previews whose source record (key, ETag) is gone; returns how many."""
    return sweep_range(deps)[0]


def sweep_range(
    deps: Any, after: str = "", upto: str = "", should_stop: Callable[[], bool] = lambda: False
) -> tuple[int, str | None]:
    """The sweep over the previews `after < key <= upto` (`upto` empty: to the end):
    (previews removed, the last key done when `should_stop` said so, else None)."""
    s = deps.settings
    pages = deps.s3.get_paginator("list_objects_v2").paginate(
        Bucket=s.bucket, Prefix=s.derived_prefix, StartAfter=after
    )
    orphans: list[str] = []
    removed, last = 0, None
    for page in pages:
        for obj in page.get("Contents", []):
            if upto and obj["Key"] > upto:
                break
            source = source_of(s.derived_prefix, s.prefix, obj["Key"])
            record = deps.catalog.get(source[0]) if source else None
            if source is None or not record or record.get("etag") != source[1]:
                orphans.append(obj["Key"])
            if len(orphans) == DELETE_BATCH:
                remove_previews(deps.s3, s.bucket, orphans)
                removed, orphans = removed + len(orphans), []
            if should_stop():
                last = obj["Key"]
                break
        else:
            continue
        break
    remove_previews(deps.s3, s.bucket, orphans)
    return removed + len(orphans), last


def sweep_work_item(
    deps: Any, store: Any, item: WorkItem, job: dict[str, Any], stop: Any, again: bool
) -> str:
    """One piece of a job's preview sweep (a range of the derived prefix, from
    `item.after`), reported once; queues the rest when time is up."""
    if item.range in job.get("swept", ()):
        return "already swept: dropped"
    removed, last = sweep_range(deps, item.after, item.upto, stop)
    job = store.sweep_piece(item.job, item.piece, removed, item.range if last is None else None)
    if job is None:  # reported before: by another delivery, or by this one's first attempt
        if not again:
            return "reported by another delivery: counted once"
        # The first attempt reported less of the range (it stopped earlier) and may
        # have died before queueing the rest: this attempt's end counts (a set: once).
        done = None if last else store.sweep_piece(item.job, f"{item.piece}+", 0, item.range)
        job = done or store.job_item(item.job)
    if last is not None:
        send_items(deps, [next_piece(item, after=last)])
        return "time is up: queued the rest of the sweep range"
    return (job and end_if_done(store, item.job, job)) or "sweep range done"


def rebuild_duplicates(deps: Any) -> tuple[int, bool]:
    """(items rewritten, whether a concurrent write made it give up)."""
    records = ((key, entry.record) for key, entry in deps.catalog.entries() if entry.record)
    return deps.catalog.duplicates.rebuild(records)
