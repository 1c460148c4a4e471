"""A reconcile job's final step in process (moto): tallies by Scan segment in
resumable pieces, merges by counter shard, close (chalicelib/reconcile_finish.py).

The work items are run by hand from the queue so that a test chooses which
piece runs out of time, which is delivered twice, and when a live write lands.
"""

from __future__ import annotations

import boto3
import pytest
from conftest import BUCKET, PREFIX, TABLE
from images import camera_jpeg, image_bytes
from truth import assert_catalog_matches_bucket

from chalicelib import pixel_reconcile, reconcile_finish
from chalicelib.catalog import duplicates, partials, repair
from chalicelib.catalog.layout import decode, shard_of
from chalicelib.reconcile_jobs import parse_work_item, run_work_item, start_job
from chalicelib.settings import Settings
from devstack.provision import provision_reconcile_queues

SHARDS = 3
CAMERAS = [("Canon", "EOS R5"), ("Nikon", "Z 6"), ("Sony", "A7 IV"), ("Fuji", "X-T5")]
KEYWORDS = ["beach", "city", "dog", "snow", "night"]


@pytest.fixture
def settings() -> Settings:
    return Settings(bucket=BUCKET, table=TABLE, prefix=PREFIX, counter_shards=SHARDS)


@pytest.fixture
def work_queue(deps) -> str:
    return provision_reconcile_queues(boto3.session.Session(), deps.settings)


class Killed(Exception):
    """A worker stopped by Lambda's timeout (simulated)."""


def drain(deps, url: str, stop=lambda item, again: False, redeliver=lambda item: False) -> list:
    """Run the queued work items until none is left. `stop(item, again)`: whether the
    piece's time is up (asked after each item it handles; `again`: on its second
    attempt); `redeliver(item)`: its first attempt died after its work, so SQS
    delivers it again (receive count 2)."""
    outcomes = []
    for _ in range(3000):
        messages = deps.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
        if not messages:
            return outcomes
        for message in messages:
            body, item = message["Body"], parse_work_item(message["Body"])
            for attempt in (1, 2) if redeliver(item) else (1,):
                late = attempt == 2
                try:
                    run = run_work_item(deps, body, attempt, lambda i=item, t=late: stop(i, t))
                except Killed:  # after its work, before queueing the rest: SQS delivers again
                    run = run_work_item(deps, body, 2, lambda i=item: stop(i, True))
                outcomes.append((item.kind, run))
            deps.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue never emptied")


def photos(deps, uploader) -> None:
    for n in range(14):
        key = f"{PREFIX}{'abc'[n % 3]}/{n:02d}.jpg"
        if n % 6 == 5:
            uploader.upload(key.replace(".jpg", ".png"), image_bytes("PNG", (n + 1, 4)))
            continue
        make, model = CAMERAS[n % len(CAMERAS)]
        body = camera_jpeg(
            (16 + n % 4, 12),
            make=make,
            model=model,
            lens=f"Lens {n % 2}",
            taken=f"202{n % 3}:0{n % 9 + 1}:1{n % 7} 10:00:00",
            keywords=tuple(KEYWORDS[n % 5 : n % 5 + 2]),
        )
        uploader.upload(key, body)
        # The pixel stage's hashes, by the bytes' size: duplicate groups form.
        entry = deps.catalog.entry(key)
        size = entry.record["size"]
        hashes = {"content_sha256": f"{size:064x}", "phash": f"{size:08x}{n:08x}"}
        assert deps.catalog.enrich(key, entry.record["etag"], entry.sequencer, hashes)


ORPHANS = [f"derived/{folder}/{n:02d}.jpg/0123/256.webp" for folder in "abcz" for n in range(3)]


