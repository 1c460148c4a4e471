"""The stack's child processes: the emulator and the API server.

Each is a `python -m devstack.<module>` that dies with this process
(`lifeline`), ignores the terminal's Ctrl-C (this process stops it), and is
started, awaited and stopped here.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from devstack.stages import PROJECT_DIR


class StartupError(Exception):
    """The stack cannot start; the message is the one line to show."""


def check_port(port: int, what: str, variable: str) -> None:
    """Fail now, in one line, if something already listens on `port`."""
    with socket.socket() as probe:
        # Like the servers themselves: a port in TIME_WAIT is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise StartupError(
                f"port {port} ({what}) is in use: run `{variable}={port + 1} make dev` "
                f"to use another"
            ) from None


def spawn(module: str, *args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args, "--parent-pid", str(os.getpid())],
        cwd=PROJECT_DIR,
        env=env,
        **popen,
    )


def start_emulator(
    port: int, bucket: str, region: str, data: Path | None, *extra: str
) -> subprocess.Popen:
    """The emulator process, once it serves (after restoring the data folder)."""
    ready_read, ready_write = os.pipe()
    args = ["--port", str(port), "--bucket", bucket, "--region", region, *extra]
    args += ["--ready-fd", str(ready_write)] + (["--data-dir", str(data)] if data else [])
    try:
        process = spawn("devstack.emulator", *args, pass_fds=(ready_write,))
    finally:
        os.close(ready_write)
    try:
        while process.poll() is None:
            readable, _, _ = select.select([ready_read], [], [], 0.2)
            if readable:
                if os.read(ready_read, 64).startswith(b"ready"):
                    return process
                break  # closed without a word: it is exiting
        process.wait()
        raise StartupError(f"the emulator stopped while starting (exit code {process.returncode})")
    finally:
        os.close(ready_read)


def wait_until_serving(process: subprocess.Popen, port: int, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise StartupError(f"{what} did not start within {timeout:.0f}s") from None
            time.sleep(0.1)
    raise StartupError(f"{what} stopped while starting (exit code {process.returncode})")


def stop(process: subprocess.Popen | None, timeout: float = 60) -> None:
    """SIGTERM, then SIGKILL after `timeout` (the emulator saves the catalog first)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
