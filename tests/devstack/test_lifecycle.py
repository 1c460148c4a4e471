"""`make dev` as a user lives with it: it keeps images across restarts, however it
was stopped; fails fast and in one line on a busy port; leaves no process behind.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from hashlib import md5
from pathlib import Path

import pytest
import requests
from images import jpeg_with_exif, png_with_alpha
from stackrunner import (
    BUCKET,
    ROOT,
    free_port,
    fresh_environment,
    running_stack,
    wait_until_closed,
)

from devstack.datadir import ObjectFolder

pytestmark = pytest.mark.e2e


def test_images_survive_kill_9_and_reset_starts_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    photo = jpeg_with_exif((64, 48))
    with running_stack(tmp_path, data) as first:
        first.s3.put_object(
            Bucket=BUCKET, Key="uploads/kept photo.jpg", Body=photo, ContentType="image/jpeg"
        )
        first.s3.put_object(Bucket=BUCKET, Key="uploads/gone.png", Body=png_with_alpha())
        first.s3.put_object(Bucket=BUCKET, Key="uploads/lost.png", Body=png_with_alpha())
        kept = first.wait_for_record("uploads/kept photo.jpg")
        first.wait_for_record("uploads/gone.png")
        first.wait_for_record("uploads/lost.png")
        first.s3.delete_object(Bucket=BUCKET, Key="uploads/gone.png")
        first.wait_until_gone("uploads/gone.png")

        first.process.send_signal(signal.SIGKILL)  # the parent only: children must follow
        first.process.wait()
        assert wait_until_closed(first.api_port, first.aws_port, seconds=5), (
            "a child of the killed stack still holds its port"
        )
    assert (data / "catalog" / "image-metadata-local.jsonl").exists()  # saved on the way out
    # What the saved catalog does not know: an object whose event never ran, and
    # an object gone since. Both are repaired on start.
    added = png_with_alpha((5, 3))
    folder = ObjectFolder(data, BUCKET)
    folder.save("uploads/added.png", added, md5(added).hexdigest(), "2026-01-02T03:04:05", {})
    folder.remove("uploads/lost.png")

    with running_stack(tmp_path, data) as second:
        restored = requests.get(second.url("/images", "uploads/kept photo.jpg"), timeout=5)
        assert restored.status_code == 200
        for field in ("etag", "size", "last_modified", "content_type", "width", "camera"):
            assert restored.json()[field] == kept[field], field
        assert requests.get(second.url("/images", "uploads/gone.png"), timeout=5).status_code == 404
        assert second.wait_for_record("uploads/added.png")["width"] == 5
        assert requests.get(second.url("/images", "uploads/lost.png"), timeout=5).status_code == 404
        summary = requests.get(f"{second.api}/summary", timeout=5).json()
        assert (summary["total_images"], summary["total_bytes"]) == (2, len(photo) + len(added))
        download = requests.get(second.url("/images/download", "uploads/kept photo.jpg"), timeout=5)
        assert download.content == photo
        assert "catalog restored from its snapshot (2 repaired)" in second.log()
        assert "2 images restored" in second.log()
        refused = start_devstack(DATA_DIR=str(data), PORT=str(free_port()))
        assert refused.returncode != 0
        assert (
            refused.stderr.strip() == f"devstack: a stack already runs from {data}/ ({second.api})"
        )
        second.process.send_signal(signal.SIGINT)  # Ctrl-C
        assert second.process.wait(timeout=20) == 0
        assert second.log().rstrip().endswith("devstack: stopped")
        assert not (data / "stack.json").exists()

    shutil.rmtree(data / "catalog")  # no snapshot: the catalog is rebuilt from the bucket
    with running_stack(tmp_path, data) as third:
        assert third.wait_for_record("uploads/kept photo.jpg")["etag"] == kept["etag"]
        assert "catalog rebuilt: 2 images" in third.log()
        assert requests.get(f"{third.api}/summary", timeout=5).json()["total_images"] == 2

    with running_stack(tmp_path, data, RESET="1") as fourth:
        assert requests.get(f"{fourth.api}/summary", timeout=5).json()["total_images"] == 0
        missing = requests.get(fourth.url("/images", "uploads/kept photo.jpg"), timeout=5)
        assert missing.status_code == 404
        assert "RESET=1: forgot 2 images" in fourth.log()


@pytest.mark.parametrize("variable", ["PORT", "LOCAL_AWS_PORT"])
def test_a_busy_port_stops_make_dev_at_once_in_one_line(tmp_path: Path, variable: str) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        busy = other_program.getsockname()[1]
        ports = {"PORT": str(free_port()), "LOCAL_AWS_PORT": str(free_port()), variable: str(busy)}
        started = time.monotonic()
        result = start_devstack(DATA_DIR=str(tmp_path / "data"), **ports)
        elapsed = time.monotonic() - started

    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert len(output) == 1, output
    assert f"{variable}={busy + 1} make dev" in output[0] and str(busy) in output[0]
    assert elapsed < 2.5, f"took {elapsed:.1f}s"  # a second of its own, plus Python's start


def start_devstack(**env: str) -> subprocess.CompletedProcess:
    """`make dev` expected to give up: its whole output and exit code."""
    env.setdefault("LOCAL_AWS_PORT", str(free_port()))
    return subprocess.run(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=fresh_environment(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )
