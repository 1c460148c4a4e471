"""The data folder: the local bucket's objects on disk, so the stack survives restarts.

The catalog (DynamoDB) is derived data and is rebuilt from the bucket on start;
the bucket is what must last. Layout of DATA_DIR (default `.data/`):

    objects/<bucket>/<ab>/<sha256 of the key>  one line of JSON (key, ETag, Last-Modified,
                                               metadata, size), then the object's bytes
    catalog/<table>.jsonl                      the catalog's snapshot (devstack.snapshot)
    stack.json                                 the running stack (devstack.state)

Files are named by a hash of the key because S3 keys are not file names: a
key may be 1,024 bytes long, contain `..`, or be both `a` and the "folder" of
`a/b`. Each write goes to a temporary file renamed into place, so a crash at
any moment leaves either the old object or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.stages import PROJECT_DIR

FORMAT = 1  # bump when the layout changes


def data_dir(environ: dict[str, str] | os._Environ = os.environ) -> Path:
    """DATA_DIR, or `.data/` in the project; relative paths are from the project."""
    return PROJECT_DIR / (environ.get("DATA_DIR") or ".data")


@dataclass(frozen=True)
class StoredObject:
    key: str
    data: bytes
    etag: str
    last_modified: str
    metadata: dict[str, str]


class ObjectFolder:
    """One bucket's objects under `<data dir>/objects/<bucket>/`."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root, self.bucket = root, bucket
        self.folder = root / "objects" / bucket

    def save(self, key: str, data: bytes, etag: str, last_modified: str, metadata: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"key": key, "etag": etag, "size": len(data), "last_modified": last_modified}
        header["metadata"] = metadata
        _write_atomically(path, json.dumps(header).encode() + b"\n" + data)

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        """Every stored object, in no particular order."""
        for path in self._files():
            try:
                with path.open("rb") as stored:
                    header = json.loads(stored.readline())
                    data = stored.read()
                if len(data) != header["size"]:
                    continue  # not ours, or damaged: never half an object
                yield StoredObject(
                    header["key"], data, header["etag"], header["last_modified"], header["metadata"]
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue

    def count(self, prefix: str | None = None) -> int:
        """How many objects are kept (with `prefix`: whose key starts with it, which
        reads each file's one-line header: previews under `derived/` are no images)."""
        if prefix is None:
            return sum(1 for _ in self._files())
        found = 0
        for path in self._files():
            try:
                with path.open("rb") as stored:
                    found += json.loads(stored.readline())["key"].startswith(prefix)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
        return found

    def clear(self) -> int:
        """Forget every object (RESET=1); returns how many there were."""
        count = self.count()
        shutil.rmtree(self.folder, ignore_errors=True)
        return count

    def _files(self) -> Iterator[Path]:
        if self.folder.is_dir():
            yield from (p for p in self.folder.glob("??/*") if not p.name.startswith("."))

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.folder / digest[:2] / digest


def check_format(root: Path) -> None:
    """Mark a new data folder with its layout version; refuse one from the future."""
    marker = root / "FORMAT"
    if marker.exists():
        found = int(marker.read_text().strip() or 0)
        if found > FORMAT:
            raise ValueError(f"{root} was written by a newer version (format {found})")
        return
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{FORMAT}\n")


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def describe(metadata: Any) -> dict[str, str]:
    """Object metadata as plain strings (moto keeps it in a case-insensitive dict)."""
    return {str(k): str(v) for k, v in dict(metadata).items()}
