"""Reconcile jobs on the real local stack: a bucket of a few thousand objects
with a damaged table, repaired exactly by a parallel job (the CLI starts it,
the stack's work-queue event source runs the workers) while uploads and
deletes go on through the event pump; `make reconcile-status` and
`GET /reconcile/{job}` show it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import truth
from images import image_bytes
from stackrunner import ROOT, Stack, fresh_environment, running_stack

from chalicelib.dependencies import Dependencies
from chalicelib.settings import Settings

BUCKET, TABLE = "images-local", "image-metadata-local"  # the `local` stage's
OBJECTS = 360  # a few seconds of work per job; 4 workers, a 4 s budget: many pieces
BODIES = [image_bytes(fmt, (n + 1, 2)) for n, fmt in enumerate(["PNG", "GIF", "BMP", "PNG", "GIF"])]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("reconcile-jobs")
    # A short budget per worker call: ranges stop and go on many times, as at Lambda's timeout.
    # The pixel stage is off: its writes after a backfill would make the job's duplicate
    # rebuild wait (`duplicates_busy`, as designed), so "complete" would depend on timing.
    with running_stack(
        folder, RECONCILE_BUDGET_SECONDS="4", RECONCILE_WORKERS="4", IMAGES_PREVIEWS="false"
    ) as running:
        yield running


@pytest.fixture
def deps(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Dependencies:
    endpoint = f"http://127.0.0.1:{stack.aws_port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(truth, "BUCKET", BUCKET)
    return Dependencies(Settings(bucket=BUCKET, table=TABLE))


def cli(stack: Stack, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = fresh_environment(DATA_DIR=str(stack.data_dir))
    command = [sys.executable, "-m", module, "--stage", "local", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def without_events(deps: Dependencies):
    """Writes straight into the emulator: the bucket's notification is off meanwhile."""
    s3 = deps.s3
    saved = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    saved.pop("ResponseMetadata", None)

    class Off:
        def __enter__(self):
            s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})

        def __exit__(self, *exc):
            s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=saved)

    return Off()


def start(stack: Stack) -> str:
    started = cli(stack, "ops.reconcile", "--parallel", "4")
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)["job"]


def wait_finished(stack: Stack, job: str, seconds: float = 240) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = requests.get(f"{stack.api}/reconcile/{job}", timeout=5).json()
        if shown["state"] == "finished":
            return shown
        time.sleep(0.3)
    raise AssertionError(f"job {job} not finished: {shown}\n{stack.log()[-3000:]}")


def test_a_parallel_job_repairs_a_damaged_table_exactly_while_uploads_go_on(stack, deps):
    keys = [f"uploads/{n % 7}/img{n:05d}.png" for n in range(OBJECTS)]
    with without_events(deps), ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda n: deps.s3.put_object(
                    Bucket=BUCKET, Key=keys[n], Body=BODIES[n % len(BODIES)]
                ),
                range(OBJECTS),
            )
        )
    backfill = wait_finished(stack, start(stack))
    assert backfill["complete"], backfill
    assert backfill["objects"]["refreshed"] == OBJECTS  # a backfill: every record was missing

    # Damage: missing, stale and ghost records, skewed counters.
    missing, stale, ghosts = keys[0:40], keys[100:130], keys[200:240]
    for key in missing:
        deps.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": f"image#{key}"}})
    for key in stale:
        deps.dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": f"image#{key}"}},
            UpdateExpression="SET etag = :e",
            ExpressionAttributeValues={":e": {"S": "0" * 32}},
        )
    with without_events(deps):
        for key in ghosts:
            deps.s3.delete_object(Bucket=BUCKET, Key=key)
    deps.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "counters#0"}},
        UpdateExpression="SET count_PNG = :n",
        ExpressionAttributeValues={":n": {"N": "99999"}},
    )

    job = start(stack)
    refused = cli(stack, "ops.reconcile", "--parallel", "2")
    assert refused.returncode == 2 and f"reconcile job {job} is still running" in refused.stderr

    # Uploads and deletes go on through the event pump while the ranges run.
    changes, stop = [], threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set() and 300 + n < len(keys):
            key = f"uploads/live/{n:04d}.gif"
            deps.s3.put_object(Bucket=BUCKET, Key=key, Body=BODIES[1])
            stack.wait_for_record(key)
            gone = keys[300 + n]
            deps.s3.delete_object(Bucket=BUCKET, Key=gone)
            stack.wait_until_gone(gone)
            changes.append((key, gone))
            n += 1
            if requests.get(f"{stack.api}/reconcile/{job}", timeout=5).json()["state"] != "running":
                return

    writer = threading.Thread(target=keep_writing)
    writer.start()
    running = cli(stack, "ops.reconcile_status", "--job", job, "--once")
    repaired = wait_finished(stack, job)
    stop.set()
    writer.join(timeout=60)

    assert running.returncode in (0, 4), running.stderr  # 4: still running when asked
    assert json.loads(running.stdout)["job"] == job
    assert changes, "no upload or delete happened while the job ran"
    assert repaired["ranges"]["done"] == repaired["ranges"]["total"], repaired
    assert repaired["objects"]["refreshed"] >= len(missing)
    assert repaired["objects"]["removed"] >= len(ghosts)
    assert not repaired["dead_lettered"] and not repaired["objects"]["failed"]
    if not repaired["complete"]:
        # A live write bumped the counter shard during the count: it was left
        # alone, as designed; the next job (no writes now) rebuilds it.
        busy = ("counters_busy", "facets_busy", "duplicates_busy")
        assert any(repaired[name] for name in busy), repaired
        again = wait_finished(stack, start(stack))
        assert again["complete"], json.dumps(again)
    truth.assert_catalog_matches_bucket(deps)

    status = cli(stack, "ops.reconcile_status", "--job", job, "--once")
    assert status.returncode in (0, 3) and json.loads(status.stdout)["state"] == "finished"
    assert cli(stack, "ops.reconcile_status", "--job", "nope", "--once").returncode == 2
