"""The catalog on start: repaired from its snapshot, or rebuilt from the bucket.

With a snapshot (devstack.snapshot), only the keys where it differs from the
restored bucket are redone, several at a time, through the handlers' own code
(`Ingestor.refresh` and `forget_if_gone`: conditional on the revision the
snapshot holds, with the counters in the same transactions). Without one, the
whole catalog is rebuilt by reconcile, as `make reconcile` would.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devstack.progress import PhaseProgress
from devstack.snapshot import repairs_path


def restore_catalog(deps: Any, data: Path | None, restored: int, workers: int) -> str | None:
    """Bring the catalog in line with the restored bucket; the line to print, if any."""
    from chalicelib.reconcile import reconcile

    started = time.monotonic()
    repairs = _repairs(data)
    if repairs is not None:
        done = _repair(deps, repairs, workers)
        repaired = f" ({done:,} repaired)" if done else ""
        return f"catalog restored from its snapshot{repaired} in {_since(started)}"
    if not restored:
        return None
    progress = PhaseProgress(sys.stdout, {"objects": restored}, "rebuilding the catalog: ")
    reconcile(deps, progress=progress)
    progress.close()
    return f"catalog rebuilt: {restored:,} image{'s' * (restored != 1)} in {_since(started)}"


def _repairs(data: Path | None) -> dict[str, list] | None:
    try:
        return json.loads(repairs_path(data).read_text()) if data else None
    except (OSError, ValueError):
        return None


def _repair(deps: Any, repairs: dict[str, list], workers: int) -> int:
    jobs = [lambda key=k, etag=e, rev=r: deps.ingestor.refresh(key, etag, rev)
            for k, e, r in repairs["stale"]]  # fmt: skip
    jobs += [lambda key=k, rev=r: deps.ingestor.forget_if_gone(key, rev)
             for k, r in repairs["vanished"]]  # fmt: skip
    if not jobs:
        return 0
    progress = PhaseProgress(sys.stdout, {"keys": len(jobs)}, "repairing the catalog: ")
    with ThreadPoolExecutor(workers) as pool:
        for done, _ in enumerate(pool.map(lambda job: job(), jobs), start=1):
            progress("keys", done)
    progress.close()
    return len(jobs)


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.1f}s"
