"""A listing page never exceeds what one Lambda response can carry (6 MB, base64)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

import app as app_module
from chalicelib.listing import listing_page

LAMBDA_RESPONSE_LIMIT = 6_000_000  # bytes, AWS's documented 6 MB for a synchronous response


def proxy_get(query: dict[str, str]) -> dict:
    """GET /images through the Lambda proxy integration, as API Gateway calls it."""
    return app_module.app(
        {
            "resource": "/images",
            "path": "/images",
            "httpMethod": "GET",
            "headers": {"Accept": "*/*"},
            "multiValueHeaders": {"Accept": ["*/*"]},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {"resourcePath": "/images", "httpMethod": "GET"},
            "body": None,
            "isBase64Encoded": False,
        },
        None,
    )


def store_large_records(deps, count: int, text: str) -> list[str]:
    """Records with a long `error` text (JSON escapes make it up to 6 times larger)."""
    keys = [f"uploads/big-{n:03d}.png" for n in range(count)]
    for key in keys:
        record = {
            "s3objectkey": key,
            "status": "unsupported",
            "size": 1,
            "etag": "0" * 32,
            "error": text,
        }
        assert deps.catalog.put(record, "")
    return keys


@pytest.mark.parametrize(
    ("shards", "text"),
    [
        # 52 KB stored, ~157 KB of JSON each (`\ud83d\ude00` per character), from 2 shards.
        (2, "\U0001f600" * 13_000),
        # 50 KB stored, 300 KB of JSON each (`\u0001`): DynamoDB's 1 MB per query is 6 MB.
        (1, "\x01" * 50_000),
    ],
    ids=["emoji-2-shards", "controls-1-shard"],
)
def test_large_records_are_paged_within_a_lambda_response(deps, shards: int, text: str) -> None:
    deps.settings = replace(deps.settings, counter_shards=shards)
    keys = store_large_records(deps, 30, text)

    listed, pages, token = [], 0, None
    while True:
        response = proxy_get({"limit": "100", **({"next_token": token} if token else {})})
        assert response["statusCode"] == 200
        assert len(response["body"]) < LAMBDA_RESPONSE_LIMIT
        body = json.loads(base64.b64decode(response["body"]))
        assert len(json.dumps(body, separators=(",", ":"))) <= deps.settings.max_page_bytes
        listed += [record["s3objectkey"] for record in body["images"]]
        pages += 1
        token = body["next_token"]
        if token is None:
            break

    assert listed == keys and pages >= 2


def test_a_small_budget_still_moves_one_record_per_page() -> None:
    records = [{"s3objectkey": f"k{n}", "error": "x" * 100} for n in range(3)]
    page = listing_page(records, None, max_bytes=10)
    assert [r["s3objectkey"] for r in page["images"]] == ["k0"]
    assert page["next_token"] is not None


def test_a_page_within_budget_is_unchanged() -> None:
    records = [{"s3objectkey": f"k{n}"} for n in range(3)]
    assert listing_page(records, None, 1 << 20) == {"images": records, "next_token": None}
    assert listing_page(records, "k2", 1 << 20)["next_token"] is not None
