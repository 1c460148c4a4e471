"""Reconcile as a job: a coordinator, a work queue, many workers.

`start_job` (the `reconcile` function with `parallel`, or `make reconcile
PARALLEL=N`) refuses to start while another job runs (one job at a time:
two would do the same work twice and race on the counters' rebuild), splits
the key space under the prefix into ranges (reconcile_split), and queues one
message per range for the objects pass and one per parallel Scan segment for
the records pass (independent of each other: both only write conditionally
on the revision they read). It returns the job id at once.

`run_work_item` (the `reconcile_worker` function, one SQS message per call)
reconciles one piece within the invocation's time budget. If time runs out,
it queues the rest (split in two when a key lies above its middle, so that a
dense range spreads over more workers) and reports what it did. When the last
range is done, the worker that saw it queues the final step (reconcile_finish):
the counters and facets rebuilt from the records, tallied by Scan segments and
merged by shard, only where no write bumped the shard's version meanwhile.

A piece that keeps failing is reported as dead-lettered on its last allowed
attempt, then SQS moves its message to the dead-letter queue: the job counts
it as settled (it does not hang) and shows the error. A piece of the final
step given up on ends the job there (what was rebuilt stays; not `complete`).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from chalicelib.catalog.jobs import JobStore, job_view
from chalicelib.dependencies import Dependencies
from chalicelib.reconcile_finish import KINDS as FINAL_KINDS
from chalicelib.reconcile_finish import run_final
from chalicelib.reconcile_payload import InvalidPayloadError
from chalicelib.reconcile_ranges import (
    ReconcileReport,
    StopCheck,
    objects_in_range,
    records_in_segment,
)
from chalicelib.reconcile_split import KeyRange, plan_ranges, split_remainder
from chalicelib.reconcile_work import (
    MAX_RANGES,
    WorkItem,
    job_store,
    kept_until,
    next_piece,
    now_text,
    send_items,
)

# The work queue's redrive policy moves a message to the dead-letter queue
# after this many receives (ops/template.yaml, devstack/provision.py).
MAX_RECEIVES = 3
RANGES_PER_WORKER = 4  # so that a fast worker takes another range while slow ones finish
MAX_PARALLEL = 1000  # Lambda's cap on an SQS event source's maximum concurrency
JOB_SLOT_SECONDS = 24 * 3600  # a job that died without finishing blocks no one longer
JOB_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
KINDS = ("objects", "records", *FINAL_KINDS)


def dead_letter_queue_name(work_queue: str) -> str:
    """The work queue's dead-letter queue (ops/template.yaml, devstack/provision.py)."""
    return work_queue.removesuffix("-work") + "-dead"


class JobRunningError(Exception):
    """Another reconcile job runs: one at a time."""


class InvalidJobIdError(ValueError):
    """Not the shape of a job id."""


