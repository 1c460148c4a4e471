"""End to end: the real local stack (`python -m devstack`, what `make dev` runs) on free ports.

Uploads go to the emulator with boto3, events flow through the bucket
notification, the queue and the event pump into the handlers, and every route
is checked over real HTTP against `chalice local`, like a user with curl.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from images import animated_gif, image_bytes, jpeg_with_exif, noisy_jpeg, png_with_alpha
from stackrunner import (
    BUCKET,
    ROOT,
    Stack,
    free_port,
    fresh_environment,
    port_open,
    running_stack,
    shared_stack,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Stack:
    return shared_stack(request)


__all__ = ["running_stack"]  # tests/service/test_openapi.py starts its stack through here


def curl_download(url: str, target: Path, follow: bool = False) -> int:
    """Download like a user: curl with its default headers (requests with curl's if absent)."""
    curl = shutil.which("curl")
    if curl:
        args = [curl, "-s", "-o", str(target), "-w", "%{http_code}", url]
        if follow:
            args.insert(1, "-L")
        return int(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    response = requests.get(
        url,
        headers={"Accept": "*/*", "User-Agent": "curl/8"},
        allow_redirects=follow,
        timeout=30,
    )
    target.write_bytes(response.content)
    return response.status_code


def test_upload_query_download_delete(stack: Stack, tmp_path: Path) -> None:
    photo = jpeg_with_exif((320, 240))
    key = "uploads/e2e photo.jpg"
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=photo)

    record = stack.wait_for_record(key)
    assert record["status"] == "ok"
    assert (record["format"], record["width"], record["height"]) == ("JPEG", 320, 240)
    assert record["size"] == len(photo)

    # Download: byte-identical through curl's default request.
    target = tmp_path / "copy.jpg"
    assert curl_download(stack.url("/images/download", key), target) == 200
    assert target.read_bytes() == photo
    head = requests.get(stack.url("/images/download", key), timeout=10)
    assert head.headers["Content-Type"] == "image/jpeg"
    assert head.headers["Content-Length"] == str(len(photo))
    assert head.headers["ETag"] == f'"{record["etag"]}"'

    summary = requests.get(f"{stack.api}/summary", timeout=10).json()
    assert summary["total_images"] >= 1
    assert any(t["format"] == "JPEG" for t in summary["types"])

    stack.s3.delete_object(Bucket=BUCKET, Key=key)
    stack.wait_until_gone(key)
    assert requests.get(stack.url("/images/download", key), timeout=10).status_code == 404


def test_large_download_redirects_and_curl_follows(stack: Stack, tmp_path: Path) -> None:
    big = noisy_jpeg(5 * 1024 * 1024)  # past the 4 MiB inline limit
    key = "uploads/big.jpg"
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=big)
    stack.wait_for_record(key)

    response = requests.get(stack.url("/images/download", key), allow_redirects=False, timeout=10)
    assert response.status_code == 307
    assert "X-Amz-Signature=" in response.headers["Location"]

    target = tmp_path / "big.jpg"
    assert curl_download(stack.url("/images/download", key), target, follow=True) == 200
    assert target.read_bytes() == big


def test_overwrite_and_summary_over_http(stack: Stack) -> None:
    small, large = png_with_alpha((10, 10)), image_bytes("PNG", (400, 300))
    stack.s3.put_object(Bucket=BUCKET, Key="uploads/sum-a.png", Body=small)
    stack.s3.put_object(Bucket=BUCKET, Key="uploads/sum-b.txt", Body=b"plain text")
    stack.wait_for_record("uploads/sum-a.png")
    stack.wait_for_record("uploads/sum-b.txt")
    etag = stack.s3.put_object(Bucket=BUCKET, Key="uploads/sum-a.png", Body=large)["ETag"]

    record = stack.wait_for_record("uploads/sum-a.png", etag=etag.strip('"'))
    assert (record["width"], record["size"]) == (400, len(large))

    summary = requests.get(f"{stack.api}/summary", timeout=10).json()
    listed = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")["Contents"]
    images = [o for o in listed if not o["Key"].endswith(".txt")]
    assert summary["total_images"] == len(images)
    assert summary["total_bytes"] == sum(o["Size"] for o in images)
    assert summary["biggest"]["size"] == max(o["Size"] for o in images)
    assert summary["smallest"]["size"] == min(o["Size"] for o in images)
    assert summary["unsupported"] == 1
    assert requests.get(stack.url("/images", "uploads/sum-b.txt"), timeout=5).json()["status"] == (
        "unsupported"
    )


