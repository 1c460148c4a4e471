"""RELOAD=1 restarts the API when the service's code changes, and only then."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from stackrunner import ROOT, running_stack

from devstack.reload import SourceWatcher


def project(tmp_path: Path) -> Path:
    for name in ("app.py", "chalicelib/__init__.py", "chalicelib/catalog/layout.py",
                 ".chalice/config.json", ".venv/lib/site.py", ".data/objects/x"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return tmp_path


@pytest.mark.parametrize(
    ("path", "watched"),
    [
        ("app.py", True),
        ("chalicelib/catalog/layout.py", True),
        ("chalicelib/new_module.py", True),
        (".chalice/config.json", True),
        ("photo.jpg", False),  # what the README's walkthrough leaves in the project
        ("form.json", False),
        (".venv/lib/site.py", False),
        (".data/objects/x", False),
        ("chalicelib/notes.txt", False),
    ],
)
def test_only_the_services_code_is_watched(tmp_path: Path, path: str, watched: bool) -> None:
    root = project(tmp_path)
    watcher = SourceWatcher(root)
    assert not watcher.changed()
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("changed, and longer")
    assert watcher.changed() is watched
    assert not watcher.changed()  # reported once


@pytest.mark.e2e
def test_reload_restarts_the_api_on_a_code_change_only(tmp_path: Path) -> None:
    marker = ROOT / "chalicelib" / "__init__.py"
    before = marker.stat()
    try:
        with running_stack(tmp_path, RELOAD="1") as stack:
            assert "Autoreload:   on: app.py and chalicelib/" in stack.log()
            os.utime(marker, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
            deadline = time.monotonic() + 30
            while "restarting the API" not in stack.log():
                assert time.monotonic() < deadline, stack.log()
                time.sleep(0.2)
            while True:
                try:
                    if requests.get(f"{stack.api}/summary", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, stack.log()
                    time.sleep(0.2)
            assert stack.log().count("restarting the API") == 1
    finally:
        os.utime(marker, ns=(before.st_atime_ns, before.st_mtime_ns))
