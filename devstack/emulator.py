"""`python -m devstack.emulator`: the local stack's AWS emulator, in its own process.

moto in server mode with the constant-cost patches (`moto_patches`), and with
the stack's bucket written through to the data folder: every object that
arrives is on disk before its upload is answered, every object deleted is
removed, and on start the folder is loaded back before the port is served.
`python -m devstack` starts it and waits for "ready" on the pipe it passes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack.datadir import ObjectFolder, describe
from devstack.lifeline import die_with_parent

_dirty = threading.local()  # (backend, bucket, key) written by the request this thread serves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--table", help="the catalog's table, snapshotted with the data folder")
    parser.add_argument("--prefix", default="uploads/")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--data-dir", type=Path, help="keep the bucket here (default: memory only)")
    parser.add_argument("--ready-fd", type=int, help="write 'ready' here once serving")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--stock", action="store_true", help="unpatched moto (benchmark baseline)")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per S3 request

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app: Any = DomainDispatcherApplication(create_backend_app)
    if args.data_dir:
        app = _flushing(app)
    try:
        server = make_server(
            "127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
    except OSError as error:
        print(f"devstack: the emulator cannot listen on port {args.port}: {error.strerror}")
        return 3
    if not args.stock:
        _patch_moto()
    if args.data_dir:
        folder = ObjectFolder(args.data_dir, args.bucket)
        restore(folder, args.bucket, args.region)
        write_through(folder, args.bucket)
        if args.table:
            _restore_catalog(args)
    if args.ready_fd is not None:
        os.write(args.ready_fd, b"ready\n")
        os.close(args.ready_fd)
    server.serve_forever()
    return 0


def _restore_catalog(args: argparse.Namespace) -> None:
    """Load the catalog's snapshot, list how it differs from the bucket, save it on exit."""
    from devstack import snapshot

    repairs = snapshot.repairs_path(args.data_dir)
    repairs.unlink(missing_ok=True)
    if snapshot.load(args.data_dir, args.table, args.region) is not None:
        bucket = _backend().buckets[args.bucket]
        found = snapshot.differences(bucket, args.table, args.region, args.prefix)
        repairs.write_text(json.dumps(found))

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once, even if told twice
        snapshot.save(args.data_dir, args.table, args.region)
        os._exit(0)

    # Stopped by `make dev`, or told by the kernel that `make dev` died.
    signal.signal(signal.SIGTERM, stop)


def _patch_moto() -> None:
    """The constant-cost patches; if this moto changed under them, run it stock and say so."""
    try:
        from devstack import moto_patches

        moto_patches.install()
    except (ImportError, AttributeError, KeyError, TypeError) as error:
        from moto import __version__

        print(
            f"devstack: moto {__version__} does not take the emulator's patches ({error!r}): "
            "it runs unpatched and slows down as the collection grows"
        )


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def restore(folder: ObjectFolder, bucket: str, region: str) -> int:
    """Load the data folder into the emulator's bucket, without notifications."""
    backend = _backend()
    if bucket not in backend.buckets:
        backend.create_bucket(bucket, region)
    total, started, shown = folder.count(), time.monotonic(), 0.0
    restored = 0
    for stored in folder.objects():
        key = backend.put_object(
            bucket, stored.key, stored.data, etag=stored.etag, disable_notification=True
        )
        key.set_metadata(dict(stored.metadata))
        key.last_modified = datetime.fromisoformat(stored.last_modified)
        restored += 1
        now = time.monotonic()
        if sys.stdout.isatty() and now - shown > 0.5 and now - started > 1:
            shown = now
            print(f"\rrestoring images: {restored:,}/{total:,}", end="", flush=True)
    if shown:
        print(f"\rrestoring images: {restored:,}/{total:,}", flush=True)
    return restored


def write_through(folder: ObjectFolder, bucket: str) -> None:
    """Mark every key a request writes or deletes; `_flushing` saves them before answering."""
    from moto.s3.models import S3Backend

    def marking(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(self, bucket_name, key_name, *args, **kwargs)
            finally:
                if bucket_name == bucket:
                    pending = getattr(_dirty, "keys", None)
                    if pending is None:
                        pending = _dirty.keys = {}
                    pending[key_name] = (self, folder)

        return wrapper

    # Every upload (PUT, POST form, copy, multipart) ends in put_object; every
    # delete (one or many) in delete_object.
    S3Backend.put_object = marking(S3Backend.put_object)  # type: ignore[method-assign]
    S3Backend.delete_object = marking(S3Backend.delete_object)  # type: ignore[method-assign]


def _flushing(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI app, saving what each request wrote once the request is done with it.

    Saving at the end of the request rather than inside put_object matters:
    moto sets the object's Content-Type and metadata after storing its bytes.
    """

    def flushing_app(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        finally:
            pending = getattr(_dirty, "keys", None)
            if pending:
                _dirty.keys = {}
                for key_name, (backend, folder) in pending.items():
                    _save(backend, folder, key_name)

    return flushing_app


def _save(backend: Any, folder: ObjectFolder, key_name: str) -> None:
    from moto.s3.models import FakeKey

    bucket = backend.buckets.get(folder.bucket)
    current = bucket.keys.get(key_name) if bucket else None
    if isinstance(current, FakeKey):
        modified = current.last_modified.isoformat()
        etag = current.etag.strip('"')
        folder.save(key_name, current.value, etag, modified, describe(current.metadata))
    else:
        folder.remove(key_name)


if __name__ == "__main__":
    sys.exit(main())
