"""The pixel stage end to end on the real local stack (the shared one): upload ->
record -> pixels queue -> pump -> previews and hashes -> routes, then an overwrite
and a delete keep previews and duplicate counts exact."""

from __future__ import annotations

import io
import time

import pytest
import requests
from images import shapes
from PIL import Image
from stackrunner import BUCKET, EVENT_SECONDS, Stack, shared_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Stack:
    return shared_stack(request)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def wait_for_pixels(stack: Stack, key: str, etag: str) -> dict:
    deadline = time.monotonic() + EVENT_SECONDS
    while time.monotonic() < deadline:
        record = requests.get(stack.url("/images", key), timeout=5).json()
        if record.get("etag") == etag and record.get("content_sha256"):
            return record
        time.sleep(0.2)
    raise AssertionError(f"no pixel facts for {key}:\n{stack.log()[-3000:]}")


def duplicates(stack: Stack) -> dict:
    return requests.get(f"{stack.api}/summary", timeout=10).json()["duplicates"]


def derived(stack: Stack, key: str) -> list[str]:
    listed = stack.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"derived/{key}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_previews_hashes_and_duplicates_on_the_local_stack(stack: Stack) -> None:
    before = duplicates(stack)
    body = jpeg(shapes((900, 600), seed=7))
    etags = {}
    for key in ("uploads/px-a.jpg", "uploads/px-b.jpg"):
        etags[key] = stack.s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
    records = {key: wait_for_pixels(stack, key, etag) for key, etag in etags.items()}
    assert records["uploads/px-a.jpg"]["preview"]["256"] == {"width": 256, "height": 171}

    response = requests.get(stack.url("/images/preview", "px-a.jpg") + "&size=1024", timeout=5)
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(response.content)) as preview:
        assert (preview.format, preview.size) == ("WEBP", (900, 600))  # never upscaled
    found = requests.get(stack.url("/images/duplicates", "px-a.jpg"), timeout=5).json()
    assert found["exact"] == [{"s3objectkey": "uploads/px-b.jpg", "size": len(body)}]
    assert duplicates(stack) == {
        "groups": before["groups"] + 1,
        "wasted_bytes": before["wasted_bytes"] + len(body),
    }

    # Overwrite one copy: its old previews go, the group is gone.
    old = derived(stack, "px-b.jpg")
    assert len(old) == 2
    other = jpeg(shapes((300, 200), seed=8))
    etag = stack.s3.put_object(Bucket=BUCKET, Key="uploads/px-b.jpg", Body=other)["ETag"]
    wait_for_pixels(stack, "uploads/px-b.jpg", etag.strip('"'))
    assert not set(old) & set(derived(stack, "px-b.jpg"))
    assert duplicates(stack) == before
    # Delete: record, previews and counts follow.
    stack.s3.delete_object(Bucket=BUCKET, Key="uploads/px-b.jpg")
    stack.wait_until_gone("uploads/px-b.jpg")
    assert derived(stack, "px-b.jpg") == []
    assert duplicates(stack) == before