def previews(deps) -> set[str]:
    """Orphan previews (no record, or another ETag) and live ones; returns the live ones."""
    live = set()
    for key in (f"{PREFIX}a/00.jpg", f"{PREFIX}b/01.jpg"):
        etag = deps.catalog.get(key)["etag"]
        live.add(f"derived/{key[len(PREFIX) :]}/{etag}/256.webp")
    for key in [*ORPHANS, *live]:
        deps.s3.put_object(Bucket=BUCKET, Key=key, Body=b"webp")
    return live


def stored_facets(deps) -> dict[str, dict]:
    items = deps.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {
        item["pk"]: item
        for item in map(decode, items)
        if item["pk"].startswith(("fv#", "fp#")) or item["pk"] == "counters#distinct"
    }


def damage(deps) -> None:
    """Skewed counters, missing, wrong and ghost value items, a wrong and a missing
    presence item, a wrong distinct counter, a value item of a shard that no
    longer exists."""
    stored = stored_facets(deps)
    values = sorted(pk for pk in stored if pk.startswith("fv#"))
    put = lambda item: deps.dynamodb.put_item(TableName=TABLE, Item=item)  # noqa: E731
    set_ = lambda pk, expression, values: deps.dynamodb.update_item(  # noqa: E731
        TableName=TABLE,
        Key={"pk": {"S": pk}},
        UpdateExpression=expression,
        ExpressionAttributeValues=values,
    )
    set_("counters#1", "SET count_JPEG = :n", {":n": {"N": "999"}})
    set_("counters#distinct", "SET distinct_keyword = :n", {":n": {"N": "77"}})
    set_(values[0], "SET n = :n, b = :n", {":n": {"N": "41"}})
    deps.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": values[1]}})
    for pk, fk in (("fv#camera#2#ghost", "camera#2"), ("fv#lens#7#old", "lens#7")):
        put({"pk": {"S": pk}, "fk": {"S": fk}, "v": {"S": pk[-5:]}, "n": {"N": "5"}})
    put({"pk": {"S": "fp#camera#ghost"}, "shards": {"NS": ["2"]}, "ver": {"N": "1"}})
    presence = next(pk for pk in sorted(stored) if pk.startswith("fp#keyword#"))
    set_(presence, "ADD shards :s", {":s": {"NS": ["1", "2"]}})
    missing = next(pk for pk in sorted(stored) if pk.startswith("fp#camera#"))
    deps.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": missing}})
    # Duplicate items: a wrong group, a missing member, a ghost band, skewed counters.
    dups = sorted(duplicate_items(deps))
    group, member = (next(pk for pk in dups if pk.startswith(p)) for p in ("dg#", "dx#"))
    set_(group, "SET n = :n", {":n": {"N": "9"}})
    deps.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": member}})
    put({"pk": {"S": "pb#0:ffff#ffff#uploads/x.jpg"}, "ix": {"S": "phash=0:ffff"}})
    set_("dups#0", "SET dup_groups = :n", {":n": {"N": "40"}})


