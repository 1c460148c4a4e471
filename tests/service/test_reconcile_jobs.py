"""Reconcile jobs in process (moto): the coordinator, the worker through its SQS
handler (driven by the local stack's event source), the job item, the route."""

from __future__ import annotations

import time

import boto3
import pytest
from conftest import BUCKET, TABLE, Uploader
from images import image_bytes
from truth import assert_catalog_matches_bucket

import app as app_module
from chalicelib.catalog.jobs import JobStore
from chalicelib.reconcile_jobs import (
    JobRunningError,
    dead_letter_queue_name,
    parse_work_item,
    run_work_item,
    start_job,
)
from chalicelib.reconcile_payload import InvalidPayloadError
from devstack.provision import provision_reconcile_queues
from devstack.sqs_source import QueueSource, job_parallel

KEYS = [f"uploads/{folder}/{n:03d}.png" for folder in ("a", "b", "c") for n in range(12)]


@pytest.fixture
def work_queue(deps) -> str:
    return provision_reconcile_queues(boto3.session.Session(), deps.settings)


def run_workers(deps, url: str, workers: int, budget: float, job: str, seconds: float = 60) -> dict:
    """The local event source serving the work queue until the job is finished (in
    process, one worker at a time: moto in process is not thread-safe; the local
    stack runs them in parallel)."""
    pump = QueueSource(
        deps.sqs,
        url,
        app_module.reconcile_worker,
        workers,
        budget,
        parallel_of=job_parallel,
        retry_seconds=1,
    )
    pump.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = app_module.job_status(deps, job)
            if status["state"] == "finished":
                return status
            time.sleep(0.1)
        raise AssertionError(f"job not finished: {status}")
    finally:
        pump.stop()


def damaged(deps, uploader: Uploader) -> tuple[int, int]:
    """Missing, stale and ghost records and skewed counters; returns how many
    records to repair, objects deleted, and records to remove."""
    for n, key in enumerate(KEYS):
        body = image_bytes("PNG", (n % 7 + 1, 3))
        if n % 4 == 0:
            deps.s3.put_object(Bucket=BUCKET, Key=key, Body=body)  # missing: no event
        else:
            uploader.upload(key, body)
    stale = KEYS[1:12:4]
    for key in stale:
        deps.s3.put_object(Bucket=BUCKET, Key=key, Body=image_bytes("PNG", (9, 9)))
    ghosts = KEYS[2:36:5]
    for key in ghosts:
        deps.s3.delete_object(Bucket=BUCKET, Key=key)  # their delete events are lost
    deps.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "counters#0"}},
        UpdateExpression="SET count_PNG = :n",
        ExpressionAttributeValues={":n": {"N": "999"}},
    )
    repaired = {*KEYS[::4], *stale} - set(ghosts)
    recorded_ghosts = set(ghosts) - set(KEYS[::4])
    return len(repaired), len(ghosts), len(recorded_ghosts)


def test_a_parallel_job_repairs_the_table_exactly(deps, uploader, work_queue) -> None:
    fixed, ghosts, removed = damaged(deps, uploader)

    job = start_job(deps, parallel=4)

    assert job["state"] == "running" and job["ranges"]["total"] > 4
    status = run_workers(deps, work_queue, 1, 20.0, job["job"])
    assert status["complete"], status
    assert status["objects"]["listed"] == len(KEYS) - ghosts
    assert status["objects"]["refreshed"] == fixed
    assert status["objects"]["removed"] == removed
    assert status["counters_rebuilt"] == [0]
    assert_catalog_matches_bucket(deps)


def test_workers_out_of_time_lose_nothing_and_count_nothing_twice(deps, uploader, work_queue):
    fixed, ghosts, removed = damaged(deps, uploader)
    job = start_job(deps, parallel=2)

    # A few milliseconds per call: every range stops (as at Lambda's timeout) many times.
    status = run_workers(deps, work_queue, 1, 0.08, job["job"], seconds=120)

    assert status["complete"], status
    assert status["ranges"]["total"] > job["ranges"]["total"]  # remainders were split
    assert status["objects"]["listed"] == len(KEYS) - ghosts
    assert status["objects"]["refreshed"] == fixed
    assert status["objects"]["removed"] == removed
    assert_catalog_matches_bucket(deps)
    # Each repaired record was written once: no key was redone with effect.
    for key, entry in deps.catalog.entries():
        if entry.record:
            assert entry.revision <= 2, (key, entry.revision)


def test_a_piece_delivered_twice_counts_once(deps, uploader, work_queue) -> None:
    damaged(deps, uploader)
    job = start_job(deps, parallel=1)
    messages = deps.sqs.receive_message(QueueUrl=work_queue, MaxNumberOfMessages=10)["Messages"]
    items = [parse_work_item(m["Body"]) for m in messages]
    body = next(i.body() for i in items if i.kind == "objects" and i.after)  # a folder

    first = run_work_item(deps, body, 1, should_stop=lambda: False)
    again = run_work_item(deps, body, 2, should_stop=lambda: False)

    assert first == "range done" and again == "already done: dropped"
    status = app_module.job_status(deps, job["job"])
    assert status["ranges"]["done"] == 1
    counted = status["objects"]["listed"]
    assert counted > 0
    # Even when the second delivery does the work again (it raced the first),
    # its report is refused: the counts stay one piece's worth.
    store = JobStore(deps.dynamodb, deps.settings.table)
    piece = parse_work_item(body)
    stats = {"listed": 5, "refreshed": 5, "removed": 0, "unreadable": 0, "failed": 0}
    assert store.record_piece(job["job"], piece.piece, stats, [], piece.range) is None
    assert app_module.job_status(deps, job["job"])["objects"]["listed"] == counted


