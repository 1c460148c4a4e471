"""A reconcile job's work items (one SQS message each) and how they are queued:
shared by the passes (reconcile_jobs) and the final step (reconcile_finish)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.catalog.jobs import JobStore
from chalicelib.dependencies import Dependencies

MAX_RANGES = 2000
JOB_KEPT_SECONDS = 30 * 24 * 3600


@dataclass
class WorkItem:
    job: str
    kind: str
    range: str
    seq: int = 0
    after: str = ""
    upto: str = ""
    segment: int = 0  # a Scan segment (records, tally) or a counter shard (merge)
    segments: int = 1
    force: bool = False
    parallel: int = 1  # the job's: the local event source caps its workers by it
    resume: dict[str, Any] | None = None

    @property
    def piece(self) -> str:
        return f"{self.range}#{self.seq}"

    def body(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, "")})


def next_piece(item: WorkItem, **changes: Any) -> WorkItem:
    """The item for the rest of `item`'s work."""
    return WorkItem(**{**asdict(item), "seq": item.seq + 1, **changes})


def send_items(deps: Dependencies, items: list[WorkItem]) -> None:
    url = deps.reconcile_queue_url
    for start in range(0, len(items), 10):
        batch = items[start : start + 10]
        entries = [{"Id": str(n), "MessageBody": w.body()} for n, w in enumerate(batch)]
        failed = deps.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"the work queue refused {len(failed)} messages: {failed[0]}")


def job_store(deps: Dependencies) -> JobStore:
    return JobStore(deps.dynamodb, deps.settings.table)


def end_if_done(store: JobStore, job_id: str, job: dict[str, Any] | None) -> str | None:
    """Finish the job once both its close and every sweep range are done: whichever
    comes last sees the other (updates of one item are applied one at a time)."""
    if job and job.get("closed") and len(job.get("swept", ())) >= int(job["sweeps_total"]):
        store.finish_job(job_id, {"finished": now_text(time.time())}, kept_until())
        return "job finished"
    return None


def now_text(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def kept_until() -> int:
    return int(time.time()) + JOB_KEPT_SECONDS
