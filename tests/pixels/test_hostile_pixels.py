"""The hostile corpus through the pixels stage: every case ends as a PixelFacts, in bounds.

All cases run in one parent process that forks a child per case
(hostile_pixels.py), so a runaway case cannot hide behind another.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.pixels import analyse
from chalicelib.pixels.guards import MAX_TIFF_SEGMENTS

# The corpus lives with the extraction tests. (Not through a conftest.py here:
# other tests import `conftest` by name and would get this folder's.)
sys.path.append(str(Path(__file__).resolve().parent.parent / "extraction"))
from hostile_corpus import HOSTILE

SCRIPT = Path(__file__).with_name("hostile_pixels.py")
MB = 1024 * 1024
MAX_ABSOLUTE_PEAK = 512 * MB  # the whole child: interpreter, Pillow, corpus and the case
MAX_CPU_SECONDS = 5.0


@pytest.fixture(scope="module")
def measured() -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], check=True, capture_output=True, text=True, timeout=240
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {row["id"]: row for row in rows}


def test_every_case_was_measured(measured):
    assert sorted(measured) == sorted(name for name, _, _ in HOSTILE)


@pytest.mark.parametrize("name", [name for name, _, _ in HOSTILE])
def test_hostile_file_stays_within_memory_and_cpu(measured, name):
    row = measured[name]
    assert "error" not in row, row  # the child did not crash: analyse returned
    assert row["outcome"] in ("ok", "error", "skipped")
    assert row["absolute_peak_bytes"] < MAX_ABSOLUTE_PEAK, row["absolute_peak_bytes"] // MB
    assert row["cpu_seconds"] < MAX_CPU_SECONDS


def tiff_declaring(segments: int, big: bool = False) -> bytes:
    """A little-endian TIFF whose IFD0 claims `segments` strip offsets (none really there)."""
    if big:
        header = b"II+\x00" + struct.pack("<HHQ", 8, 0, 16)
        entry = struct.pack("<HHQQ", 273, 16, segments, 0)
        return header + struct.pack("<Q", 1) + entry + bytes(8)
    header = b"II*\x00" + struct.pack("<I", 8)
    return header + struct.pack("<H", 1) + struct.pack("<HHII", 273, 4, segments, 0) + bytes(4)


@pytest.mark.parametrize("big", [False, True])
def test_a_tiff_with_too_many_strips_is_refused_before_pillow_opens_it(big, monkeypatch):
    from PIL import Image

    def never(*args, **kwargs):
        raise AssertionError("Pillow was asked to open it")

    monkeypatch.setattr(Image, "open", never)
    facts = analyse(io.BytesIO(tiff_declaring(MAX_TIFF_SEGMENTS + 1, big)))

    assert facts.error == f"refused: the TIFF declares {MAX_TIFF_SEGMENTS + 1} strips or tiles"


def test_a_tiff_with_few_strips_goes_to_pillow():
    facts = analyse(io.BytesIO(tiff_declaring(10)))

    assert facts.error and not facts.error.startswith("refused")
