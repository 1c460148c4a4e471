"""The real local stack (`python -m devstack`, what `make dev` runs) for tests, on free ports.

Each stack keeps its data in a temporary folder (never the repository's
`.data/`), runs in its own process group, and is always stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "images-local"  # the `local` stage in .chalice/config.json
STARTUP_SECONDS = 90
EVENT_SECONDS = 20
MAX_UPLOAD_BYTES = 2_000_000  # the shared stack's, small enough for a test to go over it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_closed(*ports: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(port_open(port) for port in ports):
            return True
        time.sleep(0.1)
    return False


def fresh_environment(**overrides: str) -> dict[str, str]:
    """What a fresh shell has: no AWS or service variables of the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMAGES_"))}
    env.update(overrides)
    return env


@dataclass
class Stack:
    process: subprocess.Popen
    api: str
    api_port: int
    aws_port: int
    data_dir: Path
    log_path: Path
    s3: object

    def url(self, path: str, key: str) -> str:
        return f"{self.api}{path}?s3objectkey={quote(key, safe='/')}"

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_record(self, key: str, etag: str | None = None) -> dict:
        deadline = time.monotonic() + EVENT_SECONDS
        while time.monotonic() < deadline:
            response = requests.get(self.url("/images", key), timeout=5)
            if response.status_code == 200 and etag in (None, response.json()["etag"]):
                return response.json()
            time.sleep(0.2)
        raise AssertionError(f"no record for {key} after {EVENT_SECONDS}s")

    def wait_for_pixels(self, key: str) -> dict:
        """The record once the pixel stage has added its fields (or said why not)."""
        deadline = time.monotonic() + EVENT_SECONDS
        while time.monotonic() < deadline:
            record = self.wait_for_record(key)
            if {"content_sha256", "preview_error", "preview_skipped"} & set(record):
                return record
            time.sleep(0.2)
        raise AssertionError(f"no pixel fields for {key} after {EVENT_SECONDS}s")

    def wait_until_gone(self, key: str) -> None:
        deadline = time.monotonic() + EVENT_SECONDS
        while time.monotonic() < deadline:
            if requests.get(self.url("/images", key), timeout=5).status_code == 404:
                return
            time.sleep(0.2)
        raise AssertionError(f"record for {key} still there after {EVENT_SECONDS}s")


_shared: dict[str, Stack] = {}


@contextmanager
def running_stack(log_dir: Path, data_dir: Path | None = None, **overrides: str) -> Iterator[Stack]:
    """`python -m devstack` as a user starts it; returns once the API answers."""
    api_port, aws_port = free_port(), free_port()
    data_dir = data_dir or log_dir / "data"
    env = fresh_environment(PORT=str(api_port), LOCAL_AWS_PORT=str(aws_port))
    env.update(DATA_DIR=str(data_dir), **overrides)
    log_path = log_dir / f"devstack-{api_port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        api = f"http://127.0.0.1:{api_port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.poll() is None, f"devstack exited:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"devstack not up:\n{log_path.read_text()}"
                try:
                    if requests.get(f"{api}/summary", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.3)
            endpoint = env.get("AWS_ENDPOINT_URL", f"http://127.0.0.1:{aws_port}")
            yield Stack(process, api, api_port, aws_port, data_dir, log_path, s3_client(endpoint))
        finally:
            stop(process)


def shared_stack(request: pytest.FixtureRequest) -> Stack:
    """One stack for all the tests that can share it, started once, stopped at the end."""
    if "stack" not in _shared:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("devstack")
        context = running_stack(folder, IMAGES_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES))
        _shared["stack"] = context.__enter__()
        request.config.add_cleanup(lambda: context.__exit__(None, None, None))
    return _shared["stack"]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole group (SIGKILL if it lingers), as a terminal's Ctrl-C would."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # And anything left in its group (a test may have killed only the parent).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
