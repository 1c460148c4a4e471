"""The DynamoDB catalog against moto: ordering, tombstones, transactions, sharded counters."""

from __future__ import annotations

import random
import time

import boto3
import pytest
from conftest import TABLE

from chalicelib.catalog.catalog import Catalog, CatalogBusyError
from chalicelib.catalog.layout import table_definition
from chalicelib.ingest import normalize_sequencer


def seq(n: int) -> str:
    return normalize_sequencer(f"{n:018X}")  # S3's are 18 hex digits, zero-led


def rec(key: str, size: int, fmt: str = "PNG", status: str = "ok") -> dict:
    record = {
        "s3objectkey": key,
        "size": size,
        "status": status,
        "format": fmt,
        "mime_type": f"image/{fmt.lower()}",
        "width": size,
        "height": 1,
    }
    if status != "ok":
        record.update(format=None, error="bad")
    return record


@pytest.fixture
def make_catalog(aws):
    client = boto3.client("dynamodb")
    client.create_table(**table_definition(TABLE))
    return lambda shards=1: Catalog(client, TABLE, shards=shards, tombstone_ttl=3600)


def test_put_get_and_ordering(make_catalog) -> None:
    catalog = make_catalog()
    assert catalog.put(rec("uploads/a", 10), seq(2)) is True
    assert catalog.put(rec("uploads/a", 99), seq(1)) is False  # older event
    assert catalog.put(rec("uploads/a", 99), seq(2)) is False  # duplicate
    assert catalog.get("uploads/a")["size"] == 10
    assert catalog.put(rec("uploads/a", 20), seq(3)) is True
    assert catalog.get("uploads/a")["size"] == 20
    assert catalog.summary()["total_bytes"] == 20


def test_delete_leaves_an_expiring_tombstone(make_catalog) -> None:
    catalog = make_catalog()
    catalog.put(rec("uploads/a", 10), seq(1))
    assert catalog.delete("uploads/a", seq(2)) is True
    assert catalog.get("uploads/a") is None
    assert catalog.put(rec("uploads/a", 10), seq(1)) is False  # late create: no resurrection
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "image#uploads/a"}})
    expires = int(item["Item"]["expires_at"]["N"])
    assert time.time() < expires <= time.time() + 3600
    assert catalog.summary()["total_images"] == 0


def test_sequencers_of_different_lengths_compare_after_padding() -> None:
    # S3 sequencers grow in length; right-padding keeps lexicographic order true.
    assert normalize_sequencer("0055AED6DCD90281E5") > normalize_sequencer("0055AED6DCD90281E")
    assert normalize_sequencer("0055aed6dcd90281e6") > normalize_sequencer("0055AED6DCD90281E5")
    assert normalize_sequencer(None) == "" and normalize_sequencer("") == ""


@pytest.mark.parametrize("shards", [1, 4])
def test_counters_and_extremes_equal_recomputation(make_catalog, shards: int) -> None:
    catalog = make_catalog(shards)
    rng = random.Random(shards)
    truth: dict[str, dict | None] = {}
    for n in range(1, 120):
        key = f"uploads/{rng.randrange(15)}"
        if rng.random() < 0.25:
            catalog.delete(key, seq(n))
            truth[key] = None
        else:
            status = rng.choice(["ok", "ok", "ok", "corrupt"])
            new = rec(key, rng.randrange(1, 10_000), rng.choice(["PNG", "JPEG"]), status)
            catalog.put(new, seq(n))
            truth[key] = new
    live = [r for r in truth.values() if r]
    ok = [r for r in live if r["status"] == "ok"]

    summary = catalog.summary()

    assert summary["total_images"] == len(ok)
    assert summary["total_bytes"] == sum(r["size"] for r in ok)
    assert summary["corrupt"] == len(live) - len(ok)
    assert summary["biggest"]["size"] == max(r["size"] for r in ok)
    assert summary["smallest"]["size"] == min(r["size"] for r in ok)
    for fmt in ("PNG", "JPEG"):
        expected = [r for r in ok if r["format"] == fmt]
        got = next((t for t in summary["types"] if t["format"] == fmt), {"count": 0, "bytes": 0})
        assert (got["count"], got["bytes"]) == (len(expected), sum(r["size"] for r in expected))
    for key, record in truth.items():
        assert (catalog.get(key) or None) == (record and {**record})


def test_a_concurrent_writer_forces_a_retry_not_drift(make_catalog, monkeypatch) -> None:
    catalog = make_catalog()
    catalog.put(rec("uploads/a", 10), seq(1))
    real_get_item = catalog._get_item
    calls = {"n": 0}

    def racing_get_item(key, consistent):
        item = real_get_item(key, consistent)
        calls["n"] += 1
        if calls["n"] == 1:  # between our read and our write, someone else writes
            Catalog(catalog._client, TABLE).put(rec("uploads/a", 500, "JPEG"), seq(5))
        return item

    monkeypatch.setattr(catalog, "_get_item", racing_get_item)
    assert catalog.put(rec("uploads/a", 30), seq(3)) is False  # retried, then found stale
    summary = catalog.summary()
    assert summary["types"] == [
        {"format": "JPEG", "mime_type": "image/jpeg", "count": 1, "bytes": 500}
    ]


def test_gives_up_after_repeated_conflicts(make_catalog, monkeypatch) -> None:
    catalog = make_catalog()
    catalog.put(rec("uploads/a", 10), seq(1))
    stale_view = catalog._get_item("uploads/a", True) | {"revision": 0}
    monkeypatch.setattr(catalog, "_get_item", lambda key, consistent: stale_view)
    monkeypatch.setattr("chalicelib.catalog.catalog.time.sleep", lambda s: None)
    with pytest.raises(CatalogBusyError):
        catalog.put(rec("uploads/a", 30), seq(3))
    assert catalog.summary()["total_bytes"] == 10
