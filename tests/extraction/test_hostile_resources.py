"""Every hostile file costs extraction at most 128 MB of memory and 2 s of CPU (issue 10).

Measured in a child process per case (hostile_resources.py): peak resident
memory is what the operating system saw, not what Python's tracer counts, so
C-level buffers and millions of small objects are included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import HOSTILE
from hostile_resources import MAX_CPU_SECONDS, MAX_PEAK_BYTES

SCRIPT = Path(__file__).with_name("hostile_resources.py")


def _run(*case_ids: str) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *case_ids],
        check=True,
        capture_output=True,
        text=True,
        timeout=240,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {row["id"]: row for row in rows}


@pytest.fixture(scope="module")
def measured() -> dict[str, dict]:
    return _run()


def test_every_case_was_measured(measured):
    assert sorted(measured) == sorted(name for name, _, _ in HOSTILE)
    failed = {name: row["error"] for name, row in measured.items() if "error" in row}
    assert not failed


@pytest.mark.parametrize("name", [name for name, _, _ in HOSTILE])
def test_hostile_file_stays_within_memory_and_cpu(measured, name):
    row = measured[name]
    assert "error" not in row, row
    assert row["peak_bytes"] <= MAX_PEAK_BYTES, f"{row['peak_bytes'] / 2**20:.0f} MB"
    assert row["cpu_seconds"] <= MAX_CPU_SECONDS, f"{row['cpu_seconds']:.2f} s"
    if row["expected"] is not None:
        assert row["status"] == row["expected"]


def test_the_measurement_sees_memory_and_cpu():
    """The bounds can fail: a case that allocates or spins is caught."""
    rows = _run("calibration-memory", "calibration-cpu")

    assert rows["calibration-memory"]["peak_bytes"] > MAX_PEAK_BYTES
    assert rows["calibration-cpu"]["cpu_seconds"] > MAX_CPU_SECONDS
    assert rows["calibration-cpu"]["peak_bytes"] < MAX_PEAK_BYTES
