"""A reconcile job's final step: counters and facet items rebuilt from the records,
spread over the workers, each piece within one invocation's time.

1. `finish` (one item, once every range is settled): reads the versions of
   every counter shard and `dups#` counter, plans the Scan segments, the
   duplicate buckets and the preview sweep's ranges (recorded in the job once:
   a redelivery reuses them), and queues one `tally` item per segment (about
   RECORDS_PER_SEGMENT records each, at least `parallel` of them when there
   are records enough) and one `sweep` item per range.
2. `tally` (segment s): Scans its segment from `after` until the time is up,
   tallies the records and the stored facet items it meets (catalog/tally.py)
   and stores the parts (catalog/partials.py: the first attempt to store a
   piece wins, a second one adds nothing), then queues the rest of the
   segment. The last piece adds the segment to the job's `tallied` set; the
   update that completes the set queues the merges, one per counter shard and
   duplicate bucket (there are at least as many buckets as shards).
3. `merge` N: adds up part N and part dN over every segment, rewrites the
   value items of shard N that differ (guarded by shard N's version) and the
   duplicate items of bucket N (guarded by the `dups#` versions), then the counters
   when they differ, in one transaction with the job's record of the merge (so
   a redelivered merge finds it done). The merge that completes the set queues
   `close`.
4. `close`: the presence items and distinct counters (guarded by every shard's
   version as the merges left them) and the duplicate counters (the merges'
   totals, guarded by the `dups#` versions read by `finish`).
5. `sweep` (one per range of the derived prefix): deletes the previews whose
   record is gone, resumable from the last key. The job ends when close and
   every sweep range are done.

A piece whose work was done by another delivery passes the work on only when
it is itself a redelivery (its first attempt may have died before sending):
duplicates die out instead of doubling every step.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from chalicelib.catalog import duplicates
from chalicelib.catalog.duplicate_index import index_writes
from chalicelib.catalog.jobs import JobStore, merges_planned
from chalicelib.catalog.layout import version_of
from chalicelib.catalog.partials import PartialStore
from chalicelib.catalog.rebuild import (
    apply_writes,
    counters_put,
    scan_items,
)
from chalicelib.catalog.tally import (
    GLOBAL,
    Tally,
    add_part,
    counter_numbers,
    decode_part,
    empty_part,
    encode_part,
    presence_writes,
    value_writes,
)
from chalicelib.dependencies import Dependencies
from chalicelib.pixel_reconcile import sweep_work_item
from chalicelib.reconcile_ranges import StopCheck
from chalicelib.reconcile_split import plan_ranges
from chalicelib.reconcile_work import (
    MAX_RANGES,
    WorkItem,
    end_if_done,
    next_piece,
    send_items,
)

KINDS = ("finish", "tally", "merge", "close", "sweep")
RECORDS_PER_SEGMENT = 100_000  # ~50 s for one worker (bench/bench_tally.py, docs model)
RECORDS_PER_DUPLICATE_BUCKET = 20_000  # ~200k index items (as they are and should be)
MIN_RECORDS_PER_SEGMENT = 10  # below this, a segment is not worth a message
PARTIALS_KEPT_SECONDS = 3 * 24 * 3600  # longer than a job may run (24 h)


def run_final(
    deps: Dependencies,
    store: JobStore,
    item: WorkItem,
    job: dict[str, Any],
    stop: StopCheck,
    receive_count: int,
) -> str:
    """Run one piece of the final step; returns what became of it (for the log)."""
    steps = {
        "finish": _plan,
        "tally": _tally,
        "merge": _merge,
        "close": _close,
        "sweep": sweep_work_item,
    }
    return steps[item.kind](deps, store, item, job, stop, receive_count > 1)


def segments_for(listed: int, parallel: int) -> int:
    """How many Scan segments to tally `listed` records in."""
    by_size = -(-listed // RECORDS_PER_SEGMENT)
    spread = min(parallel, -(-listed // MIN_RECORDS_PER_SEGMENT))
    return max(1, min(MAX_RANGES, max(by_size, spread)))


def buckets_for(listed: int, shards: int) -> int:
    """How many hash buckets the duplicate items are merged in (a merge holds one
    bucket's index items, several per record, in memory)."""
    return max(shards, min(MAX_RANGES, -(-listed // RECORDS_PER_DUPLICATE_BUCKET)))


def _plan(deps, store, item, job, stop, again) -> str:
    s, partials = deps.settings, _partials(deps)
    versions = deps.catalog.shard_versions()
    wanted = segments_for(int(job.get("listed", 0)), item.parallel)
    # The preview sweep's ranges, stored so that a redelivery queues the same ones.
    ranges = plan_ranges(deps.s3, s.bucket, s.derived_prefix, wanted) if s.previews else []
    plan = secrets.token_hex(6)
    bounds = [[r.after, r.upto] for r in ranges]
    chunks = partials.write_blob(f"{item.job}#sweeps#{plan}", encode_part(bounds))
    dups = deps.catalog.duplicates.counter_items()
    fields = {
        "tally_versions": {str(n): v for n, v in versions.items()},
        "dup_versions": {pk: version_of(i) for pk, i in dups.items()},
        "tally_segments": wanted,
        "dup_buckets": buckets_for(int(job.get("listed", 0)), s.counter_shards),
        "sweeps_total": len(ranges),
        "sweep_plan": f"{plan}:{chunks}",
    }
    job = store.begin_tally(item.job, fields) or {}
    segments = int(job["tally_segments"])
    plan, chunks = job["sweep_plan"].split(":")
    ranges = decode_part(partials.read_blob(f"{item.job}#sweeps#{plan}", int(chunks)))
    work = [
        WorkItem(item.job, "tally", f"t{n}", segment=n, segments=segments, parallel=item.parallel)
        for n in range(segments)
    ] + [
        WorkItem(item.job, "sweep", f"p{n}", after=after, upto=upto, parallel=item.parallel)
        for n, (after, upto) in enumerate(ranges)
    ]
    send_items(deps, work)
    return f"counting in {segments} Scan segments, sweeping {len(ranges)} preview ranges"


def _tally(deps, store, item, job, stop, again) -> str:
    s, partials = deps.settings, _partials(deps)
    head, mine = partials.head(item.job, item.segment, item.after), False
    if head is None:
        tally, end = Tally(s.counter_shards, int(job["dup_buckets"])), None
        for found in scan_items(deps.dynamodb, s.table, item.segment, item.segments, item.after):
            tally.add(found)
            if stop():
                end = found["pk"]
                break
        parts = {name: encode_part(part) for name, part in tally.parts.items()}
        head, mine = partials.write_piece(item.job, item.segment, item.after, end, parts)
    if not (mine or again):
        return "counted by another delivery: dropped"
    if not head["done"]:
        # A redelivery passes the rest on only while no one has counted it yet.
        if mine or partials.head(item.job, item.segment, head["end"]) is None:
            send_items(deps, [next_piece(item, after=head["end"])])
        return f"time is up: queued the rest of segment {item.segment}"
    job, added = store.segment_tallied(item.job, item.segment)
    if len(job.get("tallied", ())) == int(job["tally_segments"]) and (added or again):
        merges = [
            WorkItem(item.job, "merge", f"m{n}", segment=n, parallel=item.parallel)
            for n in range(merges_planned(job))
        ]
        send_items(deps, merges)
        return "segment counted: queued the merges"
    return f"segment {item.segment} counted"


def _merge(deps, store, item, job, stop, again) -> str:
    n = item.segment
    if str(n) in job.get("merged", {}):
        if again:
            _close_if_merged(deps, store, item)
        return "already merged: dropped"
    result, put = {}, None
    if n < deps.settings.counter_shards:
        result, put = _merge_shard(deps, job, n)
    result.update(_merge_bucket(deps, job, n))  # there are at least as many buckets as shards
    outcome = store.record_merge(item.job, n, result, put)
    if outcome == "busy":  # a write bumped the shard's version since it was read
        result.update(counters="busy", version=result["read_version"])
        outcome = store.record_merge(item.job, n, result, None)
    if outcome == "already" and not again:
        return "merged by another delivery"
    _close_if_merged(deps, store, item)
    return f"merge {n}: counters {result.get('counters', '-')}, {len(result)} results"


def _parts(deps: Dependencies, job: dict[str, Any], name: str) -> dict[str, Any]:
    """Part `name` added up over every piece of every segment."""
    part, partials = empty_part(), _partials(deps)
    for segment in range(int(job["tally_segments"])):
        for data in partials.chain(job["job"], segment, name):
            add_part(part, decode_part(data))
    return part


def _merge_shard(deps: Dependencies, job: dict[str, Any], shard: int) -> tuple[dict, dict | None]:
    """Counter shard `shard`'s value items and counters: (result, the counters' Put)."""
    s, part = deps.settings, _parts(deps, job, str(shard))
    version = _version(job["tally_versions"][str(shard)])
    written, busy = apply_writes(deps.dynamodb, s.table, value_writes(part), {shard: version})
    blob = f"{job['job']}#wanted#{shard}"
    wanted = _partials(deps).write_blob(blob, encode_part(sorted(part["t"])))
    result = {"facets_written": written, "facets_busy": busy, "wanted": wanted}
    result["read_version"] = version
    stored = deps.catalog.counter_shards(only=[shard])[shard]
    if counter_numbers(stored) == counter_numbers(part["c"]):
        return {**result, "counters": "same", "version": version}, None
    put = counters_put(s.table, shard, part["c"], version)
    return {**result, "counters": "rebuilt", "version": (version or 0) + 1}, put


def _merge_bucket(deps: Dependencies, job: dict[str, Any], bucket: int) -> dict[str, Any]:
    """The duplicate items of hash bucket `bucket`, guarded by the `dups#` versions."""
    part = _parts(deps, job, f"d{bucket}")
    guard = {pk: None if v is None else {"version": v} for pk, v in job["dup_versions"].items()}
    writes = index_writes(deps.settings.table, part["ds"], part["dt"])
    written, busy = deps.catalog.duplicates.apply(writes, guard, None)
    return {"dups_written": written, "dups_busy": busy, **duplicates.totals(part["dt"])}


def _close_if_merged(deps: Dependencies, store: JobStore, item: WorkItem) -> None:
    job = store.job_item(item.job)
    if job and int(job.get("merges_done", 0)) >= merges_planned(job):
        send_items(deps, [WorkItem(item.job, "close", "close", parallel=item.parallel)])


def _close(deps, store, item, job, stop, again) -> str:
    s, partials = deps.settings, _partials(deps)
    merged = {int(n): result for n, result in job["merged"].items()}
    shards = {n: r for n, r in merged.items() if n < s.counter_shards}
    versions = {n: _version(result["version"]) for n, result in shards.items()}
    stored: dict[str, Any] = {}
    for segment in range(int(job["tally_segments"])):
        for data in partials.chain(item.job, segment, GLOBAL):
            stored.update(decode_part(data)["s"])
    wanted: list[str] = []
    for n, result in sorted(shards.items()):
        wanted += decode_part(partials.read_blob(f"{item.job}#wanted#{n}", int(result["wanted"])))
    written, busy = apply_writes(deps.dynamodb, s.table, presence_writes(stored, wanted), versions)
    dups_written, dups_busy = _duplicate_counters(deps, job, merged)
    job = store.close_final(
        item.job,
        {
            "counters_rebuilt": _shards(shards, "rebuilt"),
            "counters_busy": _shards(shards, "busy"),
            "facets_rewritten": written + sum(int(r["facets_written"]) for r in shards.values()),
            "facets_busy": busy or any(r["facets_busy"] for r in shards.values()),
            "duplicates_rewritten": dups_written
            + sum(int(r.get("dups_written", 0)) for r in merged.values()),
            "duplicates_busy": dups_busy or any(r.get("dups_busy") for r in merged.values()),
        },
    )
    return end_if_done(store, item.job, job) or "closed: waiting for the preview sweep"


def _duplicate_counters(
    deps: Dependencies, job: dict[str, Any], merged: dict[int, dict[str, Any]]
) -> tuple[int, bool]:
    """The duplicate counters from the merges' totals, unless a write came in since
    their versions were read (the Puts check them too)."""
    fresh = deps.catalog.duplicates.counter_items()
    versions = {pk: version_of(item) for pk, item in fresh.items()}
    if versions != {pk: _version(v) for pk, v in job["dup_versions"].items()}:
        return 0, True
    total = {
        name: sum(int(r.get(name, 0)) for r in merged.values()) for name in duplicates.COUNTERS
    }
    return deps.catalog.duplicates.apply([], fresh, total)


def _shards(merged: dict[int, dict[str, Any]], outcome: str) -> list[int]:
    return sorted(n for n, result in merged.items() if result["counters"] == outcome)


def _version(value: Any) -> int | None:
    return None if value is None else int(value)


def _partials(deps: Dependencies) -> PartialStore:
    expires_at = int(time.time()) + PARTIALS_KEPT_SECONDS
    return PartialStore(deps.dynamodb, deps.settings.table, expires_at)
