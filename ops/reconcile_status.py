"""`make reconcile-status STAGE=... JOB=...`: a reconcile job's progress and result.

On a terminal, a progress bar redrawn until the job finishes (Ctrl-C stops
watching, not the job); elsewhere, or with `--once`, the job as JSON (what
`GET /reconcile/{job}` answers). Exit status: 0 finished and complete, 3
finished with something left (dead-lettered ranges, failed keys, busy
counters), 4 still running (`--once`), 2 no such job or not a job id.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from chalicelib.dependencies import Dependencies
from chalicelib.reconcile_jobs import InvalidJobIdError, job_status
from chalicelib.settings import Settings
from ops.stage_env import use_stage

BAR_WIDTH = 30


def progress_line(job: dict[str, Any]) -> str:
    """`[#####.....] 12/20 ranges  3,120 listed  412 refreshed  9 removed  running`."""
    ranges = job["ranges"]
    settled = ranges["done"] + ranges["dead_lettered"]
    share = min(settled / ranges["total"], 1.0) if ranges["total"] else 1.0
    filled = int(share * BAR_WIDTH)
    objects = job["objects"]
    dead = f"  {ranges['dead_lettered']} dead-lettered" if ranges["dead_lettered"] else ""
    final, step = job.get("final_step") or {}, ""
    if job["state"] == "finishing" and final.get("segments"):
        step = (
            f" (tallied {final['segments_tallied']}/{final['segments']},"
            f" merged {final['merges_done']}/{final['merges']},"
            f" swept {final['sweep_ranges_done']}/{final['sweep_ranges']})"
        )
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {min(settled, ranges['total'])}/"
        f"{ranges['total']} ranges  {objects['listed']:,} listed  {objects['refreshed']:,}"
        f" refreshed  {objects['removed']:,} removed{dead}  {job['state']}{step}"
    )


def watch(deps: Dependencies, job_id: str, out: TextIO, interval: float = 1.0) -> dict[str, Any]:
    """Redraw the progress line until the job finishes; returns it."""
    while True:
        job = job_status(deps, job_id)
        if job is None:
            raise LookupError(job_id)
        print("\r\x1b[K" + progress_line(job), end="", file=out, flush=True)
        if job["state"] == "finished":
            print(file=out)
            return job
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="Chalice stage (default: local)")
    parser.add_argument("--job", required=True, help="the id `make reconcile PARALLEL=N` printed")
    parser.add_argument("--once", action="store_true", help="print the job once, as JSON")
    parser.add_argument("--profile", help="AWS profile (default: the environment's)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)
    use_stage(args.stage, args.profile, args.region)
    deps = Dependencies(Settings.from_env())
    try:
        if sys.stderr.isatty() and not args.once:
            job = watch(deps, args.job, sys.stderr)
        else:
            job = job_status(deps, args.job)
            if job is None:
                raise LookupError(args.job)
    except InvalidJobIdError as error:
        print(f"reconcile-status: {error}", file=sys.stderr)
        return 2
    except LookupError:
        print(f"reconcile-status: no reconcile job {args.job!r} (expired?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 4
    print(json.dumps(job, indent=2))
    if job["state"] != "finished":
        print(progress_line(job), file=sys.stderr)
        return 4
    return 0 if job["complete"] else 3


if __name__ == "__main__":
    sys.exit(main())
