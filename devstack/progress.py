"""Progress of long steps (restoring, rebuilding, reconciling) on one line per phase.

On a terminal each phase's line is redrawn in place at most five times a
second and finished with its exact final count; elsewhere (logs, tests) only
the finished lines are written, so nothing scrolls past with stale numbers.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class PhaseProgress:
    """Call it with (phase, done) as work advances; `close()` when finished."""

    def __init__(
        self, stream: TextIO | None = None, totals: dict[str, int] | None = None, label: str = ""
    ) -> None:
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()
        self._totals = totals or {}
        self._label = label
        self._phase = ""
        self._done = 0
        self._started = self._drawn = 0.0

    def __call__(self, phase: str, done: int) -> None:
        now = time.monotonic()
        if phase != self._phase:
            self._finish()
            self._phase, self._started, self._drawn = phase, now, 0.0
        self._done = done
        if self._live and now - self._drawn >= 0.2:
            self._drawn = now
            self._write("\r\x1b[K" + self._line(now), end="")

    def close(self) -> None:
        self._finish()
        self._phase = ""

    def _finish(self) -> None:
        if self._phase:
            self._write(("\r\x1b[K" if self._live else "") + self._line(time.monotonic()))

    def _line(self, now: float) -> str:
        total = self._totals.get(self._phase)
        count = f"{self._done:,d}/{total:,d}" if total else f"{self._done:,d}"
        elapsed = now - self._started
        rate = f"  ({self._done / elapsed:,.0f}/s)" if elapsed >= 1 and self._done else ""
        return f"{self._label}{self._phase}: {count}{rate}"

    def _write(self, text: str, end: str = "\n") -> None:
        print(text, end=end, file=self._stream, flush=True)
