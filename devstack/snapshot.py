"""The catalog's snapshot: the emulator's table saved when it stops, loaded back on start.

The catalog is derived from the bucket, so this is only a cache: it spares a
restart from extracting every image again (20 images a second: an hour and a
half at 100,000). It is written when the emulator stops (Ctrl-C, SIGTERM, or
`make dev` killed: the emulator is then told by the kernel), under the write
lock so that records and counters agree. On start the emulator loads it and
compares it with the restored bucket: objects without a record of their ETag,
and records without an object, are listed for `make dev` to repair through the
handlers' own code. Without a snapshot (a first start, or the emulator itself
killed before it could write one) `make dev` rebuilds the whole catalog.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from chalicelib.catalog.compact import unpack
from chalicelib.catalog.layout import STATUS_DELETED, table_definition
from chalicelib.keys import is_image_key


def path_of(data: Path, table: str) -> Path:
    return data / "catalog" / f"{table}.jsonl"


def repairs_path(data: Path) -> Path:
    return data / "catalog" / "repairs.json"


def save(data: Path, table_name: str, region: str) -> int:
    """Write the table's items (wire format, one JSON line each); returns how many."""
    table = _backend(region).tables.get(table_name)
    if table is None:
        return 0
    with _write_lock():
        lines = [json.dumps(_wire(item.to_json()["Attributes"])) for item in _items(table)]
    path = path_of(data, table_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text("".join(line + "\n" for line in lines))
    os.replace(temporary, path)
    return len(lines)


def load(data: Path, table_name: str, region: str) -> int | None:
    """Create the table and put the snapshot's items back; None when there is no snapshot."""
    path = path_of(data, table_name)
    if not path.exists():
        return None
    definition = table_definition(table_name)
    table = _backend(region).create_table(
        name=table_name,
        schema=definition["KeySchema"],
        throughput=None,
        attr=definition["AttributeDefinitions"],
        global_indexes=definition["GlobalSecondaryIndexes"],
        indexes=[],
        streams=None,
        billing_mode=definition["BillingMode"],
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    count = 0
    with path.open() as lines:
        for line in lines:
            with contextlib.suppress(ValueError):  # an unfinished last line
                table.put_item(_wire(json.loads(line), decode=True))
                count += 1
    return count


def differences(bucket: Any, table_name: str, region: str, prefix: str) -> dict[str, list]:
    """What the catalog must change to equal the bucket: `stale` [key, etag, revision]
    (no record of the object's ETag) and `vanished` [key, revision] (no object)."""
    from moto.s3.models import FakeKey

    objects = {}
    for key in list(bucket.keys):
        current = bucket.keys.get(key)
        if isinstance(current, FakeKey) and is_image_key(key, prefix):
            objects[key] = current.etag.strip('"')
    records: dict[str, tuple[int, str | None]] = {}
    for item in _items(_backend(region).tables[table_name]):
        attrs = item.to_json()["Attributes"]
        if attrs["pk"]["S"].startswith("image#"):
            records[attrs["s3objectkey"]["S"]] = (int(attrs["revision"]["N"]), _etag(attrs))
    stale = [
        [key, etag, records.get(key, (0, None))[0]]
        for key, etag in objects.items()
        if records.get(key, (0, None))[1] != etag
    ]
    vanished = [
        [key, revision]
        for key, (revision, etag) in records.items()
        if etag is not None and key not in objects
    ]
    return {"stale": sorted(stale), "vanished": sorted(vanished)}


def _wire(value: Any, decode: bool = False) -> Any:
    """moto keeps binary values as bytes: base64 in the file, bytes again when loaded."""
    if isinstance(value, dict):
        return {
            k: (_binary(v, decode) if k in ("B", "BS") else _wire(v, decode))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_wire(v, decode) for v in value]
    return value


def _binary(value: Any, decode: bool) -> Any:
    if isinstance(value, list):
        return [_binary(v, decode) for v in value]
    if decode:
        return base64.b64decode(value)
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value


def _etag(attrs: dict[str, Any]) -> str | None:
    """The ETag a stored record was extracted from; None for a tombstone."""
    if attrs.get("status", {}).get("S") == STATUS_DELETED:
        return None
    if "doc" in attrs:
        blob = attrs["doc"]["B"]
        return unpack(base64.b64decode(blob) if isinstance(blob, str) else blob).get("etag")
    return attrs.get("etag", {}).get("S")


def _items(table: Any) -> list[Any]:
    return [item for item in table.items.values() if hasattr(item, "attrs")]


def _backend(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def _write_lock() -> Any:
    """moto_patches' write lock when installed: no transaction is half-written."""
    from devstack.moto_patches import dynamodb

    return dynamodb._lock if dynamodb.patches.active else contextlib.nullcontext()
