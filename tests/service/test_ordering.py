"""Exactness under S3's delivery: duplicated, reordered, interleaved and concurrent events.

Histories of put/overwrite/delete over a few keys are played against S3
(moto), and their events are delivered to the app's handlers duplicated, out
of order, late, and from many threads at once. Afterwards the records and
`GET /summary` must equal a recomputation from the bucket's final contents.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import random
import threading
import time
from typing import Any
from unittest import mock

import boto3
import pytest
from chalice.test import Client
from conftest import BUCKET, TABLE, s3_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from images import animated_gif, camera_jpeg, image_bytes, png_with_alpha
from moto import mock_aws
from truth import assert_catalog_matches_bucket, truth

import app as app_module
from chalicelib.catalog.layout import table_definition
from chalicelib.dependencies import Dependencies
from chalicelib.extraction.extract import extract_metadata
from chalicelib.settings import Settings

KEYS = ["uploads/a.png", "uploads/b", "uploads/c d.jpg"]
CONTENTS = [
    png_with_alpha((10, 10)),
    png_with_alpha((40, 30)),
    image_bytes("JPEG", (64, 64)),
    image_bytes("JPEG", (64, 64)),  # same bytes again: same ETag, a new version all the same
    animated_gif(),
    camera_jpeg(
        (30, 20), "Canon", "Canon EOS R5", "RF 50", "2024:05:01 10:00:00", (48.85, 2.35), ("Beach",)
    ),
    camera_jpeg((20, 30), "NIKON", "Z 6", None, "2023:12:24 20:00:00", None, ("beach", "Family")),
    b"plain text, unsupported",
    image_bytes("JPEG")[:90],  # corrupt
]
# Histories: (key index, content index or None for a delete, events to deliver right after).
OPERATIONS = st.lists(
    st.tuples(
        st.integers(0, len(KEYS) - 1),
        st.one_of(st.none(), st.integers(0, len(CONTENTS) - 1)),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=10,
)


class History:
    """Plays operations against S3 and keeps the events S3 would send."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.events: list[dict] = []
        self._sequencers = itertools.count(1)

    def apply(self, key: str, content: int | None) -> None:
        sequencer = f"{next(self._sequencers):018X}"  # S3's: fixed width, increasing per key
        if content is None:
            self.s3.delete_object(Bucket=BUCKET, Key=key)
            self.events.append(s3_event(key, "ObjectRemoved:Delete", sequencer=sequencer))
        else:
            etag = self.s3.put_object(Bucket=BUCKET, Key=key, Body=CONTENTS[content])["ETag"]
            self.events.append(
                s3_event(key, "ObjectCreated:Put", etag=etag.strip('"'), sequencer=sequencer)
            )


@pytest.fixture(scope="module")
def credentials():
    """Fake credentials for the whole module; each example brings its own moto state."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            patch.setenv(name, value)
        yield


def deliver(event: dict) -> None:
    name = event["Records"][0]["eventName"]
    handler = (
        app_module.on_object_created
        if name.startswith("ObjectCreated")
        else (app_module.on_object_removed)
    )
    handler(event, None)


def fresh_stack(shards: int = 1) -> Dependencies:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return Dependencies(Settings(bucket=BUCKET, table=TABLE, counter_shards=shards))


def summary_over_http() -> dict:
    with Client(app_module.app) as client:
        response = client.http.get("/summary", headers={"Accept": "*/*"})
    assert response.status_code == 200
    return json.loads(response.body)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations=OPERATIONS, shards=st.sampled_from([1, 3]), data=st.data())
def test_any_delivery_order_converges_to_the_bucket(credentials, operations, shards, data) -> None:
    with mock_aws():
        deps = fresh_stack(shards)
        with mock.patch.object(app_module, "deps", deps):
            history = History(deps.s3)
            pending: list[dict] = []
            for key_index, content, deliver_now in operations:
                if content is None and not _exists(deps, KEYS[key_index]):
                    continue  # S3 only reports deletes of objects that exist
                history.apply(KEYS[key_index], content)
                pending.append(history.events[-1])
                # Some events go out right away, in any order: a delete may
                # overtake its create, a straggler may arrive much later.
                for _ in range(min(deliver_now, len(pending))):
                    deliver(pending.pop(data.draw(st.integers(0, len(pending) - 1))))
            # The rest, plus duplicates of anything (at-least-once), shuffled.
            duplicates = (
                data.draw(st.lists(st.sampled_from(history.events), max_size=8))
                if history.events
                else []
            )
            for event in data.draw(st.permutations(pending + duplicates)):
                deliver(event)

            assert_catalog_matches_bucket(deps, summary_over_http())


def _exists(deps: Dependencies, key: str) -> bool:
    return deps.s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0) > 0


class Serialized:
    """Per-call atomicity, as DynamoDB gives it (moto does not isolate concurrent
    transactions), with a random pause after each call to widen the race windows
    between a handler's read and its conditional write."""

    def __init__(self, client: Any, lock: threading.Lock, rng: random.Random) -> None:
        self._client, self._lock, self._rng = client, lock, rng

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = attribute(*args, **kwargs)
            time.sleep(self._rng.uniform(0, 0.005))
            return result

        return call