def test_credential_free_upload_through_a_presigned_post(stack: Stack) -> None:
    form = requests.post(
        f"{stack.api}/uploads",
        json={"filename": "from a browser.png", "content_type": "image/png"},
        timeout=10,
    )
    assert form.status_code == 200, form.text
    body = form.json()
    image = png_with_alpha((21, 13))

    upload = requests.post(  # what `curl -F ... -F file=@photo.png URL` sends
        body["url"], data=body["fields"], files={"file": ("photo.png", image)}, timeout=10
    )

    assert upload.status_code in (200, 204), upload.text
    record = stack.wait_for_record(body["s3objectkey"])
    assert (record["format"], record["width"], record["size"]) == ("PNG", 21, len(image))


def test_reconcile_command_repairs_the_local_stack(stack: Stack) -> None:
    """`make reconcile` (python -m ops.reconcile) against the running local stack."""
    stack.s3.put_object(Bucket=BUCKET, Key="uploads/rec.png", Body=png_with_alpha())
    stack.wait_for_record("uploads/rec.png")
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{stack.aws_port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    before = requests.get(f"{stack.api}/summary", timeout=10).json()
    dynamodb.delete_item(TableName="image-metadata-local", Key={"pk": {"S": "counters#0"}})
    assert requests.get(f"{stack.api}/summary", timeout=10).json()["total_images"] == 0

    # No port, credentials or region given: the stack's state file says where it is.
    result = subprocess.run(
        [sys.executable, "-m", "ops.reconcile", "--stage", "local"],
        cwd=ROOT,
        env=fresh_environment(DATA_DIR=str(stack.data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counters_rebuilt"] == [0]
    assert requests.get(f"{stack.api}/summary", timeout=10).json() == before
    listed = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")["KeyCount"]
    assert f"reconcile: objects: {listed}" in result.stderr.splitlines()  # the final count


def test_reconcile_says_in_one_line_when_no_stack_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ops.reconcile"],
        cwd=ROOT,
        env=fresh_environment(DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr == "reconcile: no local stack is running: start it with `make dev`\n"


def test_user_errors_are_clean_json(stack: Stack) -> None:
    missing = requests.get(f"{stack.api}/images/download", timeout=5)
    assert missing.status_code == 400 and missing.json()["Code"] == "BadRequestError"
    bad_limit = requests.get(f"{stack.api}/images?limit=0", timeout=5)
    assert bad_limit.status_code == 400
    unknown = requests.get(stack.url("/images", "uploads/none.jpg"), timeout=5)
    assert unknown.status_code == 404 and unknown.json()["Code"] == "NotFoundError"
    climbing = requests.get(stack.url("/images/download", "../secret"), timeout=5)
    assert climbing.status_code == 400


def test_sigterm_stops_everything(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        os.killpg(stack.process.pid, signal.SIGTERM)
        assert stack.process.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            port_open(stack.api_port) or port_open(stack.aws_port)
        ):
            time.sleep(0.2)
        assert not port_open(stack.api_port), "the API still listening"
        assert not port_open(stack.aws_port), "emulator still listening"
        after_banner = stack.log().split("Press Ctrl-C to stop.\n")[1].splitlines()
        assert after_banner[-1] == "devstack: stopped"  # one line once all has stopped
        assert all(line.endswith("}") for line in after_banner[:-1] if line), after_banner


def test_an_existing_endpoint_is_used_instead_of_starting_an_emulator(tmp_path: Path) -> None:
    """With AWS_ENDPOINT_URL set (LocalStack, another emulator), resources are created there."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    external = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    external.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        with running_stack(tmp_path, AWS_ENDPOINT_URL=endpoint) as stack:
            assert not port_open(stack.aws_port), "an emulator was started anyway"
            stack.s3.put_object(Bucket=BUCKET, Key="uploads/ext.gif", Body=animated_gif())
            assert stack.wait_for_record("uploads/ext.gif")["format"] == "GIF"
    finally:
        external.stop()


def test_one_log_line_per_request_and_no_sdk_chatter(stack: Stack) -> None:
    key = f"uploads/log-line-{time.monotonic_ns()}.jpg"
    for _ in range(3):
        assert requests.get(stack.url("/images", key), timeout=5).status_code == 404
    time.sleep(0.5)  # let the lines reach the log file
    log = stack.log()
    lines = [line for line in log.splitlines() if key in line]
    assert len(lines) == 3 and all('"status": 404' in line for line in lines), lines
    assert "Found credentials" not in log
