"""`make reconcile STAGE=...` / `python -m ops.reconcile --stage STAGE`: backfill and repair.

Runs the same reconcile as the `reconcile` Lambda function, from your
machine and without Lambda's 15-minute limit, against the stage's bucket and
table (the local stack by default: start `make dev` first).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from chalicelib.dependencies import Dependencies
from chalicelib.reconcile import reconcile
from chalicelib.settings import Settings
from ops.stage_env import use_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="Chalice stage (default: local)")
    parser.add_argument("--start-after", default="", help="resume after this key")
    parser.add_argument("--force", action="store_true", help="re-extract every object")
    parser.add_argument("--profile", help="AWS profile (default: the environment's)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)

    use_stage(args.stage, args.profile, args.region)

    report = reconcile(
        Dependencies(Settings.from_env()),
        start_after=args.start_after,
        force=args.force,
        progress=_progress_printer() if sys.stderr.isatty() else lambda phase, done: None,
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(json.dumps({**asdict(report), "complete": report.complete}, indent=2))
    if report.failed:
        print(f"{report.failed} keys failed for a transient reason: run again", file=sys.stderr)
    if report.counters_busy:
        print("counters were written to during the count: run again", file=sys.stderr)
    return 0 if report.complete else 3


def _progress_printer():
    state = {"phase": "", "started": 0.0, "drawn": 0.0}

    def show(phase: str, done: int) -> None:
        now = time.monotonic()
        if phase != state["phase"]:  # each pass counts from zero on its own line
            if state["phase"]:
                print(file=sys.stderr)
            state.update(phase=phase, started=now, drawn=0.0)
        if now - state["drawn"] >= 0.2:  # redraw at most 5 times a second
            state["drawn"] = now
            elapsed = now - state["started"]
            rate = f"  ({done / elapsed:,.0f}/s)" if elapsed >= 1 else ""
            print(f"\r{phase:>8}: {done:>9,d}{rate}", end="", file=sys.stderr)

    return show


if __name__ == "__main__":
    sys.exit(main())
