"""The coordinator's ranges: every key under the prefix in exactly one range,
about as many ranges as asked for, split at keys found by StartAfter probes."""

from __future__ import annotations

import pytest
from conftest import BUCKET

from chalicelib.reconcile_split import KeyRange, midpoint, plan_ranges, split_remainder

KEYS = (
    [f"uploads/img{n:05d}.jpg" for n in range(120)]
    + [f"uploads/2024/{n:03d}.png" for n in range(20)]
    + ["uploads/é.jpg", "uploads/zz.jpg", "uploads/~tilde.gif"]
)


@pytest.fixture
def bucket(s3):
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    return s3


def holds(piece: KeyRange, key: str) -> bool:
    return key > piece.after and (not piece.upto or key <= piece.upto)


@pytest.mark.parametrize("want", [1, 5, 16])
def test_every_key_is_in_exactly_one_range(bucket, want: int) -> None:
    ranges = plan_ranges(bucket, BUCKET, "uploads/", want)

    assert 1 <= len(ranges) <= want
    assert len(ranges) >= min(want, 4)  # it does split
    for key in [*KEYS, "uploads/", "uploads/zzzz-written-later.jpg", "uploads/\U0010ffff"]:
        assert sum(holds(r, key) for r in ranges) == 1, key
    assert ranges[0].after == "" and ranges[-1].upto == ""  # keys written later are covered


def test_an_empty_prefix_is_one_range(s3) -> None:
    assert plan_ranges(s3, BUCKET, "uploads/", 8) == [KeyRange("", "")]


def test_a_remainder_splits_at_a_key_above_its_middle(bucket) -> None:
    rest = KeyRange("uploads/img00029.jpg", "uploads/img00119.jpg")

    left, right = split_remainder(bucket, BUCKET, "uploads/", rest)

    assert (left.after, right.upto) == (rest.after, rest.upto) and left.upto == right.after
    inside = [k for k in KEYS if holds(rest, k)]
    assert {k for k in inside if holds(left, k)} and {k for k in inside if holds(right, k)}
    assert len(split_remainder(bucket, BUCKET, "uploads/", KeyRange("uploads/zz", ""))) == 1


@pytest.mark.parametrize(
    ("low", "high"), [("a", "b"), ("uploads/a", "uploads/z"), ("img001", "img999"), ("x", "x~")]
)
def test_midpoint_lies_between(low: str, high: str) -> None:
    middle = midpoint(low, high)
    assert low <= middle < high
    assert midpoint(high, low) == high  # no range: no split
