"""`python -m devstack` (what `make dev` runs): the whole service on loopback.

Starts an AWS-compatible emulator (moto in server mode) unless
AWS_ENDPOINT_URL already names one, creates the bucket, table, queue and
bucket notification, pumps S3 events into the app's handlers, and serves the
API with `chalice local`. Ctrl-C or SIGTERM stops everything it started.

Environment: PORT (API, default 8000), LOCAL_AWS_PORT (emulator, default
4566), AWS_ENDPOINT_URL (use this endpoint instead of starting an emulator),
STAGE (Chalice stage whose variables are used, default `local`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

import boto3

from devstack.stages import PROJECT_DIR, stage_environment

log = logging.getLogger("devstack")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # handler log lines appear as they happen
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's request log
    stage = os.environ.get("STAGE", "local")
    api_port = int(os.environ.get("PORT", "8000"))
    os.environ.update(stage_environment(stage))
    # The emulator accepts any credentials; never reach for a real profile.
    for name, default in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, default)

    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        from moto.server import ThreadedMotoServer

        aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
        emulator = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
        emulator.start()
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{aws_port}"
    endpoint = os.environ["AWS_ENDPOINT_URL"]

    # Imported only now: the app reads its settings from the environment.
    sys.path.insert(0, str(PROJECT_DIR))
    import app as application
    from devstack.provision import provision
    from devstack.pump import EventPump

    settings = application.deps.settings
    session = boto3.session.Session()
    queue_url = provision(session, settings)
    pump = EventPump(
        session.client("sqs"),
        queue_url,
        application.on_object_created,
        application.on_object_removed,
    )
    pump.start()

    # Tests turn the reloader off: one process, quicker start.
    reload_flag = "--no-autoreload" if os.environ.get("DEVSTACK_NO_AUTORELOAD") else "--autoreload"
    # `chalice local`, answering unknown methods and protocol errors as API
    # Gateway would (JSON, never http.server's HTML): devstack/localapi.py.
    chalice = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.localapi",
            "local",
            "--stage",
            stage,
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            reload_flag,
        ],
        cwd=PROJECT_DIR,
        start_new_session=True,  # its reloader forks: stop the whole group
    )

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    api = f"http://127.0.0.1:{api_port}"
    print(
        f"""
Image metadata service is running (stage {stage!r}).
  API:          {api}
  S3 endpoint:  {endpoint}
  Bucket:       {settings.bucket}   (uploads under {settings.prefix!r} are indexed)
  Table:        {settings.table}

Upload an image and read its metadata:
  AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
    .venv/bin/python -c "import boto3; boto3.client('s3', region_name='us-east-1')\\
.upload_file('photo.jpg', '{settings.bucket}', '{settings.prefix}photo.jpg')"
  curl '{api}/images?s3objectkey={settings.prefix}photo.jpg'
  curl -o photo-copy.jpg '{api}/images/download?s3objectkey={settings.prefix}photo.jpg'
  curl '{api}/summary'

Press Ctrl-C to stop.
""",
        flush=True,
    )
    try:
        while not stop.is_set() and chalice.poll() is None:
            stop.wait(0.5)
    finally:
        _terminate(chalice)
        pump.stop()
        if emulator is not None:
            emulator.stop()
    return 0 if stop.is_set() else (chalice.returncode or 1)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
