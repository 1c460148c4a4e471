"""Every reconcile phase stops in time and resumes where it stopped; payloads are strict."""

from __future__ import annotations

import json

import pytest
from conftest import BUCKET, TABLE, Uploader
from images import image_bytes, png_with_alpha
from truth import assert_catalog_matches_bucket

import app as app_module
from chalicelib.reconcile import reconcile
from chalicelib.reconcile_payload import InvalidPayloadError, Position, parse_payload

KEYS = [f"uploads/{n:02d}.png" for n in range(12)]


def damaged_table(deps, uploader: Uploader) -> None:
    """Work for every phase: unindexed objects, records of vanished objects, wrong counters."""
    for n, key in enumerate(KEYS):
        if n % 3 == 0:
            deps.s3.put_object(Bucket=BUCKET, Key=key, Body=image_bytes("PNG", (n + 1, 5)))
        else:
            uploader.upload(key, image_bytes("PNG", (n + 1, 5)))
    for key in KEYS[1:5]:
        deps.s3.delete_object(Bucket=BUCKET, Key=key)  # their delete events are lost
    deps.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "counters#0"}},
        UpdateExpression="SET count_PNG = :n",
        ExpressionAttributeValues={":n": {"N": "99"}},
    )


class ShrinkingContext:
    """A Lambda context whose remaining time drops by `step` ms at every look."""

    def __init__(self, total: int, step: int) -> None:
        self.remaining, self.step = total, step

    def get_remaining_time_in_millis(self) -> int:
        self.remaining -= self.step
        return self.remaining


def test_every_phase_stops_in_time_and_resumes(deps, uploader: Uploader) -> None:
    damaged_table(deps, uploader)
    phases, payload, invocations = [], {}, 0
    while True:
        # 140 s of Lambda time (a 30 s margin), 20 s per look: five keys per invocation.
        result = app_module.reconcile_function(payload, ShrinkingContext(140_000, 20_000))
        result = json.loads(json.dumps(result))  # what `chalice invoke` prints
        invocations += 1
        if result["complete"]:
            break
        phases.append(result["resume"]["phase"])
        payload = {"resume": result["resume"]}
        assert invocations < 50

    assert {"objects", "records", "counters"} <= set(phases)
    assert phases == sorted(phases, key=["objects", "records", "counters"].index)
    assert_catalog_matches_bucket(deps)


def test_a_write_during_a_resumed_count_leaves_the_shard_alone(deps, uploader) -> None:
    damaged_table(deps, uploader)
    reconcile(deps, should_stop=lambda: False)  # repaired
    deps.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "counters#0"}})
    looks = {"n": 0}

    def stop_in_the_count() -> bool:
        looks["n"] += 1
        return looks["n"] == 3

    stopped = reconcile(deps, resume=Position("counters"), should_stop=stop_in_the_count)
    assert stopped.resume["phase"] == "counters" and stopped.resume["counts"]
    uploader.upload("uploads/late.png", png_with_alpha())  # between two invocations

    resumed = reconcile(deps, resume=parse_payload({"resume": stopped.resume}, 1))

    assert resumed.counters_busy == [0] and not resumed.complete
    assert reconcile(deps).complete
    assert_catalog_matches_bucket(deps)


def test_force_false_as_a_string_is_an_error_not_force(deps, uploader) -> None:
    uploader.upload("uploads/a.png", png_with_alpha())
    with pytest.raises(InvalidPayloadError, match="force must be true or false"):
        app_module.reconcile_function({"force": "false"}, ShrinkingContext(900_000, 1))
    result = app_module.reconcile_function({"force": False}, ShrinkingContext(900_000, 1))
    assert result["complete"] and result["refreshed"] == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"force": "true"}, "force must be true or false"),
        ({"force": 1}, "force must be true or false"),
        ({"force": None}, "force must be true or false"),
        ({"start_after": 5}, "start_after must be a string"),
        ({"start_after": "a" * 2000}, "longer than 1024 bytes"),
        ({"startAfter": "x"}, "unknown field 'startAfter'"),
        (["force"], "JSON object"),
        ({"resume": "objects"}, "resume must be the JSON object"),
        ({"resume": {"phase": "scan", "after": "", "force": False}}, "resume.phase"),
        ({"resume": {"phase": "objects", "after": "", "force": False}, "force": True}, "alone"),
        ({"resume": {"phase": "records", "after": "", "force": "no"}}, "force must be"),
        ({"resume": {"phase": "counters", "after": "k", "force": False}}, "counts and versions"),
        (
            {
                "resume": {
                    "phase": "counters",
                    "after": "k",
                    "force": False,
                    "counts": {"0": {}, "1": {}},
                    "versions": {"0": 1, "1": None},
                }
            },
            "shards 0 to 0",
        ),
        (
            {
                "resume": {
                    "phase": "counters",
                    "after": "k",
                    "force": False,
                    "counts": {"0": {"count_PNG": "many"}},
                    "versions": {"0": True},
                }
            },
            "resume.versions",
        ),
    ],
)
def test_payloads_are_parsed_strictly(payload, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=message):
        parse_payload(payload, shards=1)


def test_a_resume_point_round_trips_through_json() -> None:
    position = Position("counters", "uploads/k.png", True, {0: {"count_PNG": 2}}, {0: 7})
    again = parse_payload(json.loads(json.dumps({"resume": position.to_json()})), shards=1)
    assert again == position