def new_job_id(now: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + "-" + secrets.token_hex(4)


def check_job_id(job: str) -> str:
    if not JOB_ID.fullmatch(job):
        raise InvalidJobIdError(
            f"not a reconcile job id: {job[:80]!r} (like 20260101T120000Z-1a2b3c4d)"
        )
    return job


def start_job(deps: Dependencies, parallel: int, force: bool = False) -> dict[str, Any]:
    """Queue a reconcile job over the whole prefix; returns its view at once."""
    if not 1 <= parallel <= MAX_PARALLEL:
        raise InvalidPayloadError(f"parallel must be from 1 to {MAX_PARALLEL}, got {parallel}")
    store, now = _store(deps), time.time()
    job = new_job_id(now)
    other = store.claim_job_slot(job, int(now), int(now) + JOB_SLOT_SECONDS)
    if other is not None:
        raise JobRunningError(
            f"reconcile job {other} is still running: one job at a time. Follow it with "
            f"`make reconcile-status JOB={other}` (or GET /reconcile/{other})"
        )
    try:
        s = deps.settings
        want = min(MAX_RANGES, parallel * RANGES_PER_WORKER)
        ranges = plan_ranges(deps.s3, s.bucket, s.prefix, want)
        segments = min(parallel, MAX_RANGES)
        items = [
            WorkItem(
                job, "objects", f"o{n}", after=r.after, upto=r.upto, force=force, parallel=parallel
            )
            for n, r in enumerate(ranges)
        ] + [
            WorkItem(job, "records", f"s{n}", segment=n, segments=segments, parallel=parallel)
            for n in range(segments)
        ]
        started = now_text(now)
        store.create_job(
            job,
            {"ranges_total": len(items), "parallel": parallel, "force": force, "started": started},
        )
        send_items(deps, items)
    except Exception:
        store.release_job_slot(job)
        raise
    return job_view(store.job_item(job) or {})


def job_status(deps: Dependencies, job: str) -> dict[str, Any] | None:
    item = _store(deps).job_item(check_job_id(job))
    return job_view(item) if item else None


def parse_work_item(body: str) -> WorkItem:
    try:
        data = json.loads(body)
        item = WorkItem(**data)
    except (ValueError, TypeError) as error:
        raise InvalidPayloadError(f"not a reconcile work item: {error}") from None
    check_job_id(item.job)
    if item.kind not in KINDS:
        raise InvalidPayloadError(f"unknown kind of work {item.kind!r}")
    return item


def run_work_item(deps: Dependencies, body: str, receive_count: int, should_stop: StopCheck) -> str:
    """Do one message's piece of a job; returns what became of it (for the log)."""
    item = parse_work_item(body)
    store = _store(deps)
    job = store.job_item(item.job)
    if job is None:
        return "no such job (expired?): dropped"
    if item.piece in job.get("pieces_done", set()) or job["state"] == "finished":
        return "already done: dropped"
    try:
        if item.kind in FINAL_KINDS:
            return run_final(deps, store, item, job, should_stop, receive_count)
        return _run(deps, store, item, job, should_stop)
    except Exception as error:
        if receive_count >= MAX_RECEIVES:
            # Its last attempt: SQS moves the message to the dead-letter queue next.
            reported = store.record_dead(item.job, item.range, f"{type(error).__name__}: {error}")
            if item.kind in FINAL_KINDS:  # the final step cannot be exact: it ends here
                store.finish_job(item.job, {"finished": now_text(time.time())}, kept_until())
            elif reported is not None:
                _finish_if_settled(deps, store, item, reported)
        raise


def _run(
    deps: Dependencies, store: JobStore, item: WorkItem, job: dict[str, Any], stop: StopCheck
) -> str:
    report = ReconcileReport()
    if item.kind == "objects":
        last = objects_in_range(
            deps, report, after=item.after, upto=item.upto, force=item.force, should_stop=stop
        )
        if last is not None:
            _continue_range(deps, store, item, last)
    else:
        last = records_in_segment(
            deps,
            report,
            segment=item.segment,
            segments=item.segments,
            after=item.after,
            should_stop=stop,
        )
        if last is not None:
            send_items(deps, [next_piece(item, after=last)])
    room = len(job.get("failed_keys", [])) < 20
    reported = store.record_piece(
        item.job,
        item.piece,
        report.stats(),
        report.failed_keys if room else [],
        completes=item.range if last is None else None,
    )
    if reported is None:
        return "reported by another delivery: counted once"
    if last is not None:
        return f"time is up: queued the rest after {last!r}"
    _finish_if_settled(deps, store, item, reported)
    return "range done"


def _continue_range(deps: Dependencies, store: JobStore, item: WorkItem, last: str) -> None:
    """Queue the rest of a range, in two when it splits."""
    s = deps.settings
    pieces = split_remainder(deps.s3, s.bucket, s.prefix, KeyRange(last, item.upto))
    rest = [next_piece(item, after=pieces[0].after, upto=pieces[0].upto)]
    if len(pieces) == 2:
        child = f"{item.range}.{item.seq}"
        store.add_range(item.job, child)
        rest.append(
            WorkItem(
                item.job,
                "objects",
                child,
                after=pieces[1].after,
                upto=pieces[1].upto,
                force=item.force,
                parallel=item.parallel,
            )
        )
    send_items(deps, rest)


def _finish_if_settled(
    deps: Dependencies, store: JobStore, item: WorkItem, job: dict[str, Any]
) -> None:
    settled = int(job["ranges_done"]) + int(job["ranges_dead"])
    if settled >= int(job["ranges_total"]) and store.begin_finish(item.job):
        send_items(deps, [WorkItem(item.job, "finish", "finish", parallel=item.parallel)])


def _store(deps: Dependencies) -> JobStore:
    return job_store(deps)
