"""What the catalog should hold, recomputed from the bucket alone (independently of chalicelib)."""

from __future__ import annotations

import io

from botocore.exceptions import ClientError
from conftest import BUCKET
from search_truth import assert_facets, assert_searches

from chalicelib.extraction.extract import extract_metadata


def truth(deps) -> tuple[dict[str, dict], dict]:
    """Records and summary recomputed from the bucket alone, independently of the catalog."""
    records = {}
    listing = deps.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/").get("Contents", [])
    for obj in listing:
        etag = obj["ETag"].strip('"')
        try:
            body = deps.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidObjectState", error
            records[obj["Key"]] = {
                "status": "unreadable",
                "s3objectkey": obj["Key"],
                "size": obj["Size"],
                "etag": etag,
            }
            continue
        records[obj["Key"]] = {
            **extract_metadata(io.BytesIO(body)),
            "s3objectkey": obj["Key"],
            "size": len(body),
            "etag": etag,
        }
    ok = [r for r in records.values() if r["status"] == "ok"]
    types: dict[str, list[int]] = {}
    for r in ok:
        types.setdefault(r["format"], []).append(r["size"])
    summary = {
        "total_images": len(ok),
        "total_bytes": sum(r["size"] for r in ok),
        "biggest_size": max((r["size"] for r in ok), default=None),
        "smallest_size": min((r["size"] for r in ok), default=None),
        "types": {fmt: (len(sizes), sum(sizes)) for fmt, sizes in types.items()},
        "unsupported": sum(r["status"] == "unsupported" for r in records.values()),
        "corrupt": sum(r["status"] == "corrupt" for r in records.values()),
        "unreadable": sum(r["status"] == "unreadable" for r in records.values()),
    }
    return records, summary


def assert_catalog_matches_bucket(deps, summary: dict | None = None, searches: bool = True) -> None:
    """Records equal extraction of the bucket's objects; `summary` (default: the
    catalog's) equals counting them; searches (unless told not to: they take
    seconds) and facets equal recomputing them."""
    records, expected = truth(deps)
    assert_facets(deps.catalog, records)
    if searches:
        assert_searches(deps.catalog, records)
    assert {key for key, entry in deps.catalog.entries() if entry.record} == set(records)
    for key, record in records.items():
        stored = deps.catalog.get(key)
        assert stored is not None, key
        for field in ("status", "format", "size", "etag", "width", "height", "mode"):
            assert stored.get(field) == record.get(field), (key, field)
    summary = summary if summary is not None else deps.catalog.summary()
    assert {
        "total_images": summary["total_images"],
        "total_bytes": summary["total_bytes"],
        "biggest_size": summary["biggest"] and summary["biggest"]["size"],
        "smallest_size": summary["smallest"] and summary["smallest"]["size"],
        "types": {t["format"]: (t["count"], t["bytes"]) for t in summary["types"]},
        "unsupported": summary["unsupported"],
        "corrupt": summary["corrupt"],
        "unreadable": summary["unreadable"],
    } == expected
