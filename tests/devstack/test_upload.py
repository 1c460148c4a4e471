"""`make upload FILES=...`: through POST /uploads and the presigned form, as a browser would."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import requests
from images import noisy_jpeg, png_with_alpha, rich_jpeg
from stackrunner import MAX_UPLOAD_BYTES, ROOT, Stack, fresh_environment, shared_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Stack:
    return shared_stack(request)


def make_upload(files: str, data_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    """The command `make upload FILES=<files>` runs, exactly as make quotes it, run in `cwd`."""
    dry_run = subprocess.run(
        ["make", "-s", "-n", "-C", str(ROOT), "upload", f"FILES={files}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (command,) = [line for line in dry_run.splitlines() if "devstack upload" in line]
    words = shlex.split(command)
    words[0] = str(ROOT / words[0])  # .venv/bin/python, from the project
    return subprocess.run(
        words,
        cwd=cwd,
        env=fresh_environment(DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_files_with_spaces_and_accents_are_uploaded_and_described(
    stack: Stack, tmp_path: Path
) -> None:
    (tmp_path / "my photo.jpg").write_bytes(rich_jpeg((80, 60)))
    (tmp_path / "café ☕.png").write_bytes(png_with_alpha((12, 7)))
    (tmp_path / "no-extension").write_bytes(rich_jpeg((30, 20)))

    result = make_upload("'my photo.jpg' 'café ☕.png' no-extension", stack.data_dir, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "my photo.jpg",
        "café ☕.png",
        "no-extension",
    ]
    key = lines[0].split(": ", 1)[1].split("  ")[0]
    assert key.startswith("uploads/") and key.endswith("-my photo.jpg")
    assert "  ok  JPEG 80x60  Acme Acme X100  taken 2024-05-17T10:30:15" in lines[0]
    assert "-café _.png  ok  PNG 12x7" in lines[1]  # the service keeps letters, not symbols
    assert "  ok  JPEG 30x20" in lines[2]  # typed by its bytes, not its name
    record = requests.get(stack.url("/images", key), timeout=5).json()
    assert record["content_type"] == "image/jpeg" and record["width"] == 80


def test_each_failure_is_one_clear_line(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "big.jpg").write_bytes(noisy_jpeg(MAX_UPLOAD_BYTES + 1))
    (tmp_path / "fine.png").write_bytes(png_with_alpha())

    result = make_upload("notes.txt big.jpg missing.jpg fine.png", stack.data_dir, tmp_path)

    assert result.returncode == 1
    assert result.stdout.startswith("fine.png: uploads/") and result.stdout.count("\n") == 1
    errors = result.stderr.splitlines()
    assert errors[0] == "notes.txt: not an image (text/plain): only image files are indexed"
    assert errors[1].startswith("big.jpg: too big: ") and f"{MAX_UPLOAD_BYTES:,}" in errors[1]
    assert errors[2].startswith("missing.jpg: cannot read it (")
    assert len(errors) == 3 and "Traceback" not in result.stderr


def test_without_a_running_stack_it_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_with_alpha())
    result = make_upload("a.png", tmp_path / "no-stack-here", tmp_path)
    assert result.returncode == 2
    assert result.stderr == "upload: no local stack is running: start it with `make dev`\n"