def duplicate_items(deps) -> dict[str, dict]:
    items = map(decode, deps.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"])
    return {i.pop("pk"): i for i in items if i["pk"].startswith(("dg#", "dx#", "pb#"))}


def assert_rebuilt_exactly(deps, searches: bool = False) -> None:
    """Facet items and counters equal recomputing them from the bucket (tests/truth.py)
    and the catalog's own recomputation from the records, item by item; so do the
    duplicate items and counters."""
    assert_catalog_matches_bucket(deps, searches=searches)
    live = [(key, entry.record) for key, entry in deps.catalog.entries() if entry.record]
    want = repair.facet_truth((shard_of(key, SHARDS), record) for key, record in live)
    assert repair.differences(stored_facets(deps), want) == []
    groups: dict[str, list[int]] = {}
    for _, record in live:
        if record.get("content_sha256"):
            groups.setdefault(record["content_sha256"], []).append(record["size"])
    assert deps.catalog.summary()["duplicates"] == {
        "groups": sum(len(sizes) > 1 for sizes in groups.values()),
        "wasted_bytes": sum((len(s) - 1) * s[0] for s in groups.values() if len(s) > 1),
    }
    as_text = lambda items: {pk: {k: str(v) for k, v in i.items()} for pk, i in items.items()}  # noqa: E731
    assert as_text(duplicate_items(deps)) == as_text(duplicates.truth(live))
    assert "fv#lens#7#old" not in stored_facets(deps)


def test_the_final_step_rebuilds_a_damaged_table_exactly(deps, uploader, work_queue) -> None:
    photos(deps, uploader)
    damage(deps)

    job = start_job(deps, parallel=3)
    outcomes = drain(deps, work_queue)

    status = app_job(deps, job["job"])
    assert status["complete"], status
    final_step = {"segments": 2, "segments_tallied": 2, "merges": 3, "merges_done": 3}
    assert final_step.items() <= status["final_step"].items()
    assert [kind for kind, _ in outcomes].count("merge") == SHARDS
    assert [kind for kind, _ in outcomes].count("close") == 1
    assert status["counters_rebuilt"] == [1]
    assert status["facets_rewritten"] >= 7  # 2 value items, 2 ghosts, old shard, fp, distinct
    assert_rebuilt_exactly(deps)
    assert deps.catalog.summary()["duplicates"]["groups"] >= 2


def test_pieces_out_of_time_killed_or_delivered_twice_count_nothing_twice(
    deps, uploader, work_queue, monkeypatch
) -> None:
    photos(deps, uploader)
    damage(deps)
    monkeypatch.setattr(partials, "CHUNK_BYTES", 300)  # parts span several items
    # More duplicate buckets than counter shards: 5 merges, 3 of them with a shard.
    monkeypatch.setattr(reconcile_finish, "RECORDS_PER_DUPLICATE_BUCKET", 3)
    final = ("tally", "merge", "close", "sweep")
    kept = previews(deps)
    handled, sent, killed, tried = iter(range(10**6)), iter(range(10**6)), [], set()
    send_items = reconcile_finish.send_items

    def killed_sometimes(deps, items) -> None:
        # The first time and every fifth time a tally or sweep piece would queue
        # its rest, its worker dies (its redelivery is let through).
        kind, piece = items[0].kind, (items[0].range, items[0].seq)
        if kind in ("tally", "sweep") and items[0].seq and piece not in tried:
            tried.add(piece)
            if kind not in killed or next(sent) % 5 == 0:
                killed.append(kind)
                raise Killed
        send_items(deps, items)

    monkeypatch.setattr(reconcile_finish, "send_items", killed_sometimes)
    monkeypatch.setattr(pixel_reconcile, "send_items", killed_sometimes)  # the sweep's

    job = start_job(deps, parallel=2)
    outcomes = drain(
        deps,
        work_queue,
        # Every tally and sweep piece stops after a few items; every third final
        # piece is delivered twice, the second attempt running to the end.
        stop=lambda item, again: (
            item.kind in ("tally", "sweep") and not again and next(handled) % 6 == 0
        ),
        redeliver=lambda item: item.kind in final and item.seq % 3 == 0,
    )

    status = app_job(deps, job["job"])
    assert status["complete"], status
    assert {"tally", "sweep"} <= set(killed)
    tallies = [outcome for kind, outcome in outcomes if kind == "tally"]
    assert sum("time is up" in outcome for outcome in tallies) > 10
    assert any("another delivery" in outcome for outcome in tallies)
    assert any("already merged" in outcome for kind, outcome in outcomes if kind == "merge")
    assert status["final_step"]["merges"] == status["final_step"]["merges_done"] == 5
    assert status["final_step"]["sweep_ranges"] >= 2
    assert status["final_step"]["sweep_ranges_done"] == status["final_step"]["sweep_ranges"]
    # Never counted twice; a redelivery's own deletions are not counted (its report is refused).
    assert 0 < status["previews_removed"] <= len(ORPHANS)
    listed = deps.s3.list_objects_v2(Bucket=BUCKET, Prefix="derived/").get("Contents", [])
    assert {obj["Key"] for obj in listed} == kept
    heads = [
        decode(item)
        for item in deps.dynamodb.scan(TableName=TABLE)["Items"]
        if item["pk"]["S"].startswith(partials.HEAD_PREFIX)
    ]
    assert any(int(n) > 1 for head in heads for n in head["chunks"].values())
    assert all(int(head["expires_at"]) > 0 for head in heads)
    assert_rebuilt_exactly(deps)


def test_a_write_during_the_count_leaves_its_shard_alone(deps, uploader, work_queue) -> None:
    photos(deps, uploader)
    for shard in range(SHARDS):  # skewed: each is rebuilt unless a write comes in
        deps.dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": f"counters#{shard}"}},
            UpdateExpression="SET status_ok = :n",
            ExpressionAttributeValues={":n": {"N": "500"}},
        )
    wrong = next(pk for pk in sorted(stored_facets(deps)) if pk.startswith("fv#camera#0#"))
    deps.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": wrong}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "41"}},
    )
    keys = (f"{PREFIX}live/{n}.png" for n in range(99))
    key = next(k for k in keys if shard_of(k, SHARDS) == 0)
    written = []

    def upload_once(item, again) -> bool:
        if item.kind == "tally" and not written:  # after the versions were read
            uploader.upload(key, image_bytes("PNG", (5, 5)))
            written.append(key)
        return False

    job = start_job(deps, parallel=3)
    drain(deps, work_queue, stop=upload_once)

    status = app_job(deps, job["job"])
    assert written and not status["complete"]
    assert status["counters_busy"] == [0]
    assert status["counters_rebuilt"] == [1, 2]
    assert status["facets_busy"]
    assert int(stored_facets(deps)[wrong]["n"]) == 41  # the value items of shard 0 too
    counters = deps.catalog.counter_shards()
    assert int(counters[0]["status_ok"]) == 501  # left alone: the skew plus the live write
    ok = [entry for key, entry in deps.catalog.entries() if entry.record]
    assert sum(int(counters[n]["status_ok"]) for n in (1, 2)) == len(ok) - sum(
        1 for key, entry in deps.catalog.entries() if entry.record and shard_of(key, SHARDS) == 0
    )


