"""Child processes of `make dev` die with it, however it ends (even `kill -9`).

Each child calls `die_with_parent()` first thing. On Linux the kernel sends it
SIGTERM when the parent dies (`PR_SET_PDEATHSIG`); elsewhere a watchdog thread
notices the parent is gone within half a second. Either way no emulator or API
server is left holding a port after the stack is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Exit when the parent process exits; `parent_pid` is who started us."""
    parent = parent_pid or os.getppid()
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
