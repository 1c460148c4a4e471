"""The pixel stage through its public interfaces: the S3 handlers queue a message, the
SQS handler (app.pixels_stage) stores previews and hashes, the routes serve them,
and overwrites and deletes keep previews and duplicate counts exact."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import boto3
import pytest
from conftest import BUCKET, Uploader, s3_event
from images import image_bytes, shapes
from PIL import Image

import app as app_module
from chalicelib.catalog.duplicates import bands
from chalicelib.catalog.records import normalize
from chalicelib.pixel_queue import PREVIEW_SIZES as QUEUED_SIZES
from chalicelib.pixel_queue import PixelMessage, preview_key, source_of
from chalicelib.pixels import PREVIEW_SIZES, analyse, phash_bands
from chalicelib.previews import record_fields
from chalicelib.settings import Settings
from devstack.sqs_source import sqs_lambda_event


def gradient(size: tuple[int, int], flip: bool = False) -> Image.Image:
    image = Image.new("RGB", size)
    width, height = size
    image.putdata(
        [
            ((x * 255 // width) if not flip else 255 - x * 255 // width, y * 255 // height, 90)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def queue(deps) -> str:
    return boto3.client("sqs").create_queue(QueueName=deps.settings.pixels_queue)["QueueUrl"]


def run_stage(queue: str) -> list[dict]:
    """Deliver every queued pixel message to the app's SQS handler, as Lambda would."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    outcomes = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return outcomes
        for message in messages:
            outcomes += app_module.pixels_stage(sqs_lambda_event(message, arn), None)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def get(client, path: str, **headers):
    return client.http.get(path, headers={"Accept": "*/*", **headers})


def previews_in_bucket(deps) -> set[str]:
    listing = deps.s3.list_objects_v2(Bucket=BUCKET, Prefix=deps.settings.derived_prefix)
    return {obj["Key"] for obj in listing.get("Contents", [])}


