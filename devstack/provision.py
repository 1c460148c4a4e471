"""Create the bucket, table, queue and bucket notification, idempotently.

Works against any AWS-compatible endpoint (the embedded moto server,
LocalStack, ...): every step tolerates "already exists".
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.layout import table_definition
from chalicelib.settings import Settings

QUEUE_NAME = "image-metadata-events"
MAX_PIXEL_RECEIVES = 3  # then a pixel message moves to its dead-letter queue


def provision(session: Any, settings: Settings) -> str:
    """Make the stack's resources exist; returns the event queue URL."""
    s3 = session.client("s3")
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")

    _ignore_exists(lambda: s3.create_bucket(Bucket=settings.bucket))
    _ignore_exists(lambda: dynamodb.create_table(**table_definition(settings.table)))
    dynamodb.get_waiter("table_exists").wait(TableName=settings.table)
    try:
        dynamodb.update_time_to_live(
            TableName=settings.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
    except ClientError as error:
        if "already enabled" not in str(error).lower():
            raise

    # Short visibility timeout: a failed event is retried after 5 s, as Lambda would.
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "5"})[
        "QueueUrl"
    ]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                        }
                    ],
                }
            )
        },
    )
    prefix_filter = {"Key": {"FilterRules": [{"Name": "prefix", "Value": settings.prefix}]}}
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "image-metadata",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": prefix_filter,
                }
            ]
        },
    )
    return queue_url


# --- reconcile jobs: the work queue and its dead-letter queue ----------------
RECONCILE_VISIBILITY_SECONDS = 60  # above the local worker's budget (devstack/sqs_source.py)


def provision_reconcile_queues(session: Any, settings: Settings) -> str:
    """The reconcile work queue (a piece failing MAX_RECEIVES times goes to its
    dead-letter queue, as on AWS); returns its URL."""
    from chalicelib.reconcile_jobs import MAX_RECEIVES, dead_letter_queue_name

    sqs = session.client("sqs")
    dead = sqs.create_queue(QueueName=dead_letter_queue_name(settings.reconcile_queue))
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead["QueueUrl"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": MAX_RECEIVES})
    attributes = {
        "VisibilityTimeout": str(RECONCILE_VISIBILITY_SECONDS),
        "RedrivePolicy": redrive,
    }
    url = sqs.create_queue(QueueName=settings.reconcile_queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # also on an older queue
    return url


# --- end of reconcile jobs ---------------------------------------------------


def provision_pixels_queue(session: Any, settings: Settings) -> str:
    """The pixel stage's queue and its dead-letter queue; returns the queue URL."""
    sqs = session.client("sqs")
    dead = sqs.create_queue(QueueName=settings.pixels_queue + "-failed")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(MAX_PIXEL_RECEIVES)}
    url = sqs.create_queue(
        QueueName=settings.pixels_queue,
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return url


def _ignore_exists(create: Any) -> None:
    try:
        create()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists", "ResourceInUseException"):
            raise
