"""Shared fixtures: an in-process AWS (moto) with the bucket and table, and the app wired to it."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import botocore.loaders
import botocore.session
import pytest
from chalice.test import Client
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BUCKET = "test-images"
TABLE = "test-image-metadata"
PREFIX = "uploads/"

# app.py reads its settings at import time, as Lambda does at cold start.
os.environ.update(IMAGES_BUCKET=BUCKET, IMAGES_TABLE=TABLE, IMAGES_PREFIX=PREFIX)

import app as app_module  # noqa: E402
from chalicelib.catalog.layout import table_definition  # noqa: E402
from chalicelib.dependencies import Dependencies  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402

# Every `mock_aws` starts a fresh boto3 session, and each new session would read
# and parse botocore's JSON service models again for every client it makes. The
# models are read-only data: one loader (and its cache) serves the test process.
_LOADER = botocore.loaders.create_loader()
botocore.session.create_loader = lambda *args, **kwargs: _LOADER

_sequencers = itertools.count(0x10000000)


def next_sequencer() -> str:
    """Increasing sequencers, the way S3 assigns them per key."""
    return f"{next(_sequencers):X}"


def s3_event(key: str, name: str = "ObjectCreated:Put", etag: str | None = None, **extra) -> dict:
    """An S3 notification as Lambda receives it (key URL-encoded, `+` for space)."""
    obj = {"key": quote_plus(key), "size": 0, "sequencer": next_sequencer(), **extra}
    if etag is not None:
        obj["eTag"] = etag
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-01-01T00:00:00.000Z",
                "eventName": name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": obj,
                },
            }
        ]
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, fake credentials, never a real endpoint."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None):
    """An S3 client on moto, with the test bucket created."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def settings() -> Settings:
    return Settings(bucket=BUCKET, table=TABLE, prefix=PREFIX)


@pytest.fixture
def deps(aws: None, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Dependencies:
    """The app's dependencies against a fresh bucket and table, injected into app.py."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    dependencies = Dependencies(settings)
    monkeypatch.setattr(app_module, "deps", dependencies)
    return dependencies


class Uploader:
    """Puts objects and delivers the matching S3 events to the app's handlers."""

    def __init__(self, deps: Dependencies) -> None:
        self.s3 = deps.s3

    def put(self, key: str, body: bytes, content_type: str | None = None) -> dict:
        extra = {"ContentType": content_type} if content_type else {}
        response = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body, **extra)
        return s3_event(key, "ObjectCreated:Put", etag=response["ETag"].strip('"'), size=len(body))

    def delete(self, key: str) -> dict:
        self.s3.delete_object(Bucket=BUCKET, Key=key)
        return s3_event(key, "ObjectRemoved:Delete")

    def upload(self, key: str, body: bytes, content_type: str | None = None) -> None:
        """Put and deliver the created event, as S3 + Lambda would."""
        app_module.on_object_created(self.put(key, body, content_type), None)

    def remove(self, key: str) -> None:
        app_module.on_object_removed(self.delete(key), None)


@pytest.fixture
def uploader(deps: Dependencies) -> Uploader:
    return Uploader(deps)


@pytest.fixture
def client(deps: Dependencies) -> Iterator[Client]:
    """The app's HTTP routes in process (chalice.test), wired to the moto stack."""
    with Client(app_module.app) as test_client:
        yield test_client