def test_upload_to_preview_and_hashes(deps, queue, client, uploader: Uploader) -> None:
    uploader.upload("uploads/wide.jpg", jpeg(gradient((1600, 800))))
    pending = get(client, "/images/preview?s3objectkey=wide.jpg")
    assert pending.status_code == 202
    assert json.loads(pending.body)["status"] == "pending"

    assert [o["action"] for o in run_stage(queue)] == ["enriched"]

    record = json.loads(get(client, "/images?s3objectkey=wide.jpg").body)
    assert record["status"] == "ok"
    assert record["preview"] == {
        "256": {"width": 256, "height": 128},
        "1024": {"width": 1024, "height": 512},
    }
    assert len(record["content_sha256"]) == 64 and len(record["phash"]) == 16
    assert record["average_color"].startswith("#")
    # Every field is what the pure core finds in the bytes, as stored.
    expected = record_fields(analyse(io.BytesIO(jpeg(gradient((1600, 800))))))
    assert {name: record.get(name) for name in expected} == normalize(expected)
    for size, width in (("256", 256), ("1024", 1024)):
        response = get(client, f"/images/preview?s3objectkey=wide.jpg&size={size}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/webp"
        assert response.headers["Cache-Control"] == "public, no-cache"  # follows overwrites
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(response.body)) as preview:
            assert (preview.format, preview.width) == ("WEBP", width)
        again = get(
            client,
            f"/images/preview?s3objectkey=wide.jpg&size={size}",
            **{"If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304
    assert get(client, "/images/preview?s3objectkey=wide.jpg&size=512").status_code == 400
    assert get(client, "/images/preview?s3objectkey=nope.jpg").status_code == 404


def test_a_preview_url_naming_the_etag_is_immutable_until_an_overwrite(
    deps, queue, client, uploader
) -> None:
    uploader.upload("uploads/v.jpg", jpeg(gradient((600, 300))))
    run_stage(queue)
    first = json.loads(get(client, "/images?s3objectkey=v.jpg").body)["etag"]
    named = get(client, f"/images/preview?s3objectkey=v.jpg&etag={first.upper()}")
    assert named.status_code == 200
    assert named.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for bad in ("nothex", "0" * 31, f"{first}-", f'"{first}"'):
        refused = get(client, f"/images/preview?s3objectkey=v.jpg&etag={bad}")
        assert refused.status_code == 400, bad
        assert "etag" in json.loads(refused.body)["Message"]

    uploader.upload("uploads/v.jpg", jpeg(gradient((300, 600))))  # overwritten
    run_stage(queue)
    second = json.loads(get(client, "/images?s3objectkey=v.jpg").body)["etag"]
    assert second != first
    old = get(client, f"/images/preview?s3objectkey=v.jpg&etag={first}")
    assert old.status_code == 404
    assert second in json.loads(old.body)["Message"]
    followed = get(client, "/images/preview?s3objectkey=v.jpg")
    assert followed.status_code == 200 and followed.body != named.body
    assert followed.headers["ETag"] == f'"{second}-256"'


def test_an_image_too_big_to_decode_in_memory_is_skipped_with_its_reason(
    deps, queue, client, uploader, monkeypatch
) -> None:
    stage = deps.pixel_stage
    monkeypatch.setattr(stage, "_settings", replace(deps.settings, preview_max_decode_mb=1))
    uploader.upload("uploads/huge.jpg", jpeg(gradient((600, 300))))
    assert [o["action"] for o in run_stage(queue)] == ["enriched"]
    record = json.loads(get(client, "/images?s3objectkey=huge.jpg").body)
    assert record["preview_skipped"].startswith("too big to decode: decoding needs about")
    assert "preview" not in record and len(record["content_sha256"]) == 64
    response = get(client, "/images/preview?s3objectkey=huge.jpg")
    assert response.status_code == 404
    assert "1 MiB allowed" in json.loads(response.body)["Message"]


def test_a_redelivered_or_stale_message_changes_nothing(deps, queue, uploader) -> None:
    uploader.upload("uploads/a.jpg", jpeg(gradient((300, 200))))
    sqs = boto3.client("sqs")
    body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    stage = deps.pixel_stage
    message = PixelMessage.parse(body)
    assert stage.handle(message).action == "enriched"
    before = deps.catalog.entry("uploads/a.jpg")
    assert stage.handle(message).action == "done"  # at-least-once: delivered again
    wrong = PixelMessage(message.key, "0" * 32, message.sequencer, message.size)
    assert stage.handle(wrong).action == "stale"
    assert deps.catalog.entry("uploads/a.jpg").revision == before.revision


def test_not_an_image_and_a_bad_message(deps, queue, client, uploader) -> None:
    uploader.upload("uploads/notes.jpg", b"plain text, unsupported")
    assert run_stage(queue) == []  # only ok records are queued
    response = get(client, "/images/preview?s3objectkey=notes.jpg")
    assert response.status_code == 404
    assert "unsupported" in json.loads(response.body)["Message"]
    event = {"Records": [{"body": "not json", "messageId": "1", "receiptHandle": "r"}]}
    assert app_module.pixels_stage(event, None)[0]["action"] == "dropped"


def test_duplicates_and_summary_stay_exact(deps, queue, client, uploader) -> None:
    original = jpeg(shapes((640, 480)))
    uploader.upload("uploads/one.jpg", original)
    uploader.upload("uploads/two.jpg", original)
    uploader.upload("uploads/smaller.jpg", jpeg(shapes((320, 240)), quality=70))
    uploader.upload("uploads/other.jpg", jpeg(shapes((640, 480), seed=2)))
    run_stage(queue)

    found = json.loads(get(client, "/images/duplicates?s3objectkey=one.jpg").body)
    assert found["exact"] == [{"s3objectkey": "uploads/two.jpg", "size": len(original)}]
    near = {n["s3objectkey"]: n["distance"] for n in found["near"]}
    assert "uploads/smaller.jpg" in near and near["uploads/smaller.jpg"] <= 3
    assert "uploads/other.jpg" not in near and found["complete"] is True
    summary = json.loads(get(client, "/summary").body)
    assert summary["duplicates"] == {"groups": 1, "wasted_bytes": len(original)}

    # A third copy, then an overwrite and a delete: every count follows.
    uploader.upload("uploads/three.jpg", original)
    run_stage(queue)
    summary = json.loads(get(client, "/summary").body)
    assert summary["duplicates"] == {"groups": 1, "wasted_bytes": 2 * len(original)}
    old_previews = {k for k in previews_in_bucket(deps) if k.startswith("derived/two.jpg/")}
    assert len(old_previews) == 2
    uploader.upload("uploads/two.jpg", image_bytes("PNG", (50, 50)))
    assert not old_previews & previews_in_bucket(deps)  # the replaced version's are gone
    uploader.remove("uploads/three.jpg")
    run_stage(queue)
    summary = json.loads(get(client, "/summary").body)
    assert summary["duplicates"] == {"groups": 0, "wasted_bytes": 0}
    assert not any(k.startswith("derived/three.jpg/") for k in previews_in_bucket(deps))
    found = json.loads(get(client, "/images/duplicates?s3objectkey=one.jpg").body)
    assert found["exact"] == []


def test_a_failed_send_never_fails_the_metadata_record(deps, client, uploader) -> None:
    # No pixels queue exists: the send fails, the record is stored all the same.
    uploader.upload("uploads/lonely.jpg", jpeg(gradient((64, 64))))
    assert deps.catalog.get("uploads/lonely.jpg")["status"] == "ok"


def test_previews_off(deps, client, uploader, monkeypatch) -> None:
    monkeypatch.setattr(
        deps, "settings", Settings(bucket=BUCKET, table=deps.settings.table, previews=False)
    )
    monkeypatch.setattr(deps, "pixel_hooks", None)
    monkeypatch.setattr(
        deps, "ingestor", type(deps.ingestor)(deps.s3, deps.catalog, BUCKET, "uploads/")
    )
    uploader.upload("uploads/off.jpg", jpeg(gradient((64, 64))))
    response = get(client, "/images/preview?s3objectkey=off.jpg")
    assert response.status_code == 404
    assert "switched off" in json.loads(response.body)["Message"]


def test_settings_refuse_previews_inside_the_uploads_prefix() -> None:
    with pytest.raises(ValueError, match="must not contain each other"):
        Settings.from_env({"IMAGES_PREFIX": "uploads/", "IMAGES_DERIVED_PREFIX": "uploads/prev"})
    with pytest.raises(ValueError, match="must not contain each other"):
        Settings.from_env({"IMAGES_PREFIX": "derived/in/", "IMAGES_DERIVED_PREFIX": "derived/"})
    assert Settings.from_env({"IMAGES_PREVIEWS": "false"}).previews is False
    # A whole-bucket prefix works only with the stage off (previews would be uploads).
    with pytest.raises(ValueError, match="must not contain each other"):
        Settings.from_env({"IMAGES_PREFIX": ""})
    assert Settings.from_env({"IMAGES_PREFIX": "", "IMAGES_PREVIEWS": "off"}).prefix == ""
    assert Settings.from_env({}).previews is True


def test_preview_keys_round_trip_and_the_contract() -> None:
    key = preview_key("derived/", "uploads/", "uploads/a/b.jpg/c.jpg", "abc-2", 256)
    assert key == "derived/a/b.jpg/c.jpg/abc-2/256.webp"
    assert source_of("derived/", "uploads/", key) == ("uploads/a/b.jpg/c.jpg", "abc-2")
    assert source_of("derived/", "uploads/", "derived/x.txt") is None
    assert QUEUED_SIZES == PREVIEW_SIZES
    for phash in ("0123456789abcdef", "ffff0000ffff0000"):
        assert bands(phash) == phash_bands(phash)


def test_send_happens_once_per_ok_record(deps, queue, uploader) -> None:
    uploader.upload("uploads/q.jpg", jpeg(gradient((64, 64))))
    event = uploader.put("uploads/q.jpg", jpeg(gradient((64, 64))))  # same bytes again
    app_module.on_object_created(event, None)
    run_stage(queue)
    # The same bytes keep their pixel facts: a later event needs no new message.
    app_module.on_object_created(
        s3_event("uploads/q.jpg", etag=event["Records"][0]["s3"]["object"]["eTag"]), None
    )
    assert run_stage(queue) == []
    assert deps.catalog.get("uploads/q.jpg")["content_sha256"]


def test_reconcile_queues_missed_records_removes_orphans_and_rebuilds_counts(
    deps, queue, client, uploader
) -> None:
    from chalicelib.reconcile import reconcile

    original = jpeg(shapes((200, 150)))
    uploader.upload("uploads/r1.jpg", original)
    uploader.upload("uploads/r2.jpg", original)
    boto3.client("sqs").purge_queue(QueueUrl=queue)  # the messages are lost
    orphan = "derived/ghost.jpg/0123/256.webp"
    deps.s3.put_object(Bucket=BUCKET, Key=orphan, Body=b"old preview")

    report = reconcile(deps)
    assert report.previews_queued == 2 and report.previews_removed == 1
    assert orphan not in previews_in_bucket(deps)
    run_stage(queue)
    assert json.loads(get(client, "/summary").body)["duplicates"]["groups"] == 1

    # Damaged counters and a lost group item are rebuilt from the records.
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_item(TableName=deps.settings.table, Key={"pk": {"S": "dups#0"}})
    sha = deps.catalog.get("uploads/r1.jpg")["content_sha256"]
    dynamodb.delete_item(TableName=deps.settings.table, Key={"pk": {"S": f"dg#{sha}"}})
    report = reconcile(deps)
    assert report.duplicates_rewritten >= 1 and report.complete
    assert json.loads(get(client, "/summary").body)["duplicates"] == {
        "groups": 1,
        "wasted_bytes": len(original),
    }
    assert reconcile(deps).duplicates_rewritten == 0  # nothing left to repair
    uploader.remove("uploads/r2.jpg")  # and the rebuilt group item is right
    assert json.loads(get(client, "/summary").body)["duplicates"]["groups"] == 0


def test_an_object_archived_since_its_record_gets_a_reason_not_retries(
    deps, queue, client, uploader
) -> None:
    uploader.upload("uploads/cold.jpg", jpeg(shapes((64, 48))))
    deps.s3.copy_object(
        Bucket=BUCKET,
        Key="uploads/cold.jpg",
        CopySource={"Bucket": BUCKET, "Key": "uploads/cold.jpg"},
        StorageClass="GLACIER",
        MetadataDirective="REPLACE",
    )
    assert [o["action"] for o in run_stage(queue)] == ["enriched"]
    record = deps.catalog.get("uploads/cold.jpg")
    assert "archived" in record["preview_error"] and "preview" not in record
    response = get(client, "/images/preview?s3objectkey=cold.jpg")
    assert response.status_code == 404 and "archived" in json.loads(response.body)["Message"]
