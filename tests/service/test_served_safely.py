"""Nothing served runs script: uploads only of formats we read, downloads that
browsers neither sniff nor render as documents, `nosniff` on every response."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from chalice.test import Client
from conftest import Uploader
from images import png_with_alpha

import app as app_module
from chalicelib.extraction.extract import SUPPORTED_MIMES
from chalicelib.uploads import UPLOAD_TYPES

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
CSP = "default-src 'none'; sandbox"


@pytest.fixture
def client(deps) -> Client:
    with Client(app_module.app) as test_client:
        yield test_client


def get(client: Client, path: str, key: str | None = None, **headers):
    url = path if key is None else f"{path}?s3objectkey={quote(key, safe='/')}"
    return client.http.get(url, headers={"Accept": "*/*", **headers})


@pytest.mark.parametrize(
    ("name", "body", "claimed"),
    [
        ("evil.svg", SVG, "image/svg+xml"),
        ("page.html", HTML, "text/html"),
        ("page.png", HTML, "image/png"),  # lying about its type does not help
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),  # corrupt
    ],
    ids=["svg", "html", "html-as-png", "corrupt-png"],
)
def test_anything_but_an_image_we_read_is_an_opaque_attachment(
    client, uploader: Uploader, name: str, body: bytes, claimed: str
) -> None:
    key = f"uploads/{name}"
    uploader.upload(key, body, content_type=claimed)

    response = get(client, "/images/download", key)

    assert response.status_code == 200 and response.body == body
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == CSP


def test_an_object_not_indexed_yet_is_an_opaque_attachment(client, uploader) -> None:
    uploader.put("uploads/early.html", HTML, content_type="text/html")  # no event yet
    response = get(client, "/images/download", "uploads/early.html")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_an_image_we_read_is_inline_with_its_type_and_still_sandboxed(client, uploader) -> None:
    uploader.upload("uploads/ok.png", png_with_alpha())

    response = get(client, "/images/download", "uploads/ok.png")
    cached = get(client, "/images/download", "uploads/ok.png", **{"If-None-Match": "*"})

    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="ok.png"'
    for answer in (response, cached):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Security-Policy"] == CSP


def test_a_redirected_download_is_an_opaque_attachment_too(client, uploader, deps) -> None:
    deps.settings = replace(deps.settings, max_inline_download=10)
    uploader.upload("uploads/big.html", HTML * 10, content_type="text/html")

    response = get(client, "/images/download", "uploads/big.html")

    assert response.status_code == 307
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    query = parse_qs(urlparse(response.headers["Location"]).query)
    assert query["response-content-type"] == ["application/octet-stream"]
    assert query["response-content-disposition"] == ['attachment; filename="big.html"']


def test_every_json_response_says_nosniff(client, uploader) -> None:
    uploader.upload("uploads/a.png", png_with_alpha())
    responses = [
        get(client, "/images", "uploads/a.png"),
        get(client, "/images"),
        get(client, "/summary"),
        get(client, "/openapi.json"),
        get(client, "/images", "uploads/missing.png"),  # 404
        get(client, "/images?limit=0"),  # 400
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 400]
    assert all(r.headers["X-Content-Type-Options"] == "nosniff" for r in responses)


def post_upload(client: Client, content_type: str):
    body = json.dumps({"filename": "x", "content_type": content_type})
    return client.http.post(
        "/uploads", headers={"Content-Type": "application/json", "Accept": "*/*"}, body=body
    )


@pytest.mark.parametrize(
    "content_type",
    ["image/svg+xml", "image/svg", "image/x-foo", "image/vnd.adobe.photoshop", "text/html"],
)
def test_uploads_refuse_types_the_service_does_not_read(client, content_type: str) -> None:
    response = post_upload(client, content_type)
    assert response.status_code == 400
    message = json.loads(response.body)["Message"]
    assert "content_type" in message and "image/jpeg" in message


@pytest.mark.parametrize("content_type", [*sorted(SUPPORTED_MIMES), "image/jpg", "IMAGE/PNG"])
def test_uploads_accept_every_format_the_service_reads(client, content_type: str) -> None:
    response = post_upload(client, content_type)
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["fields"]["Content-Type"] == content_type.lower()


def test_the_openapi_document_lists_exactly_the_accepted_upload_types() -> None:
    schemas = json.loads(
        (Path(app_module.__file__).parent / "chalicelib" / "openapi.json").read_text()
    )
    content_type = schemas["components"]["schemas"]["UploadRequest"]["properties"]["content_type"]
    assert set(content_type["enum"]) == UPLOAD_TYPES
