"""The public contract through Chalice's test client and the S3 event handlers (moto in-process)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from urllib.parse import parse_qs, quote, urlparse

import pytest
import requests
from chalice.test import Client
from conftest import BUCKET, Uploader, s3_event
from images import animated_gif, image_bytes, jpeg_with_exif, png_with_alpha

import app as app_module
from chalicelib.catalog.summary import BYTE_EDGES


def get(client: Client, path: str, key: str | None = None, **headers):
    url = path if key is None else f"{path}?s3objectkey={quote(key, safe='/')}"
    return client.http.get(url, headers={"Accept": "*/*", **headers})


# --- GET /images --------------------------------------------------------------


def test_metadata_record_has_the_documented_fields(client, uploader: Uploader) -> None:
    body = jpeg_with_exif((80, 60))
    uploader.upload("uploads/cat.jpg", body, content_type="image/jpeg")
    etag = uploader.s3.head_object(Bucket=BUCKET, Key="uploads/cat.jpg")["ETag"].strip('"')

    response = get(client, "/images", "uploads/cat.jpg")

    assert response.status_code == 200
    record = json.loads(response.body)
    assert record["s3objectkey"] == "uploads/cat.jpg"
    assert record["status"] == "ok"
    assert "error" not in record
    assert record["size"] == len(body) and isinstance(record["size"], int)
    assert record["etag"] == etag and '"' not in record["etag"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["last_modified"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["extracted_at"])
    assert record["content_type"] == "image/jpeg"
    assert record["format"] == "JPEG"
    assert record["mime_type"] == "image/jpeg"
    assert record["extension"] == "jpg"
    assert (record["width"], record["height"]) == (80, 60)
    assert isinstance(record["width"], int) and isinstance(record["height"], int)
    assert record["mode"] == "RGB"
    # Internal bookkeeping never leaks into the API.
    assert not {"pk", "sequencer", "revision", "size_shard", "expires_at"} & record.keys()


def test_key_without_prefix_is_looked_up_under_the_prefix(client, uploader: Uploader) -> None:
    uploader.upload("uploads/dog.png", png_with_alpha())
    response = get(client, "/images", "dog.png")
    assert response.status_code == 200
    assert json.loads(response.body)["s3objectkey"] == "uploads/dog.png"


def test_format_comes_from_content_not_extension(client, uploader: Uploader) -> None:
    uploader.upload("uploads/actually-a-png.jpg", png_with_alpha())
    record = json.loads(get(client, "/images", "uploads/actually-a-png.jpg").body)
    assert (record["format"], record["mime_type"]) == ("PNG", "image/png")
    assert (record["extension"], record["mode"]) == ("jpg", "RGBA")


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/images/download", "", "missing query parameter"),
        ("/images/download", "?s3objectkey=", "must not be empty"),
        ("/images", "?s3objectkey=", "must not be empty"),
    ],
)
def test_missing_or_empty_key_is_400(client, path: str, query: str, message: str) -> None:
    response = client.http.get(path + query, headers={"Accept": "*/*"})
    assert response.status_code == 400
    body = json.loads(response.body)
    assert body["Code"] == "BadRequestError"
    assert message in body["Message"]


@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_unknown_key_is_404(client, path: str) -> None:
    response = get(client, path, "uploads/nope.jpg")
    assert response.status_code == 404
    assert json.loads(response.body)["Code"] == "NotFoundError"


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("private/secret.jpg", 404),  # resolved to uploads/private/secret.jpg: absent
        ("uploadsX/secret.jpg", 404),  # a sibling prefix is not the prefix
        ("../private/secret.jpg", 400),
        ("uploads/../private/secret.jpg", 400),
        ("uploads/./cat.jpg", 400),
        ("/private/secret.jpg", 400),
        ("uploads\\..\\private\\secret.jpg", 400),
        ("uploads/cat\x00.jpg", 400),
        ("uploads/cat\n.jpg", 400),
        ("uploads/", 400),
        ("uploads/" + "a" * 1100, 400),
    ],
)
@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_keys_outside_the_prefix_are_never_served(
    client, uploader: Uploader, path: str, key: str, status: int
) -> None:
    for outside in ("private/secret.jpg", "uploadsX/secret.jpg"):
        uploader.s3.put_object(Bucket=BUCKET, Key=outside, Body=image_bytes("JPEG"))
    uploader.upload("uploads/cat.jpg", image_bytes("JPEG"))

    response = get(client, path, key)

    assert response.status_code == status
    assert json.loads(response.body)["Code"] in ("BadRequestError", "NotFoundError")


def test_events_outside_the_prefix_are_ignored(client, uploader: Uploader) -> None:
    event = uploader.put("private/secret.jpg", image_bytes("JPEG"))
    app_module.on_object_created(event, None)
    folder = uploader.put("uploads/folder/", b"")
    app_module.on_object_created(folder, None)

    assert json.loads(get(client, "/summary").body)["total_images"] == 0
    assert app_module.deps.catalog.get("private/secret.jpg") is None
    assert app_module.deps.catalog.get("uploads/folder/") is None


def test_uploaded_but_not_yet_indexed_is_202_pending(client, uploader: Uploader) -> None:
    uploader.put("uploads/soon.png", png_with_alpha())  # event not delivered yet

    response = get(client, "/images", "soon.png")

    assert response.status_code == 202
    assert json.loads(response.body) == {"s3objectkey": "uploads/soon.png", "status": "pending"}


def test_repeated_key_parameter_is_400(client) -> None:
    response = client.http.get("/images?s3objectkey=a.png&s3objectkey=b.png")
    assert response.status_code == 400
    assert "more than once" in json.loads(response.body)["Message"]


def test_invalid_percent_encoding_is_400(client) -> None:
    response = client.http.get("/images?s3objectkey=uploads/%ff%fe.png")
    assert response.status_code == 400
    assert "UTF-8" in json.loads(response.body)["Message"]


def test_metadata_has_an_etag_and_answers_304(client, uploader: Uploader) -> None:
    uploader.upload("uploads/tagged.png", png_with_alpha())
    first = get(client, "/images", "uploads/tagged.png")
    etag = first.headers["ETag"]

    again = get(client, "/images", "uploads/tagged.png", **{"If-None-Match": etag})
    weak = get(client, "/images", "uploads/tagged.png", **{"If-None-Match": f"W/{etag}"})
    other = get(client, "/images", "uploads/tagged.png", **{"If-None-Match": '"nope"'})

    assert (again.status_code, again.body, again.headers["ETag"]) == (304, b"", etag)
    assert weak.status_code == 304
    assert other.status_code == 200
    uploader.upload("uploads/tagged.png", image_bytes("PNG", (3, 3)))
    changed = get(client, "/images", "uploads/tagged.png", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# --- GET /images (listing) -------------------------------------------------------


def list_all(client, query: str = "") -> tuple[list[dict], int]:
    """Follow next_token to the end; returns the records and the number of pages."""
    records, pages, token = [], 0, None
    while True:
        url = "/images?" + query + (f"&next_token={token}" if token else "")
        response = client.http.get(url, headers={"Accept": "*/*"})
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        records += body["images"]
        pages += 1
        token = body["next_token"]
        if token is None:
            return records, pages


@pytest.mark.parametrize("shards", [1, 3])
def test_listing_pages_through_every_record_in_key_order(client, uploader, deps, shards) -> None:
    deps.settings = replace(deps.settings, counter_shards=shards)  # before first use
    keys = [f"uploads/{name}" for name in ("b.png", "a.png", "c/d.gif", "é.png", "z.txt", "A.png")]
    for key in keys:
        body = (
            b"text"
            if key.endswith(".txt")
            else animated_gif()
            if key.endswith("gif")
            else (png_with_alpha())
        )
        uploader.upload(key, body)
    uploader.upload("uploads/gone.png", png_with_alpha())
    uploader.remove("uploads/gone.png")  # tombstones are not listed

    records, pages = list_all(client, "limit=2")

    assert [r["s3objectkey"] for r in records] == sorted(keys, key=lambda k: k.encode())
    assert pages >= 3
    assert records[0]["format"] == "PNG" and "pk" not in records[0]


def test_listing_filters_by_format(client, uploader: Uploader) -> None:
    for name, body in [
        ("a.png", png_with_alpha()),
        ("b.gif", animated_gif()),
        ("c.png", png_with_alpha()),
        ("d.txt", b"text"),
    ]:
        uploader.upload(f"uploads/{name}", body)

    records, _ = list_all(client, "format=png&limit=1")

    assert [r["s3objectkey"] for r in records] == ["uploads/a.png", "uploads/c.png"]


def test_listing_default_page(client, uploader: Uploader) -> None:
    uploader.upload("uploads/only.png", png_with_alpha())
    body = json.loads(get(client, "/images").body)
    assert [r["s3objectkey"] for r in body["images"]] == ["uploads/only.png"]
    assert body["next_token"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("limit=1&limit=2", "more than once"),
        ("next_token=garbage!", "next_token"),
        ("next_token=e30", "next_token"),  # base64 of {}
        ("format=J%20PEG", "format"),
    ],
)
def test_invalid_listing_parameters_are_400(client, query: str, message: str) -> None:
    response = client.http.get("/images?" + query, headers={"Accept": "*/*"})
    assert response.status_code == 400
    assert message in json.loads(response.body)["Message"]


def test_listing_never_scans(client, uploader: Uploader, deps, monkeypatch) -> None:
    uploader.upload("uploads/a.png", png_with_alpha())

    def no_scan(*args, **kwargs):
        raise AssertionError("a request scanned the table")

    monkeypatch.setattr(deps.dynamodb, "scan", no_scan)
    assert len(list_all(client, "limit=1")[0]) == 1
    assert get(client, "/summary").status_code == 200


# --- S3 events ------------------------------------------------------------------


def test_url_encoded_keys_in_events_are_decoded(client, uploader: Uploader) -> None:
    key = "uploads/holiday photos/día 1+2 (copy).png"
    uploader.upload(key, png_with_alpha())

    response = get(client, "/images", key)

    assert response.status_code == 200
    assert json.loads(response.body)["s3objectkey"] == key


@pytest.mark.parametrize(
    ("body", "status", "mime_type"),
    [
        (b"just some text, not an image\n", "unsupported", "text/plain"),
        (b"", "unsupported", None),
        (b"%PDF-1.7\n%...", "unsupported", "application/pdf"),
        (image_bytes("JPEG")[:120], "corrupt", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt", "image/png"),
    ],
)
def test_every_file_gets_a_record(client, uploader: Uploader, body, status, mime_type) -> None:
    uploader.upload("uploads/file.bin", body)

    record = json.loads(get(client, "/images", "uploads/file.bin").body)

    assert record["status"] == status
    assert record["mime_type"] == mime_type
    assert record["error"]
    assert record["size"] == len(body)
    summary = json.loads(get(client, "/summary").body)
    assert summary[status] == 1
    assert summary["total_images"] == 0 and summary["types"] == []


def test_overwrite_replaces_the_record_and_its_contribution(client, uploader: Uploader) -> None:
    uploader.upload("uploads/a.img", png_with_alpha((10, 10)))
    jpeg = image_bytes("JPEG", (30, 20))
    uploader.upload("uploads/a.img", jpeg)

    record = json.loads(get(client, "/images", "uploads/a.img").body)
    summary = json.loads(get(client, "/summary").body)

    assert (record["format"], record["width"], record["size"]) == ("JPEG", 30, len(jpeg))
    assert summary["total_images"] == 1
    assert summary["types"] == [
        {"format": "JPEG", "mime_type": "image/jpeg", "count": 1, "bytes": len(jpeg)}
    ]


def test_delete_removes_the_record_and_its_contribution(client, uploader: Uploader) -> None:
    big, small = image_bytes("PNG", (200, 200)), image_bytes("PNG", (20, 20))
    uploader.upload("uploads/big.png", big)
    uploader.upload("uploads/small.png", small)

    uploader.remove("uploads/big.png")

    assert get(client, "/images", "uploads/big.png").status_code == 404
    assert get(client, "/images/download", "uploads/big.png").status_code == 404
    summary = json.loads(get(client, "/summary").body)
    assert summary["total_images"] == 1
    assert summary["biggest"]["s3objectkey"] == "uploads/small.png"
    assert summary["smallest"]["s3objectkey"] == "uploads/small.png"


def test_duplicate_events_are_applied_once(client, uploader: Uploader) -> None:
    event = uploader.put("uploads/dup.gif", animated_gif())
    for _ in range(3):
        app_module.on_object_created(event, None)

    summary = json.loads(get(client, "/summary").body)
    assert summary["total_images"] == 1 and summary["types"][0]["count"] == 1


def test_late_create_does_not_resurrect_a_deleted_image(client, uploader: Uploader) -> None:
    created = uploader.put("uploads/ghost.png", png_with_alpha())
    removed = uploader.delete("uploads/ghost.png")  # newer sequencer than `created`

    app_module.on_object_removed(removed, None)
    app_module.on_object_created(created, None)

    assert get(client, "/images", "uploads/ghost.png").status_code == 404
    assert json.loads(get(client, "/summary").body)["total_images"] == 0


def test_event_for_an_overwritten_version_is_dropped(client, uploader: Uploader) -> None:
    stale = uploader.put("uploads/v.png", image_bytes("PNG", (5, 5)))
    fresh = uploader.put("uploads/v.png", image_bytes("PNG", (7, 7)))
    # The older event arrives after S3 already holds the newer version.
    app_module.on_object_created(stale, None)
    assert get(client, "/images", "uploads/v.png").status_code == 202  # pending: no record yet

    app_module.on_object_created(fresh, None)
    assert json.loads(get(client, "/images", "uploads/v.png").body)["width"] == 7


def test_event_without_sequencer_or_etag_is_still_applied(client, uploader: Uploader) -> None:
    uploader.s3.put_object(Bucket=BUCKET, Key="uploads/plain.bmp", Body=image_bytes("BMP"))
    event = s3_event("uploads/plain.bmp")
    del event["Records"][0]["s3"]["object"]["sequencer"]

    app_module.on_object_created(event, None)

    assert json.loads(get(client, "/images", "uploads/plain.bmp").body)["format"] == "BMP"


# --- GET /images/download -----------------------------------------------------------


def test_download_returns_the_exact_bytes(client, uploader: Uploader) -> None:
    body = png_with_alpha((50, 40))
    uploader.upload("uploads/pic.png", body)  # no Content-Type: S3 says binary/octet-stream
    etag = uploader.s3.head_object(Bucket=BUCKET, Key="uploads/pic.png")["ETag"]

    response = get(client, "/images/download", "uploads/pic.png")

    assert response.status_code == 200
    assert response.body == body
    assert response.headers["Content-Type"] == "image/png"  # detected from the content
    assert response.headers["ETag"] == etag


def test_download_caching_headers_and_304(client, uploader: Uploader) -> None:
    body = png_with_alpha()
    uploader.upload("uploads/cache.png", body)
    head = uploader.s3.head_object(Bucket=BUCKET, Key="uploads/cache.png")

    response = get(client, "/images/download", "uploads/cache.png")

    assert response.headers["ETag"] == head["ETag"]
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert (
        response.headers["Last-Modified"]
        == head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    )
    assert response.headers["Content-Disposition"] == 'inline; filename="cache.png"'
    cached = get(client, "/images/download", "cache.png", **{"If-None-Match": head["ETag"]})
    assert (cached.status_code, cached.body) == (304, b"")
    assert cached.headers["ETag"] == head["ETag"]
    stale = get(client, "/images/download", "cache.png", **{"If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.body == body


@pytest.mark.parametrize(
    ("key", "disposition"),
    [
        ("uploads/plain.png", 'inline; filename="plain.png"'),
        (
            "uploads/dir/café ü.png",
            "inline; filename=\"caf_ _.png\"; filename*=UTF-8''caf%C3%A9%20%C3%BC.png",
        ),
        (
            'uploads/say "hi".png',
            "inline; filename=\"say _hi_.png\"; filename*=UTF-8''say%20%22hi%22.png",
        ),
    ],
)
def test_content_disposition_keeps_the_file_name(client, uploader, key, disposition) -> None:
    uploader.upload(key, png_with_alpha())
    response = get(client, "/images/download", key)
    assert response.headers["Content-Disposition"] == disposition


def test_large_download_redirects_to_a_presigned_url(client, uploader, deps) -> None:
    body = image_bytes("PNG", (300, 300))
    deps.settings = replace(deps.settings, max_inline_download=len(body) - 1)
    uploader.upload("uploads/large.png", body)

    response = get(client, "/images/download", "uploads/large.png")

    assert response.status_code == 307
    location = response.headers["Location"]
    query = parse_qs(urlparse(location).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) == deps.settings.presign_expires
    assert urlparse(location).path.endswith("/uploads/large.png")
    fetched = requests.get(location, timeout=10)  # served by moto's request mock
    assert fetched.status_code == 200 and fetched.content == body


def _proxy_event(path: str, key: str) -> dict:
    """An API Gateway REST (Lambda proxy) event, as curl with default headers produces."""
    headers = {"Accept": "*/*", "Host": "example.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"s3objectkey": key},
        "multiValueQueryStringParameters": {"s3objectkey": [key]},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/api{path}",
            "stage": "api",
            "requestId": "test-request",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_lambda_proxy_response_is_base64_for_api_gateway(deps, uploader: Uploader) -> None:
    body = jpeg_with_exif()
    uploader.upload("uploads/proxy.jpg", body)

    response = app_module.app(_proxy_event("/images/download", "uploads/proxy.jpg"), None)

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == body
    assert response["headers"]["Content-Type"] == "image/jpeg"
    # `*/*` is a binary media type, so API Gateway decodes every body, JSON included.
    assert "*/*" in app_module.app.api.binary_types
    metadata = app_module.app(_proxy_event("/images", "uploads/proxy.jpg"), None)
    assert json.loads(base64.b64decode(metadata["body"]))["format"] == "JPEG"


def test_requests_without_accept_header_are_served(deps, uploader: Uploader) -> None:
    body = png_with_alpha()
    uploader.upload("uploads/noaccept.png", body)
    event = _proxy_event("/images/download", "uploads/noaccept.png")
    del event["headers"]["Accept"], event["multiValueHeaders"]["Accept"]

    response = app_module.app(event, None)

    assert response["statusCode"] == 200
    assert base64.b64decode(response["body"]) == body


# --- GET /summary -------------------------------------------------------------------


def test_summary_of_an_empty_collection(client) -> None:
    assert json.loads(get(client, "/summary").body) == {
        "total_images": 0,
        "total_bytes": 0,
        "biggest": None,
        "smallest": None,
        "types": [],
        "unsupported": 0,
        "corrupt": 0,
        "unreadable": 0,
        "orientations": {"landscape": 0, "portrait": 0, "square": 0},
        "with_gps": 0,
        "with_animation": 0,
        "with_alpha": 0,
        "resolution": [
            {"min_megapixels": low, "max_megapixels": high, "count": 0}
            for low, high in ((0, 1), (1, 4), (4, 12), (12, 24), (24, 50), (50, None))
        ],
        "size": [
            {"min_bytes": low, "max_bytes": high, "count": 0}
            for low, high in zip((0, *BYTE_EDGES), (*BYTE_EDGES, None), strict=True)
        ],
        "years": [],
        "cameras": {"distinct": 0, "top": []},
        "lenses": {"distinct": 0, "top": []},
        "keywords": {"distinct": 0, "top": []},
        "taken_range": None,
        "duplicates": {"groups": 0, "wasted_bytes": 0},
    }


def test_summary_matches_a_recomputation(client, uploader: Uploader) -> None:
    files = {
        "uploads/a.jpg": image_bytes("JPEG", (120, 90)),
        "uploads/b.jpg": image_bytes("JPEG", (60, 40)),
        "uploads/c.jpg": jpeg_with_exif((30, 30)),
        "uploads/d.png": png_with_alpha((200, 150)),
        "uploads/e.png": png_with_alpha((8, 8)),
        "uploads/f.gif": animated_gif(),
        "uploads/g.webp": image_bytes("WEBP", (40, 40)),
        "uploads/h.txt": b"not an image",
        "uploads/i.jpg": image_bytes("JPEG")[:50],
    }
    for key, body in files.items():
        uploader.upload(key, body)

    summary = json.loads(get(client, "/summary").body)

    images = {k: v for k, v in files.items() if not k.endswith((".txt", "i.jpg"))}
    biggest = max(images, key=lambda k: len(images[k]))
    smallest = min(images, key=lambda k: len(images[k]))
    assert summary["total_images"] == len(images)
    assert summary["total_bytes"] == sum(map(len, images.values()))
    assert summary["biggest"] == {
        "s3objectkey": biggest,
        "size": len(images[biggest]),
        "format": "PNG",
        "width": 200,
        "height": 150,
    }
    assert summary["smallest"]["s3objectkey"] == smallest
    assert summary["smallest"]["size"] == len(images[smallest])
    assert [(t["format"], t["count"]) for t in summary["types"]] == [
        ("JPEG", 3),
        ("PNG", 2),
        ("GIF", 1),
        ("WEBP", 1),
    ]
    jpeg_bytes = sum(len(v) for k, v in images.items() if k.endswith(".jpg"))
    assert summary["types"][0] == {
        "format": "JPEG",
        "mime_type": "image/jpeg",
        "count": 3,
        "bytes": jpeg_bytes,
    }
    assert (summary["unsupported"], summary["corrupt"]) == (1, 1)


# --- logs -------------------------------------------------------------------


def json_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "image-metadata"]


def test_one_json_log_line_per_event(client, uploader: Uploader, caplog) -> None:
    caplog.set_level("INFO", logger="image-metadata")
    uploader.upload("uploads/logged.png", png_with_alpha())

    (line,) = json_lines(caplog)

    assert line["handler"] == "object_created"
    assert (line["key"], line["action"], line["status"]) == ("uploads/logged.png", "stored", "ok")
    assert line["requests"] == 1 and 0 < line["bytes_read"] <= 64 * 1024
    assert line["duration_ms"] >= 0 and "error" not in line


def test_one_json_log_line_per_request(client, uploader: Uploader, caplog) -> None:
    caplog.set_level("INFO", logger="image-metadata")
    get(client, "/images", "uploads/missing.png")

    (line,) = json_lines(caplog)

    assert (line["request"], line["method"], line["status"]) == ("/images", "GET", 404)
    assert line["s3objectkey"] == "uploads/missing.png"
    assert "no image metadata" in line["error"] and "request_id" in line


def test_a_failing_event_is_logged_with_context_and_retried(deps, uploader, caplog) -> None:
    caplog.set_level("INFO", logger="image-metadata")
    event = uploader.put("uploads/boom.png", png_with_alpha())
    deps.dynamodb.delete_table(TableName=deps.settings.table)  # the catalog is unreachable

    with pytest.raises(Exception, match="ResourceNotFound"):
        app_module.on_object_created(event, None)  # raised: Lambda will retry the event

    (line,) = json_lines(caplog)
    assert line["key"] == "uploads/boom.png" and "ResourceNotFound" in line["error"]