def app_job(deps, job: str) -> dict:
    import app as app_module

    return app_module.job_status(deps, job)


def test_the_status_line_shows_the_final_steps_progress(deps, uploader, work_queue) -> None:
    from ops.reconcile_status import progress_line

    deps.s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}x.png", Body=image_bytes("PNG"))
    job = start_job(deps, parallel=1)
    drain(deps, work_queue)

    line = progress_line({**app_job(deps, job["job"]), "state": "finishing"})

    assert "2/2 ranges" in line  # one objects range, one records segment
    assert line.endswith("finishing (tallied 1/1, merged 3/3, swept 1/1)")


def test_a_final_piece_that_keeps_failing_ends_the_job_not_complete(
    deps, work_queue, monkeypatch
) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}x.png", Body=image_bytes("PNG"))

    def unreadable(*args, **kwargs):
        raise RuntimeError("the segment cannot be read")

    monkeypatch.setattr(reconcile_finish, "scan_items", unreadable)
    job = start_job(deps, parallel=1)
    failed = []
    while messages := deps.sqs.receive_message(QueueUrl=work_queue).get("Messages"):
        for message in messages:
            try:  # every delivery is its last allowed one (receive count 3)
                run_work_item(deps, message["Body"], 3, lambda: False)
            except RuntimeError as error:
                failed.append(str(error))
            deps.sqs.delete_message(QueueUrl=work_queue, ReceiptHandle=message["ReceiptHandle"])

    status = app_job(deps, job["job"])
    assert failed == ["the segment cannot be read"]
    assert status["state"] == "finished" and not status["complete"]
    assert status["dead_lettered"] == [
        {"range": "t0", "error": "RuntimeError: the segment cannot be read"}
    ]