def test_concurrent_uploads_and_deliveries_converge(credentials) -> None:
    """Uploads keep coming while 8 workers deliver their events (duplicated, late),
    so a handler can read one version while a newer one is being written."""
    rng = random.Random(1234)
    with mock_aws():
        deps = fresh_stack()
        lock = threading.Lock()
        # Before first use: the handlers only ever see the serialized clients.
        deps.dynamodb = Serialized(deps.dynamodb, lock, rng)
        deps.s3 = Serialized(deps.s3, lock, rng)
        history = History(deps.s3)
        work: queue.Queue[dict | None] = queue.Queue()
        errors: list[Exception] = []

        def produce() -> None:
            for _ in range(60):
                key = rng.choice(KEYS)
                if rng.random() < 0.25 and _exists(deps, key):
                    history.apply(key, None)
                else:
                    history.apply(key, rng.randrange(len(CONTENTS)))
                for _ in range(rng.randint(1, 3)):  # at least once
                    work.put(history.events[-1])
                time.sleep(rng.uniform(0, 0.004))

        def consume() -> None:
            while (event := work.get()) is not None:
                try:
                    if rng.random() < 0.2:
                        work.put(event)  # delivered late, behind newer events
                    else:
                        deliver(event)
                except Exception as error:  # noqa: BLE001 - surfaced below, with the others
                    errors.append(error)
                finally:
                    work.task_done()

        with mock.patch.object(app_module, "deps", deps):
            workers = [threading.Thread(target=consume) for _ in range(8)]
            for worker in workers:
                worker.start()
            produce()
            work.join()  # every event delivered, the late ones included
            for _ in workers:
                work.put(None)
            for worker in workers:
                worker.join(timeout=120)
            assert not errors, errors
            assert_catalog_matches_bucket(deps, summary_over_http())


def test_a_version_written_during_extraction_wins(credentials) -> None:
    """The race the sequencer exists for: while a handler extracts version 1, version 2
    is uploaded and fully processed; version 1's write must then be refused."""
    with mock_aws():
        deps = fresh_stack()
        history = History(deps.s3)
        history.apply(KEYS[0], 0)
        first = history.events[-1]
        real_extract = extract_metadata
        raced = []

        def extract_while_a_newer_version_lands(fp):
            metadata = real_extract(fp)  # version 1's bytes are read
            if not raced:
                raced.append(True)
                history.apply(KEYS[0], 1)
                deliver(history.events[-1])  # version 2, start to finish
            return metadata

        with (
            mock.patch.object(app_module, "deps", deps),
            mock.patch("chalicelib.ingest.extract_metadata", extract_while_a_newer_version_lands),
        ):
            deliver(first)
            assert deps.catalog.get(KEYS[0])["width"] == 40  # CONTENTS[1] is 40x30
            assert_catalog_matches_bucket(deps, summary_over_http())


# --- the pixel stage: its messages are at-least-once and unordered too ------------------


def assert_pixels_match_bucket(deps: Dependencies) -> None:
    """Every `ok` record has the hashes of its object's bytes; the duplicate summary,
    the stored duplicate items and the previews in the bucket equal recomputing them."""
    from chalicelib.catalog import duplicates
    from chalicelib.pixel_queue import preview_keys

    records, _ = truth(deps)
    stored = {key: deps.catalog.get(key) for key in records}
    sizes: dict[str, list[int]] = {}
    for key, record in records.items():
        if record["status"] != "ok":
            continue
        body = deps.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        sha = hashlib.sha256(body).hexdigest()
        assert stored[key]["content_sha256"] == sha, key
        sizes.setdefault(sha, []).append(len(body))
    groups = [s for s in sizes.values() if len(s) >= 2]
    assert summary_over_http()["duplicates"] == {
        "groups": len(groups),
        "wasted_bytes": sum((len(s) - 1) * s[0] for s in groups),
    }
    expected = duplicates.truth((k, r) for k, r in stored.items() if r)
    assert set(deps.catalog.duplicates._stored()) == set(expected)
    listing = deps.s3.list_objects_v2(Bucket=BUCKET, Prefix="derived/").get("Contents", [])
    s = deps.settings
    wanted = {p for r in stored.values() for p in preview_keys(s.derived_prefix, s.prefix, r)}
    assert {o["Key"] for o in listing} == wanted


class PixelMessages:
    """What the pixel queue received, drained into a list to deliver in any order."""

    def __init__(self, deps: Dependencies) -> None:
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName=deps.settings.pixels_queue)["QueueUrl"]
        self.seen: list[dict] = []

    def drain(self) -> list[dict]:
        found = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                record = {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                }
                found.append({"Records": [record]})
        self.seen += found
        return found


def deliver_any(event: dict) -> None:
    if "s3" in event["Records"][0]:
        deliver(event)
    else:
        app_module.pixels_stage(event, None)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS, shards=st.sampled_from([1, 3]), data=st.data())
def test_pixel_messages_in_any_order_keep_duplicates_exact(
    credentials, operations, shards, data
) -> None:
    with mock_aws():
        deps = fresh_stack(shards)
        with mock.patch.object(app_module, "deps", deps):
            pixels = PixelMessages(deps)
            history = History(deps.s3)
            pending: list[dict] = []
            for key_index, content, deliver_now in operations:
                if content is None and not _exists(deps, KEYS[key_index]):
                    continue
                history.apply(KEYS[key_index], content)
                pending.append(history.events[-1])
                for _ in range(min(deliver_now, len(pending))):
                    deliver_any(pending.pop(data.draw(st.integers(0, len(pending) - 1))))
                    pending += pixels.drain()  # pixel messages join the unordered crowd
            everything = history.events + pixels.seen
            duplicates = (
                data.draw(st.lists(st.sampled_from(everything), max_size=8)) if everything else []
            )
            for event in data.draw(st.permutations(pending + duplicates)):
                deliver_any(event)
            # What the last deliveries queued, until nothing is left (Lambda would poll on).
            while late := pixels.drain():
                for event in late:
                    deliver_any(event)
            assert_catalog_matches_bucket(deps, summary_over_http())
            assert_pixels_match_bucket(deps)
