"""Reconcile: backfill a bucket, repair a damaged table, stay safe next to live events."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client
from conftest import BUCKET, TABLE, Uploader
from images import animated_gif, camera_jpeg, image_bytes, jpeg_with_exif, png_with_alpha
from truth import assert_catalog_matches_bucket

import app as app_module
from chalicelib.catalog.summary import FACET_PREFIXES
from chalicelib.reconcile import reconcile

FILES = {
    "uploads/a.jpg": jpeg_with_exif((90, 60)),
    "uploads/b.png": png_with_alpha((30, 30)),
    "uploads/c.gif": animated_gif(),
    "uploads/d.webp": image_bytes("WEBP", (50, 10)),
    "uploads/e.txt": b"hello",
}


def put_without_events(deps, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        deps.s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def test_backfills_a_bucket_that_had_images_before_the_first_deploy(deps) -> None:
    put_without_events(deps, FILES)

    report = reconcile(deps)

    assert (report.listed, report.refreshed, report.removed) == (5, 5, 0)
    assert report.complete
    assert_catalog_matches_bucket(deps)


def test_second_run_changes_nothing(deps) -> None:
    put_without_events(deps, FILES)
    reconcile(deps)

    again = reconcile(deps)

    assert (again.refreshed, again.removed, again.counters_rebuilt) == (0, 0, [])
    assert_catalog_matches_bucket(deps)


def _raw(deps):
    return deps.dynamodb


@pytest.mark.parametrize(
    "damage",
    [
        "record deleted",
        "stale etag",
        "record of a vanished object",
        "counter item deleted",
        "counters wrong",
        "bogus format counter",
        "everything at once",
    ],
)
def test_repairs_a_damaged_table(deps, uploader: Uploader, damage: str) -> None:
    for key, body in FILES.items():
        uploader.upload(key, body)
    client = _raw(deps)
    everything = damage == "everything at once"
    if damage == "record deleted" or everything:
        client.delete_item(TableName=TABLE, Key={"pk": {"S": "image#uploads/a.jpg"}})
    if damage == "stale etag" or everything:
        client.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "image#uploads/b.png"}},
            UpdateExpression="SET etag = :e, width = :w",
            ExpressionAttributeValues={":e": {"S": "0" * 32}, ":w": {"N": "1"}},
        )
    if damage == "record of a vanished object" or everything:
        deps.s3.delete_object(Bucket=BUCKET, Key="uploads/c.gif")  # its event is lost
    if damage == "counter item deleted" or everything:
        client.delete_item(TableName=TABLE, Key={"pk": {"S": "counters#0"}})
    if damage in ("counters wrong", "bogus format counter") or everything:
        client.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "counters#0"}},
            UpdateExpression="SET count_JPEG = :n, bytes_BMP = :n, status_corrupt = :n",
            ExpressionAttributeValues={":n": {"N": "42"}},
        )

    report = reconcile(deps)

    assert report.complete
    assert_catalog_matches_bucket(deps)


def test_stops_early_and_resumes_after_the_last_key(deps) -> None:
    put_without_events(deps, FILES)
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] >= 2

    first = reconcile(deps, should_stop=stop_after_two)
    assert first.resume == {"phase": "objects", "after": "uploads/b.png", "force": False}
    assert not first.complete
    assert deps.catalog.get("uploads/c.gif") is None  # not reached yet

    second = reconcile(deps, start_after=first.resume["after"])

    assert second.complete and second.listed == 3
    assert_catalog_matches_bucket(deps)


def test_a_concurrent_upload_wins_over_reconcile(deps, uploader: Uploader, monkeypatch) -> None:
    put_without_events(deps, {"uploads/race.png": png_with_alpha((10, 10))})
    newer = image_bytes("PNG", (77, 77))
    real_refresh = deps.ingestor.refresh

    def upload_in_between(key, etag, if_revision):
        # After reconcile listed the object, a new version lands and its event is applied.
        uploader.upload(key, newer)
        return real_refresh(key, etag, if_revision)

    monkeypatch.setattr(deps.ingestor, "refresh", upload_in_between)
    report = reconcile(deps)

    assert deps.catalog.get("uploads/race.png")["width"] == 77
    assert report.refreshed == 0
    assert_catalog_matches_bucket(deps)


def test_counter_rebuild_yields_to_concurrent_writes(deps, uploader, monkeypatch) -> None:
    uploader.upload("uploads/a.jpg", FILES["uploads/a.jpg"])
    _raw(deps).delete_item(TableName=TABLE, Key={"pk": {"S": "counters#0"}})
    real_entries = deps.catalog.entries
    scans = {"n": 0}

    def entries_with_a_write_during_the_counting_scan(*args, **kwargs):
        scans["n"] += 1
        yield from real_entries(*args, **kwargs)
        if scans["n"] == 2:  # pass 3 counts the records; someone uploads meanwhile
            uploader.upload("uploads/late.png", png_with_alpha())

    monkeypatch.setattr(deps.catalog, "entries", entries_with_a_write_during_the_counting_scan)
    report = reconcile(deps)

    assert report.counters_busy == [0] and not report.complete
    monkeypatch.undo()
    assert reconcile(deps).complete
    assert_catalog_matches_bucket(deps)


def test_reconcile_lambda_function(deps) -> None:
    put_without_events(deps, FILES)
    with Client(app_module.app) as client:
        result = client.lambda_.invoke("reconcile", {})
    assert result.payload["complete"] is True
    assert result.payload["refreshed"] == len(FILES)
    assert json.dumps(result.payload)  # JSON-serialisable for `chalice invoke`
    assert_catalog_matches_bucket(deps)


def test_force_gives_records_stored_before_search_their_index_items_and_facets(
    deps, uploader: Uploader
) -> None:
    """What the previous version stored: records without `iv`, sort keys, index items or
    facet items (counters only by format and status). FORCE=1 adds them, counted once."""
    uploader.upload("uploads/a.jpg", camera_jpeg(make="Canon", model="EOS R5", keywords=("x",)))
    uploader.upload("uploads/b.png", png_with_alpha())
    client = _raw(deps)
    for raw in client.scan(TableName=TABLE)["Items"]:
        pk = raw["pk"]["S"]
        if pk.startswith(("ix#", "fv#", "fp#", "counters#distinct")):
            client.delete_item(TableName=TABLE, Key={"pk": raw["pk"]})
        elif pk.startswith("image#"):
            for name in ("iv", "taken_sk", "uploaded_sk", "bytes_sk"):
                raw.pop(name, None)
            client.put_item(TableName=TABLE, Item=raw)
        elif pk.startswith("counters#"):
            old = {k: v for k, v in raw.items() if not k.startswith(FACET_PREFIXES)}
            client.put_item(TableName=TABLE, Item=old)
    assert deps.catalog.summary()["cameras"]["distinct"] == 0

    report = reconcile(deps, force=True)

    assert report.complete and report.refreshed == 2
    assert_catalog_matches_bucket(deps)  # records, summary, searches and facets
