"""`make reconcile STAGE=...` / `python -m ops.reconcile --stage STAGE`: backfill and repair.

Runs the same reconcile as the `reconcile` Lambda function, from your
machine and without Lambda's 15-minute limit, against the stage's bucket and
table. The default stage, `local`, is the stack `make dev` runs: its endpoint,
credentials and region come from the state file it writes in its data folder
(DATA_DIR), whatever ports it uses.

With `--parallel N` (`make reconcile PARALLEL=N`) it starts a job instead:
the key space is split into ranges queued on the stage's work queue, at most
N workers take them (on AWS: the workers' event source is set to a maximum
concurrency of N, at least 2), and the job id is printed at once; follow it
with `make reconcile-status JOB=...` (ops/reconcile_status.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.dependencies import Dependencies
from chalicelib.reconcile import reconcile
from chalicelib.settings import Settings
from devstack.progress import PhaseProgress
from ops.stage_env import use_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="Chalice stage (default: local)")
    parser.add_argument("--start-after", default="", help="resume after this key")
    parser.add_argument("--force", action="store_true", help="re-extract every object")
    parser.add_argument("--parallel", type=int, help="start a job for N workers instead")
    parser.add_argument("--profile", help="AWS profile (default: the environment's)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)

    use_stage(args.stage, args.profile, args.region)  # the running local stack, for `local`

    if args.parallel is not None:
        return start(args.stage, args.parallel, args.force)
    progress = PhaseProgress(sys.stderr, label="reconcile: ")
    try:
        report = reconcile(
            Dependencies(Settings.from_env()),
            start_after=args.start_after,
            force=args.force,
            progress=progress,
        )
    except (BotoCoreError, ClientError) as error:
        progress.close()
        print(f"reconcile: {error}", file=sys.stderr)
        return 1
    progress.close()  # each pass's final count
    print(json.dumps({**asdict(report), "complete": report.complete}, indent=2))
    if report.failed:
        print(f"{report.failed} keys failed for a transient reason: run again", file=sys.stderr)
    if report.counters_busy:
        print("counters were written to during the count: run again", file=sys.stderr)
    return 0 if report.complete else 3


def start(stage: str, parallel: int, force: bool) -> int:
    """Start a job (the same coordinator as the `reconcile` function's)."""
    from chalicelib.reconcile_jobs import JobRunningError, start_job
    from chalicelib.reconcile_payload import InvalidPayloadError

    deps = Dependencies(Settings.from_env())
    if stage != "local":
        cap_workers(stage, parallel)
    try:
        job = start_job(deps, parallel=parallel, force=force)
    except (JobRunningError, InvalidPayloadError) as error:
        print(f"reconcile: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"reconcile: {error}", file=sys.stderr)
        return 1
    print(json.dumps(job, indent=2))
    print(
        f"reconcile: job {job['job']} queued ({job['ranges']['total']} pieces); follow it with "
        f"make reconcile-status STAGE={stage} JOB={job['job']}",
        file=sys.stderr,
    )
    return 0


def cap_workers(stage: str, parallel: int) -> None:
    """Set the deployed worker's SQS event source to at most `parallel` at once."""
    import boto3

    from ops.policy import load_config

    function = f"{load_config()['app_name']}-{stage}-reconcile_worker"
    client = boto3.client("lambda")
    for mapping in client.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
        client.update_event_source_mapping(
            UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": max(2, parallel)}
        )


if __name__ == "__main__":
    sys.exit(main())