def test_a_range_that_always_fails_ends_in_the_dead_letter_queue(
    deps, uploader, work_queue, monkeypatch
) -> None:
    damaged(deps, uploader)
    refresh = deps.ingestor.refresh

    def broken(key: str, *args):
        if key == KEYS[0]:
            raise RuntimeError("this object always breaks the worker")
        return refresh(key, *args)

    monkeypatch.setattr(deps.ingestor, "refresh", broken)
    job = start_job(deps, parallel=2)

    status = run_workers(deps, work_queue, 1, 20.0, job["job"])

    assert not status["complete"]
    assert status["ranges"]["dead_lettered"] == 1
    assert "always breaks" in status["dead_lettered"][0]["error"]
    dlq = deps.sqs.get_queue_url(QueueName=dead_letter_queue_name(deps.settings.reconcile_queue))
    time.sleep(1.5)  # the failed message becomes visible again, then SQS moves it
    deps.sqs.receive_message(QueueUrl=work_queue, WaitTimeSeconds=1)
    dead = deps.sqs.receive_message(QueueUrl=dlq["QueueUrl"], WaitTimeSeconds=1)["Messages"]
    assert len(dead) == 1 and status["dead_lettered"][0]["range"] in dead[0]["Body"]


def test_a_second_job_is_refused_while_one_runs(deps, work_queue) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/x.png", Body=image_bytes("PNG"))
    first = start_job(deps, parallel=2)

    with pytest.raises(JobRunningError, match=first["job"]):
        start_job(deps, parallel=2)


def test_the_lambda_function_starts_a_job_with_the_same_options(deps, work_queue) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/x.png", Body=image_bytes("PNG"))

    job = app_module.reconcile_function({"parallel": 3, "force": True}, None)

    assert (job["state"], job["parallel"], job["force"]) == ("running", 3, True)
    for bad in ({"parallel": 0}, {"parallel": "3"}, {"parallel": 2, "start_after": "x"}):
        with pytest.raises(InvalidPayloadError):
            app_module.reconcile_function(bad, None)


def test_route_shows_a_job_404_for_unknown_400_for_malformed(deps, work_queue, client) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/x.png", Body=image_bytes("PNG"))
    job = start_job(deps, parallel=1)

    shown = client.http.get(f"/reconcile/{job['job']}")
    unknown = client.http.get("/reconcile/20200101T000000Z-00000000")
    malformed = client.http.get("/reconcile/not-a-job")

    assert shown.status_code == 200 and shown.json_body["job"] == job["job"]
    assert shown.json_body["ranges"]["total"] == job["ranges"]["total"]
    assert unknown.status_code == 404 and "no reconcile job" in unknown.json_body["Message"]
    assert (
        malformed.status_code == 400 and "not a reconcile job id" in malformed.json_body["Message"]
    )


def test_make_reconcile_on_a_stage_caps_the_workers_event_source(monkeypatch) -> None:
    from ops import reconcile as cli

    calls = []

    class Lambda:
        def list_event_source_mappings(self, FunctionName: str) -> dict:
            calls.append(("list", FunctionName))
            return {"EventSourceMappings": [{"UUID": "u-1"}]}

        def update_event_source_mapping(self, **kwargs) -> None:
            calls.append(("update", kwargs))

    monkeypatch.setattr(boto3, "client", lambda service, **_: Lambda())
    cli.cap_workers("dev", 50)
    cli.cap_workers("dev", 1)  # Lambda's minimum is 2

    assert calls == [
        ("list", "image-metadata-dev-reconcile_worker"),
        ("update", {"UUID": "u-1", "ScalingConfig": {"MaximumConcurrency": 50}}),
        ("list", "image-metadata-dev-reconcile_worker"),
        ("update", {"UUID": "u-1", "ScalingConfig": {"MaximumConcurrency": 2}}),
    ]


def test_the_job_item_stays_small_however_many_ranges_die(deps, work_queue) -> None:
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/x.png", Body=image_bytes("PNG"))
    job = start_job(deps, parallel=1)["job"]
    store = JobStore(deps.dynamodb, deps.settings.table)

    for n in range(60):
        assert store.record_dead(job, f"o{n}", "E" * 2000) is not None
    assert store.record_dead(job, "o0", "again") is None  # once per range

    item = store.job_item(job)
    assert len(item["dead_errors"]) == 50 and int(item["ranges_dead"]) == 60
    assert all(len(error) == 500 for error in item["dead_errors"].values())
    assert app_module.job_status(deps, job)["ranges"]["dead_lettered"] == 60
