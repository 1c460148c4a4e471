"""Every user mistake is a 4xx with Chalice's JSON error body, checked before any AWS call."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from chalice.test import Client
from conftest import BUCKET, Uploader
from images import png_with_alpha

import app as app_module
from chalicelib.catalog.paging import encode_token


def get(client: Client, url: str, **headers):
    return client.http.get(url, headers={"Accept": "*/*", **headers})


def assert_400(response, *words: str) -> None:
    assert response.status_code == 400, response.body
    body = json.loads(response.body)
    assert body["Code"] == "BadRequestError"
    for word in words:
        assert word in body["Message"], body["Message"]


@pytest.fixture
def no_aws(deps, monkeypatch):
    """Fail the test if a request reaches S3 or DynamoDB."""

    def refuse(*args, **kwargs):
        raise AssertionError("the request reached AWS")

    for client in (deps.s3, deps.dynamodb):
        for name in ("get_object", "head_object", "get_item", "query", "list_objects_v2"):
            if hasattr(client, name):
                monkeypatch.setattr(client, name, refuse)


# --- numbers are ASCII decimal of bounded length ----------------------------------


@pytest.mark.parametrize(
    "raw",
    ["%C2%B2", "%D9%A1", "%EF%BC%95", "9" * 5000, "0" * 4 + "5", "+5", "%205", "5.0", ""],
    ids=["superscript-two", "arabic-one", "fullwidth-five", "5000-nines", "long", "plus",
         "space", "decimal", "empty"],
)  # fmt: skip
def test_limit_must_be_ascii_digits(client, no_aws, raw: str) -> None:
    assert_400(get(client, f"/images?limit={raw}"), "limit")


def test_limit_with_a_leading_zero_is_still_a_number(client) -> None:
    assert get(client, "/images?limit=050").status_code == 200


# --- a zero-byte object downloads ---------------------------------------------


def test_a_zero_byte_object_downloads_as_an_empty_200(client, uploader: Uploader) -> None:
    uploader.upload("uploads/empty.png", b"")

    response = get(client, "/images/download?s3objectkey=uploads/empty.png")

    assert (response.status_code, response.body) == (200, b"")
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_a_zero_byte_object_through_the_lambda_proxy(deps, uploader: Uploader) -> None:
    uploader.upload("uploads/empty.png", b"")
    event = {
        "resource": "/images/download",
        "path": "/images/download",
        "httpMethod": "GET",
        "headers": {"Accept": "*/*"},
        "multiValueHeaders": {"Accept": ["*/*"]},
        "queryStringParameters": {"s3objectkey": "uploads/empty.png"},
        "multiValueQueryStringParameters": {"s3objectkey": ["uploads/empty.png"]},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/images/download", "httpMethod": "GET"},
        "body": None,
        "isBase64Encoded": False,
    }

    response = app_module.app(event, None)

    assert response["statusCode"] == 200
    assert base64.b64decode(response["body"]) == b""


# --- POST /uploads bodies ---------------------------------------------------------


def post(client: Client, body: bytes | str, content_type: str | None = "application/json"):
    headers = {"Accept": "*/*"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.http.post("/uploads", headers=headers, body=body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 50_000, ["larger than"]),
        ("[" * 10_000, ["nested too deeply"]),
        ('{"a":' * 2_000 + "1" + "}" * 2_000, ["nested too deeply"]),
        (b"\xff\xfe{}", ["not valid JSON"]),
        ("", ["not empty"]),
        ('{"filename": "' + "x" * 20_000 + '"}', ["larger than"]),
    ],
    ids=["brackets-50000", "brackets-10000", "objects", "not-utf8", "empty", "huge"],
)
def test_bad_upload_bodies_are_400(client, no_aws, body, words) -> None:
    assert_400(post(client, body), *words)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_an_upload_request_that_is_not_json_is_400_not_415(client, content_type) -> None:
    body = json.dumps({"filename": "a.png", "content_type": "image/png"})
    assert_400(post(client, body, content_type), "Content-Type: application/json")


def test_json_with_a_charset_parameter_is_fine(client) -> None:
    body = json.dumps({"filename": "a.png", "content_type": "image/png"})
    assert post(client, body, "application/json; charset=utf-8").status_code == 200


# --- keys that are not valid percent-encoding ------------------------------------


@pytest.mark.parametrize("raw", ["%zz", "%", "cat%", "uploads/%2", "a%G0.png", "%25zz"])
@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_invalid_percent_encoding_is_400(client, no_aws, path: str, raw: str) -> None:
    assert_400(get(client, f"{path}?s3objectkey={raw}"), "percent-encoding")


def test_a_percent_escape_is_fine(client, uploader: Uploader) -> None:
    uploader.upload("uploads/100%41.png", png_with_alpha())
    assert get(client, "/images?s3objectkey=uploads/100%2541.png").status_code == 200


# --- If-None-Match (RFC 9110) on both routes -----------------------------------------


@pytest.fixture
def tagged(client, uploader: Uploader) -> dict[str, str]:
    uploader.upload("uploads/tag.png", png_with_alpha())
    return {
        path: get(client, f"{path}?s3objectkey=uploads/tag.png").headers["ETag"]
        for path in ("/images", "/images/download")
    }


# One test per route, every case in it: each case needs an indexed upload.
VALID = [
    ("*", 304),
    (" * ", 304),
    ("{etag}", 304),
    ("W/{etag}", 304),  # weak comparison
    ('"other", {etag}', 304),
    ('"other" ,W/{etag}', 304),
    ('"other"', 200),
    ('W/"other", "more"', 200),
    ("", 200),
]
MALFORMED = [
    "W/*",
    "*, {etag}",
    "{bare}",
    '"a" "b"',
    '"a',
    '"a b"',
    "x" * 3000,
    '"' + "a" * 3000 + '"',
]


@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_if_none_match_follows_rfc_9110(client, tagged, path) -> None:
    for header, status in VALID:
        value = header.format(etag=tagged[path])
        response = get(client, f"{path}?s3objectkey=uploads/tag.png", **{"If-None-Match": value})
        assert response.status_code == status, header
        assert response.headers["ETag"] == tagged[path]


@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_a_malformed_if_none_match_is_400(client, tagged, no_aws, path) -> None:
    for header in MALFORMED:
        value = header.format(etag=tagged[path], bare=tagged[path].strip('"'))
        response = get(client, f"{path}?s3objectkey=uploads/tag.png", **{"If-None-Match": value})
        assert_400(response, "If-None-Match")
    # In listing mode too: the header is checked whatever the request does.
    assert_400(get(client, "/images", **{"If-None-Match": "W/*"}), "If-None-Match")


@pytest.mark.parametrize("path", ["/images", "/images/download"])
def test_if_none_match_star_on_a_missing_key_is_404(client, path) -> None:
    response = get(client, f"{path}?s3objectkey=uploads/none.png", **{"If-None-Match": "*"})
    assert response.status_code == 404


# --- unknown query parameters ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("/images?s3objectKey=uploads/a.png", "animated, bbox, format, has_gps"),
        ("/images?limit=5&page=2", "animated, bbox, format, has_gps"),
        ("/images/download?s3objectkey=a.png&limit=1", "s3objectkey"),
        ("/summary?verbose=1", "none"),
        ("/openapi.json?v=2", "none"),
    ],
)
def test_unknown_query_parameters_are_400_naming_the_accepted_ones(
    client, no_aws, url: str, accepted: str
) -> None:
    assert_400(get(client, url), "unknown query parameter", f"this route accepts: {accepted}")


def test_unknown_query_parameters_on_uploads_are_400(client) -> None:
    response = client.http.post(
        "/uploads?x=1",
        headers={"Content-Type": "application/json", "Accept": "*/*"},
        body=json.dumps({"filename": "a.png", "content_type": "image/png"}),
    )
    assert_400(response, "unknown query parameter 'x'")


# --- forged continuation tokens ------------------------------------------------------


def _token(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        encode_token("uploads/" + "a" * 1100),
        encode_token("uploads/" + "\U0001f600" * 300),  # 1,208 bytes in UTF-8
        _token('{"after": "uploads/\\ud800"}'),  # a lone surrogate
        _token('{"after": 7}'),
        "A" * 10_000,
    ],
    ids=["long-ascii", "long-utf8", "surrogate", "not-a-string", "huge"],
)
def test_a_forged_next_token_is_400_before_any_query(client, no_aws, token: str) -> None:
    assert_400(get(client, f"/images?next_token={token}"), "next_token")


def test_a_token_for_a_long_but_valid_key_is_accepted(client) -> None:
    token = encode_token("uploads/" + "a" * 1000)
    assert get(client, f"/images?next_token={token}").status_code == 200


# --- bidirectional controls in file names -------------------------------------------


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u2067", "\u200f", "\u061c"])
def test_bidi_controls_never_reach_content_disposition(client, uploader, control) -> None:
    key = f"uploads/bidi{control}gpj.exe"
    uploader.s3.put_object(Bucket=BUCKET, Key=key, Body=b"MZ")

    response = get(client, f"/images/download?s3objectkey={quote(key)}")

    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="bidigpj.exe"'
    assert quote(control) not in disposition
