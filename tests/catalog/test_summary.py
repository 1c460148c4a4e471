"""Summary arithmetic and record value conversions (pure, no AWS)."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from chalicelib.catalog.records import from_dynamo, to_dynamo
from chalicelib.catalog.summary import (
    build_summary,
    contribution,
    counter_changes,
    facet_contribution,
    facet_summary,
    merge_shards,
)


def record(fmt: str | None, size: int, status: str = "ok", **extra) -> dict:
    return {"format": fmt, "size": size, "status": status, "mime_type": f"image/{fmt}", **extra}


def test_contribution_of_each_status() -> None:
    assert contribution(record("JPEG", 10)) == {"status_ok": 1, "count_JPEG": 1, "bytes_JPEG": 10}
    assert contribution(record(None, 7, "corrupt")) == {"status_corrupt": 1}
    assert contribution(record(None, 7, "unreadable")) == {"status_unreadable": 1}
    assert contribution({"status": "deleted"}) == {}
    assert contribution(None) == {}


def test_counter_changes_nets_out_same_format_overwrites() -> None:
    increments, labels = counter_changes(record("PNG", 100), record("PNG", 250))
    assert increments == {"bytes_PNG": 150}
    assert labels == {"mime_PNG": "image/PNG"}


def test_counter_changes_moves_between_formats_and_statuses() -> None:
    increments, _ = counter_changes(record("PNG", 100), record(None, 3, "unsupported"))
    assert increments == {
        "status_ok": -1,
        "count_PNG": -1,
        "bytes_PNG": -100,
        "status_unsupported": 1,
        "sz_0": -1,  # the size bucket of an ok image (below 10 kB)
    }
    assert counter_changes(record("GIF", 5), None)[0] == {
        "status_ok": -1,
        "count_GIF": -1,
        "bytes_GIF": -5,
        "sz_0": -1,
    }


def test_applying_random_changes_equals_recomputation() -> None:
    """Counters kept by deltas must equal counting the final records from scratch."""
    rng = random.Random(7)
    state: dict[str, dict | None] = {}
    counters: dict[str, int] = {}
    for _ in range(500):
        key = f"k{rng.randrange(20)}"
        new = rng.choice(
            [
                None,
                record(rng.choice(["JPEG", "PNG", "GIF"]), rng.randrange(1, 1000)),
                record(None, rng.randrange(100), rng.choice(["corrupt", "unsupported"])),
            ]
        )
        increments, _ = counter_changes(state.get(key), new)
        for name, value in increments.items():
            counters[name] = counters.get(name, 0) + value
        state[key] = new
    expected: dict[str, int] = {}
    for rec in state.values():
        for name, value in {**contribution(rec), **facet_contribution(rec)}.items():
            expected[name] = expected.get(name, 0) + value
    assert {k: v for k, v in counters.items() if v} == expected


def test_merge_shards_adds_counts_and_keeps_labels() -> None:
    merged = merge_shards(
        [
            {
                "pk": "counters#0",
                "count_JPEG": Decimal(2),
                "bytes_JPEG": Decimal(20),
                "mime_JPEG": "image/jpeg",
            },
            {
                "pk": "counters#1",
                "count_JPEG": Decimal(1),
                "bytes_JPEG": Decimal(5),
                "status_corrupt": Decimal(1),
            },
        ]
    )
    assert merged == {
        "count_JPEG": 3,
        "bytes_JPEG": 25,
        "mime_JPEG": "image/jpeg",
        "status_corrupt": 1,
    }


def test_build_summary_sorts_types_by_count_and_skips_empty_formats() -> None:
    counters = {
        "count_PNG": 1,
        "bytes_PNG": 50,
        "mime_PNG": "image/png",
        "count_JPEG": 3,
        "bytes_JPEG": 30,
        "mime_JPEG": "image/jpeg",
        "count_GIF": 0,
        "bytes_GIF": 0,
        "status_unsupported": 2,
        "status_unreadable": 1,
    }
    biggest = {
        "s3objectkey": "uploads/p.png",
        "size": 50,
        "format": "PNG",
        "width": 9,
        "height": 9,
        "mode": "RGB",
    }
    summary = build_summary(counters, biggest, None)
    assert {k: v for k, v in summary.items() if k not in facet_summary(counters)} == {
        "total_images": 4,
        "total_bytes": 80,
        "biggest": {
            "s3objectkey": "uploads/p.png",
            "size": 50,
            "format": "PNG",
            "width": 9,
            "height": 9,
        },
        "smallest": None,
        "types": [
            {"format": "JPEG", "mime_type": "image/jpeg", "count": 3, "bytes": 30},
            {"format": "PNG", "mime_type": "image/png", "count": 1, "bytes": 50},
        ],
        "unsupported": 2,
        "corrupt": 0,
        "unreadable": 1,
    }


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (1.5, Decimal("1.5")),
        (0.1, Decimal("0.1")),  # str() keeps the short form, not the binary expansion
        (math.nan, None),
        (math.inf, None),
        ({"a": [1, 2.5, None]}, {"a": [1, Decimal("2.5"), None]}),
        (True, True),
    ],
)
def test_to_dynamo(value, stored) -> None:
    assert to_dynamo(value) == stored


def test_to_dynamo_refuses_bytes() -> None:
    with pytest.raises(TypeError):
        to_dynamo(b"\x00")


def test_from_dynamo_returns_integers_as_integers() -> None:
    converted = from_dynamo({"w": Decimal("640"), "r": Decimal("2.5"), "l": [Decimal("1")]})
    assert converted == {"w": 640, "r": 2.5, "l": [1]}
    assert isinstance(converted["w"], int) and isinstance(converted["l"][0], int)
