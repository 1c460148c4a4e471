"""Provisioning is idempotent: `make dev` may run again against the same endpoint."""

from __future__ import annotations

import json

import boto3

from chalicelib.settings import Settings
from devstack.provision import QUEUE_NAME, provision


def test_provision_twice_creates_everything_once(aws) -> None:
    settings = Settings(bucket="prov-bucket", table="prov-table", prefix="uploads/")
    session = boto3.session.Session()

    first = provision(session, settings)
    second = provision(session, settings)

    assert first == second and first.endswith(QUEUE_NAME)
    s3, dynamodb = session.client("s3"), session.client("dynamodb")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["prov-bucket"]
    assert dynamodb.list_tables()["TableNames"] == ["prov-table"]
    ttl = dynamodb.describe_time_to_live(TableName="prov-table")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    (queue,) = s3.get_bucket_notification_configuration(Bucket="prov-bucket")["QueueConfigurations"]
    assert set(queue["Events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
    rules = queue["Filter"]["Key"]["FilterRules"]
    assert {"Name": "Prefix", "Value": "uploads/"} in [
        {"Name": r["Name"].capitalize(), "Value": r["Value"]} for r in rules
    ]
    policy = json.loads(
        session.client("sqs").get_queue_attributes(QueueUrl=first, AttributeNames=["Policy"])[
            "Attributes"
        ]["Policy"]
    )
    assert policy["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
