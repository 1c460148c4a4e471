"""POST /uploads: presigned S3 POST forms for credential-free uploads."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from chalice.test import Client
from conftest import BUCKET
from images import png_with_alpha

from chalicelib.uploads import sanitize_filename


def post(client: Client, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.http.post(
        "/uploads", headers={"Content-Type": "application/json", "Accept": "*/*"}, body=raw
    )
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("holiday 2024 (1).JPG", "holiday 2024 (1).JPG"),
        ("café ü.png", "café ü.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\pic.png", "pic.png"),
        ("a\x00b\nc.gif", "abc.gif"),
        ('we"ird<>|*?.png', "we_ird_.png"),
        ("...", "upload"),
        (".hidden.png", "hidden.png"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
    ],
)
def test_sanitize_filename(filename: str, expected: str) -> None:
    assert sanitize_filename(filename) == expected


def test_upload_form_for_a_new_key_with_a_restrictive_policy(client, deps) -> None:
    status, body = post(client, {"filename": "my photo.jpg", "content_type": "image/jpeg"})

    assert status == 200
    key = body["s3objectkey"]
    assert key.startswith("uploads/") and key.endswith("-my photo.jpg")
    assert body["expires_in"] == deps.settings.upload_expires
    fields = body["fields"]
    assert fields["key"] == key and fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, deps.settings.max_upload_bytes] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"bucket": BUCKET} in conditions and {"key": key} in conditions
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    remaining = expiration - datetime.now(UTC)
    assert timedelta(0) < remaining <= timedelta(seconds=deps.settings.upload_expires)


def test_every_upload_gets_its_own_key(client) -> None:
    keys = {
        post(client, {"filename": "a.png", "content_type": "image/png"})[1]["s3objectkey"]
        for _ in range(5)
    }
    assert len(keys) == 5


def test_the_form_uploads_to_s3(client, deps) -> None:
    _, body = post(client, {"filename": "form.png", "content_type": "image/png"})
    image = png_with_alpha()

    response = requests.post(  # served by moto's request mock
        body["url"], data=body["fields"], files={"file": ("form.png", image)}, timeout=10
    )

    assert response.status_code in (200, 204)
    stored = deps.s3.get_object(Bucket=BUCKET, Key=body["s3objectkey"])
    assert stored["Body"].read() == image


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"content_type": "image/png"}, "filename"),
        ({"filename": "", "content_type": "image/png"}, "filename"),
        ({"filename": 7, "content_type": "image/png"}, "filename"),
        ({"filename": "a.txt", "content_type": "text/plain"}, "content_type"),
        ({"filename": "a.png"}, "content_type"),
        ({"filename": "a.png", "content_type": "image/"}, "content_type"),
        (["a.png", "image/png"], "JSON object"),
        ("not json", "JSON"),
    ],
)
def test_bad_upload_requests_are_400(client, body, message: str) -> None:
    status, response = post(client, body)
    assert status == 400
    assert message in response["Message"]
