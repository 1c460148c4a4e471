"""Where the running local stack is, for the tools that talk to it.

`make dev` writes `<data dir>/stack.json` (endpoint, ports, credentials,
region, names) once it serves, and removes it when it stops. `make reconcile`,
`make upload` and the other local commands read it, so they reach the stack
whatever ports it uses and need no AWS variables of their own.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from devstack.datadir import data_dir

STATE_FILE = "stack.json"
NOT_RUNNING = "no local stack is running: start it with `make dev`"


class NoStackError(Exception):
    """No local stack answers for this data folder."""


@dataclass(frozen=True)
class StackInfo:
    pid: int
    api: str
    endpoint: str
    region: str
    access_key_id: str
    secret_access_key: str
    stage: str
    bucket: str
    table: str
    prefix: str

    def aws_environment(self) -> dict[str, str]:
        """The variables boto3 needs to reach the stack's emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
        }


def state_path(root: Path | None = None) -> Path:
    return (root or data_dir()) / STATE_FILE


def write(info: StackInfo, root: Path) -> None:
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(asdict(info), indent=2) + "\n")
    os.replace(temporary, path)


def remove(root: Path, pid: int) -> None:
    """Remove the state file if it is this process's."""
    info = _read(state_path(root))
    if info is not None and info.pid == pid:
        state_path(root).unlink(missing_ok=True)


def find(root: Path | None = None) -> StackInfo:
    """The stack serving from this data folder, or NoStackError (one line to print)."""
    info = _read(state_path(root))
    if info is None or not _alive(info.pid) or not _answers(info.api):
        raise NoStackError(NOT_RUNNING)
    return info


def running(root: Path) -> StackInfo | None:
    """The stack already started from this data folder, if its process lives."""
    info = _read(state_path(root))
    return info if info is not None and _alive(info.pid) else None


def _read(path: Path) -> StackInfo | None:
    try:
        return StackInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=1):
            return True
    except OSError:
        return False
