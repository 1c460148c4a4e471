"""The README's and docs/api.md's local examples, run as written against the real stack.

Only the ports differ (the test stack runs on free ones), and the files they
name are created first; file names with spaces are part of the examples.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from images import rich_jpeg
from stackrunner import BUCKET, ROOT, Stack, fresh_environment, shared_stack
from test_upload import make_upload

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Stack:
    return shared_stack(request)


def blocks(path: Path) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", path.read_text(), flags=re.S)


def commands(block: str) -> list[str]:
    """The `$ ` lines of a console block, with their continuation lines."""
    found: list[str] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append(line[2:])
        elif found and found[-1].endswith("\\"):
            found[-1] += "\n" + line
    return found


def block_with(path: Path, text: str) -> str:
    (block,) = [b for b in blocks(path) if text in b]
    return block


def run_shell(script: str, stack: Stack, cwd: Path) -> subprocess.CompletedProcess:
    endpoint = f"http://127.0.0.1:{stack.aws_port}"
    script = script.replace("http://127.0.0.1:8000", stack.api)
    script = script.replace("http://127.0.0.1:4566", endpoint)
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=fresh_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_walkthrough(stack: Stack, tmp_path: Path) -> None:
    readme = ROOT / "README.md"
    (tmp_path / "photo.jpg").write_bytes(rich_jpeg((1024, 768)))
    (tmp_path / "my photo.jpg").write_bytes(rich_jpeg((640, 480)))

    (upload,) = [c for c in commands(block_with(readme, "$ make upload")) if "make upload" in c]
    files = re.fullmatch(r'make upload FILES="(.*)"', upload).group(1)
    uploaded = make_upload(files, stack.data_dir, tmp_path)
    assert uploaded.returncode == 0, uploaded.stderr
    lines = uploaded.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["photo.jpg", "my photo.jpg"]
    assert re.search(r": uploads/[0-9a-f]{16}-my photo.jpg  ok  JPEG 640x480  ", lines[1])

    cli = block_with(readme, "aws --endpoint-url")
    for name in ("AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION="):
        assert name in cli  # the emulator takes any credentials, but they must be set
    if shutil.which("aws"):
        sent = run_shell(cli, stack, tmp_path)
        assert sent.returncode == 0, sent.stderr
    else:  # the AWS CLI is not a dependency: the same upload, with boto3
        stack.s3.upload_file(str(tmp_path / "photo.jpg"), BUCKET, "uploads/photo.jpg")
    assert stack.wait_for_record("uploads/photo.jpg")["width"] == 1024
    # The pixel stage adds its fields a moment later, which changes the record's ETag.
    stack.wait_for_pixels("uploads/photo.jpg")

    walkthrough = commands(block_with(readme, "caching: two tags"))
    start = next(i for i, c in enumerate(walkthrough) if c.startswith("url="))
    result = run_shell("\n".join(walkthrough[start : start + 4]), stack, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "304\n304\n"


def test_the_presigned_post_example_with_a_space_in_the_name(stack: Stack, tmp_path: Path) -> None:
    api = ROOT / "docs" / "api.md"
    (tmp_path / "my photo.jpg").write_bytes(rich_jpeg((300, 200)))
    (request,) = [c for c in commands(block_with(api, "> form.json")) if "> form.json" in c]
    post = block_with(api, "--form-string")

    result = run_shell(request + "\n" + post, stack, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "204\n"
    key = json.loads((tmp_path / "form.json").read_text())["s3objectkey"]
    assert key.endswith("-my photo.jpg")
    record = stack.wait_for_record(key)
    assert (record["width"], record["content_type"]) == (300, "image/jpeg")
