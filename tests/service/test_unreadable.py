"""Objects that exist but cannot be read (archived, KMS, SSE-C): an `unreadable`
record, a clear 4xx download, reconcile goes on; transient failures still raise."""

from __future__ import annotations

import json
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from chalice.test import Client
from conftest import BUCKET, Uploader, s3_event
from images import png_with_alpha
from s3faults import SSE_C_MESSAGE, refuse
from truth import assert_catalog_matches_bucket

import app as app_module
from chalicelib.reconcile import reconcile


@pytest.fixture
def client(deps) -> Client:
    with Client(app_module.app) as test_client:
        yield test_client


def get(client: Client, path: str, key: str):
    return client.http.get(f"{path}?s3objectkey={quote(key)}", headers={"Accept": "*/*"})


def put_archived(uploader: Uploader, key: str, storage_class: str) -> dict:
    response = uploader.s3.put_object(
        Bucket=BUCKET, Key=key, Body=png_with_alpha(), StorageClass=storage_class
    )
    return s3_event(key, etag=response["ETag"].strip('"'), size=100)


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_an_archived_object_gets_an_unreadable_record(client, uploader, storage_class) -> None:
    key = "uploads/cold.png"
    app_module.on_object_created(put_archived(uploader, key, storage_class), None)

    response = get(client, "/images", key)

    assert response.status_code == 200
    record = json.loads(response.body)
    assert record["status"] == "unreadable"
    assert record["error"] == (
        f"the object is archived ({storage_class}) and must be restored before it can be read"
    )
    assert record["size"] == len(png_with_alpha())
    assert record["etag"] == uploader.s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    summary = json.loads(client.http.get("/summary").body)
    assert (summary["unreadable"], summary["total_images"]) == (1, 0)

    download = get(client, "/images/download", key)
    assert download.status_code == 409
    body = json.loads(download.body)
    assert body["Code"] == "ConflictError" and storage_class in body["Message"]


@pytest.mark.parametrize(
    ("status", "code", "message", "reason"),
    [
        (403, "AccessDenied", "not authorized to perform: kms:Decrypt", "KMS key"),
        (400, "KMS.DisabledException", "arn:aws:kms:... is disabled.", "KMS key"),
        (400, "InvalidRequest", SSE_C_MESSAGE, "customer-provided key (SSE-C)"),
    ],
)
def test_an_object_the_service_may_not_read_gets_an_unreadable_record(
    client, uploader: Uploader, deps, status, code, message, reason
) -> None:
    key = "uploads/secret.png"
    event = uploader.put(key, png_with_alpha())
    refuse(deps.s3, key, status, code, message)
    assert get(client, "/images", key).status_code == 202  # known to exist, not indexed

    app_module.on_object_created(event, None)

    record = json.loads(get(client, "/images", key).body)
    assert record["status"] == "unreadable" and reason in record["error"]
    download = get(client, "/images/download", key)
    assert download.status_code == 403
    assert json.loads(download.body)["Code"] == "ForbiddenError"
    assert json.loads(client.http.get("/summary").body)["unreadable"] == 1
    # A delete event must still see that the object is there (HEAD answers 400/403).
    app_module.on_object_removed(s3_event(key, "ObjectRemoved:Delete"), None)
    assert get(client, "/images", key).status_code == 200


def test_a_transient_failure_still_raises_so_lambda_retries(deps, uploader: Uploader) -> None:
    key = "uploads/busy.png"
    event = uploader.put(key, png_with_alpha())
    deps.__dict__["s3"] = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    deps.__dict__.pop("ingestor", None)
    refuse(deps.s3, key, 503, "SlowDown", "Please reduce your request rate.")

    with pytest.raises(ClientError, match="SlowDown"):
        app_module.on_object_created(event, None)

    assert deps.catalog.get(key) is None


def test_reconcile_records_unreadable_objects_and_goes_on(deps, uploader: Uploader) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/a.png", Body=png_with_alpha())
    deps.s3.put_object(
        Bucket=BUCKET, Key="uploads/b.png", Body=png_with_alpha(), StorageClass="GLACIER"
    )
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/c.png", Body=png_with_alpha())

    report = reconcile(deps)

    assert report.complete
    assert (report.listed, report.refreshed, report.unreadable) == (3, 3, 1)
    assert deps.catalog.get("uploads/b.png")["status"] == "unreadable"
    assert deps.catalog.get("uploads/c.png")["status"] == "ok"
    assert_catalog_matches_bucket(deps)

    again = reconcile(deps)  # still archived: retried, nothing changes
    assert (again.refreshed, again.unreadable) == (0, 1) and again.complete


def test_reconcile_reads_a_restored_object(deps, uploader: Uploader) -> None:
    key = "uploads/thawed.png"
    app_module.on_object_created(put_archived(uploader, key, "GLACIER"), None)
    assert deps.catalog.get(key)["status"] == "unreadable"
    deps.s3.restore_object(Bucket=BUCKET, Key=key, RestoreRequest={"Days": 1})

    report = reconcile(deps)

    assert (report.refreshed, report.unreadable) == (1, 0)
    assert deps.catalog.get(key)["status"] == "ok"


def test_reconcile_counts_a_transient_failure_and_goes_on(deps, uploader: Uploader) -> None:
    for name in ("a", "b", "c"):
        deps.s3.put_object(Bucket=BUCKET, Key=f"uploads/{name}.png", Body=png_with_alpha())
    deps.__dict__["s3"] = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    deps.__dict__.pop("ingestor", None)
    refuse(deps.s3, "uploads/b.png", 500, "InternalError", "We encountered an internal error.")

    report = reconcile(deps)

    assert (report.failed, report.failed_keys) == (1, ["uploads/b.png"])
    assert not report.complete
    assert deps.catalog.get("uploads/c.png")["status"] == "ok"
