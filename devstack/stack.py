"""`make dev`: the whole service on loopback, keeping its images across restarts.

Starts the emulator (its own process; restores the data folder), creates the
bucket, table, queue and notification, rebuilds the catalog from the bucket,
pumps S3 events into the app's handlers, serves the API (its own process),
and says where everything is. Ctrl-C, SIGTERM or the end of this process stop
everything it started.

Environment: PORT (API, 8000), LOCAL_AWS_PORT (emulator, 4566), DATA_DIR
(default .data/), RESET=1 (start empty), RELOAD=1 (restart the API when app.py
or chalicelib/ change), WORKERS (concurrent event handlers, 1), STAGE (local),
AWS_ENDPOINT_URL (use that endpoint instead of starting an emulator; nothing
is kept by this stack then), RECONCILE_WORKERS (the most reconcile workers at
once, 8; a job's PARALLEL caps them further), RECONCILE_BUDGET_SECONDS (each
reconcile worker call's time, 20: Lambda's timeout, scaled down).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack import children, state
from devstack.children import StartupError
from devstack.datadir import ObjectFolder, check_format, data_dir
from devstack.reload import SourceWatcher
from devstack.stages import PROJECT_DIR, stage_environment

log = logging.getLogger("devstack")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class Options:
    api_port: int
    aws_port: int
    stage: str
    data: Path
    reset: bool
    reload: bool
    workers: int
    endpoint: str | None
    reconcile_workers: int = 8
    reconcile_budget: float = 20.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ = os.environ) -> Options:
        def number(name: str, default: int) -> int:
            raw = environ.get(name) or str(default)
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise StartupError(f"{name} must be a number from 1 to 65535, got {raw!r}")
            return int(raw)

        return cls(
            api_port=number("PORT", 8000),
            aws_port=number("LOCAL_AWS_PORT", 4566),
            stage=environ.get("STAGE") or "local",
            data=data_dir(environ),
            reset=_flag(environ.get("RESET")),
            reload=_flag(environ.get("RELOAD")),
            workers=number("WORKERS", 1),
            endpoint=environ.get("AWS_ENDPOINT_URL") or None,
            reconcile_workers=number("RECONCILE_WORKERS", 8),
            reconcile_budget=number("RECONCILE_BUDGET_SECONDS", 20),
        )


@dataclass
class Running:
    """What has been started so far, to stop on the way out."""

    emulator: subprocess.Popen | None = None
    api: subprocess.Popen | None = None
    pump: Any = None
    work: Any = None
    pixels_pump: Any = None


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # handler log lines appear as they happen
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("image-metadata").setLevel(logging.INFO)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    running, stopped = Running(), False
    try:
        return serve(Options.from_env(), running)
    except StartupError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stopped = True
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        # First: their handlers may still be writing to the emulator.
        for pump in (running.work, running.pump, running.pixels_pump):
            if pump is not None:
                pump.stop()
        children.stop(running.api)
        children.stop(running.emulator)
        if stopped:
            print("\ndevstack: stopped", flush=True)


def serve(options: Options, running: Running) -> int:
    if not options.endpoint:
        children.check_port(options.aws_port, "the emulator", "LOCAL_AWS_PORT")
    children.check_port(options.api_port, "the API", "PORT")
    other = state.running(options.data)
    if other is not None:
        raise StartupError(f"a stack already runs from {_shown(options.data)} ({other.api})")
    environment = stage_environment(options.stage)
    os.environ.update(environment)
    for name, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    bucket, region = environment["IMAGES_BUCKET"], os.environ["AWS_DEFAULT_REGION"]
    table, prefix = environment["IMAGES_TABLE"], environment.get("IMAGES_PREFIX", "uploads/")

    folder = None
    if not options.endpoint:
        check_format(options.data)
        folder = ObjectFolder(options.data, bucket)
        if options.reset:
            shutil.rmtree(options.data / "catalog", ignore_errors=True)
            images = folder.count(prefix)  # not the previews kept beside them
            folder.clear()
            print(f"RESET=1: forgot {_images(images)} kept in {_shown(options.data)}")
        catalog = ("--table", table, "--prefix", prefix)
        running.emulator = children.start_emulator(
            options.aws_port, bucket, region, options.data, *catalog
        )
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{options.aws_port}"
    endpoint = os.environ["AWS_ENDPOINT_URL"]

    # Imported only now: the app reads its settings from the environment.
    sys.path.insert(0, str(PROJECT_DIR))
    import app as application
    from devstack.provision import provision, provision_pixels_queue
    from devstack.pump import EventPump
    from devstack.rebuild import restore_catalog

    deps = application.deps
    try:
        queue_url = provision(boto3.session.Session(), deps.settings)
        pixels_url = provision_pixels_queue(boto3.session.Session(), deps.settings)
        indexed = folder.count(prefix) if folder else None
        line = restore_catalog(deps, folder and options.data, indexed or 0, options.workers)
        if line:
            print(line)
    except (BotoCoreError, ClientError) as error:
        raise StartupError(f"the AWS endpoint {endpoint} fails: {error}") from None

    running.pump = EventPump(
        boto3.client("sqs"),
        queue_url,
        application.on_object_created,
        application.on_object_removed,
        workers=options.workers,
    )
    running.pump.start()
    # The SQS-triggered functions, as Lambda's event sources call them (devstack/sqs_source.py).
    from devstack.provision import provision_reconcile_queues
    from devstack.sqs_source import QueueSource, job_parallel

    running.work = QueueSource(
        boto3.client("sqs"),
        provision_reconcile_queues(boto3.session.Session(), deps.settings),
        application.reconcile_worker,
        workers=options.reconcile_workers,
        budget_seconds=options.reconcile_budget,
        parallel_of=job_parallel,
        retry_seconds=1,
    )
    running.work.start()
    if deps.settings.previews:
        running.pixels_pump = QueueSource(
            boto3.client("sqs"), pixels_url, application.pixels_stage, 1, 60, name="pixels-stage"
        )
        running.pixels_pump.start()
    running.api = _start_api(options)
    api = f"http://127.0.0.1:{options.api_port}"
    info = state.StackInfo(
        pid=os.getpid(),
        api=api,
        endpoint=endpoint,
        region=os.environ["AWS_DEFAULT_REGION"],
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        stage=options.stage,
        bucket=bucket,
        table=deps.settings.table,
        prefix=deps.settings.prefix,
    )
    state.write(info, options.data)
    try:
        print(_banner(info, options, folder is not None, indexed), flush=True)
        return _supervise(options, running)
    finally:
        state.remove(options.data, os.getpid())


def _start_api(options: Options):
    process = children.spawn(
        "devstack.api", "--port", str(options.api_port), "--stage", options.stage
    )
    children.wait_until_serving(process, options.api_port, "the API", timeout=60)
    return process


def _supervise(options: Options, running: Running) -> int:
    watcher = SourceWatcher(PROJECT_DIR) if options.reload else None
    while True:
        time.sleep(0.5)
        if running.emulator is not None and running.emulator.poll() is not None:
            print(f"devstack: the emulator exited (code {running.emulator.returncode})")
            return 1
        if watcher is not None and watcher.changed():
            print("devstack: app.py or chalicelib/ changed: restarting the API")
            children.stop(running.api)
            running.api = _start_api(options)
        elif running.api is not None and running.api.poll() is not None:
            print(f"devstack: the API exited (code {running.api.returncode})")
            return 1


def _banner(info: state.StackInfo, options: Options, kept: bool, indexed: int | None) -> str:
    data = _shown(options.data)
    if not kept:
        kept_line = "kept by the endpoint above (this stack keeps nothing)"
    elif indexed:
        kept_line = f"{data}  ({_images(indexed)} restored; RESET=1 starts empty)"
    else:
        kept_line = f"{data}  (empty; images you upload are kept here)"
    reload_line = "on: app.py and chalicelib/" if options.reload else "off (RELOAD=1 make dev)"
    return f"""
Image metadata service is running (stage {info.stage!r}).
  API:          {info.api}
  S3 endpoint:  {info.endpoint}   (bucket {info.bucket}, images under {info.prefix!r})
  Data:         {kept_line}
  Autoreload:   {reload_line}

Upload images and see their metadata (in another terminal):
  make upload FILES="photo.jpg 'my photo.jpg'"
  curl '{info.api}/images'
  curl '{info.api}/summary'

Press Ctrl-C to stop.
"""


def _shown(path: Path) -> str:
    try:
        return f"{path.relative_to(PROJECT_DIR)}/"
    except ValueError:
        return f"{path}/"


def _images(count: int) -> str:
    return f"{count:,} image" + ("" if count == 1 else "s")


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")
