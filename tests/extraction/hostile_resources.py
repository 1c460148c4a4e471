"""Peak memory and CPU of extraction on each hostile file, each case in its own child process.

Memory is the increase of the child's peak resident set (VmHWM) over its
resident set when the case starts, so it counts everything the parsers build
(Python objects, C buffers) and nothing the corpus itself holds. The parent
imports and warms up extraction first, then forks once per case: a case that
runs away cannot hide behind an earlier one, and a crash is reported, not
fatal. The child returns the C heap's free pages to the system before it
starts, so that memory the corpus left free is counted when a case reuses it.

Run directly to print one JSON object per case (test_hostile_resources.py and
bench/bench_hostile.py do):

    .venv/bin/python tests/extraction/hostile_resources.py [case-id ...]
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent.parent, HERE.parent, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from chalicelib.extraction.extract import extract_metadata  # noqa: E402

MB = 1024 * 1024
# What issue 10 sets for the handler on any upload (Lambda has 1024 MB).
MAX_PEAK_BYTES = 128 * MB
MAX_CPU_SECONDS = 2.0
CHILD_CPU_LIMIT_SECONDS = 60  # a runaway case is killed, and reported as such


def _status_bytes(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE).group(1)) * 1024


def _release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc), so the case cannot reuse them
    unseen: building the corpus leaves tens of megabytes free but resident."""
    # Elsewhere than glibc the measurement may undercount by what is free.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(run: Callable[[], str]) -> dict:
    """{"status": what run() returned, "peak_bytes", "cpu_seconds"}, or {"error": ...}."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, exit without cleanup
        code = 0
        try:
            os.close(reader)
            resource.setrlimit(
                resource.RLIMIT_CPU, (CHILD_CPU_LIMIT_SECONDS, CHILD_CPU_LIMIT_SECONDS)
            )
            _release_free_memory()
            start_rss = _status_bytes("VmRSS")
            with contextlib.suppress(OSError):  # reset the peak to the current RSS (Linux 4.0+)
                Path("/proc/self/clear_refs").write_text("5")
            started = time.process_time()
            status = run()
            cpu = time.process_time() - started
            peak = max(_status_bytes("VmHWM") - start_rss, 0)
            report = {"status": status, "peak_bytes": peak, "cpu_seconds": cpu}
            os.write(writer, json.dumps(report).encode())
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            os.write(writer, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    _, wait_status = os.waitpid(pid, 0)
    if not chunks:
        return {"error": f"the child died (wait status {wait_status})"}
    return json.loads(b"".join(chunks))


def extraction(data: bytes) -> Callable[[], str]:
    return lambda: extract_metadata(io.BytesIO(data))["status"]


def warm_up() -> None:
    """Import everything extraction imports lazily, so that no case pays for it."""
    from images import rich_avif, rich_jpeg, rich_png, rich_tiff, rich_webp

    for make in (rich_jpeg, rich_png, rich_tiff, rich_webp, rich_avif):
        extract_metadata(io.BytesIO(make()))


def calibration() -> list[tuple[str, Callable[[], str]]]:
    """Cases that must exceed the bounds: proof that the measurement sees what it should."""

    def allocate() -> str:
        block = bytearray(2 * MAX_PEAK_BYTES)
        block[::4096] = b"\x01" * len(range(0, len(block), 4096))  # touch every page
        return "allocated"

    def spin() -> str:
        deadline = time.process_time() + MAX_CPU_SECONDS + 0.2
        while time.process_time() < deadline:
            pass
        return "spun"

    return [("calibration-memory", allocate), ("calibration-cpu", spin)]


def main(argv: list[str]) -> None:
    wanted = set(argv)
    cases = [(name, run, None) for name, run in calibration() if name in wanted]
    if not wanted or wanted - {name for name, _, _ in cases}:
        from hostile_corpus import HOSTILE

        warm_up()
        cases += [
            (name, extraction(data), expected)
            for name, data, expected in HOSTILE
            if not wanted or name in wanted
        ]
    for name, run, expected in cases:
        print(json.dumps({"id": name, "expected": expected, **measure(run)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
