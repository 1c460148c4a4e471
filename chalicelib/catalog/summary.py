"""Summary arithmetic, pure: collection counters in, `GET /summary` body out.

Every stored record contributes to a handful of counters (images and bytes per
format, records per status). Each write applies the difference between the new
and the old contribution of its key, in the same transaction as the record, so
the counters always equal a recomputation over all records.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.records import (
    STATUS_CORRUPT,
    STATUS_OK,
    STATUS_UNREADABLE,
    STATUS_UNSUPPORTED,
)

EXTREME_FIELDS = ("s3objectkey", "size", "format", "width", "height")
COUNTER_PREFIXES = ("count_", "bytes_", "status_")
# Every record counts under its status (`status_<status>`; the summary reports all but ok).
COUNTED_STATUSES = (STATUS_OK, STATUS_UNSUPPORTED, STATUS_CORRUPT, STATUS_UNREADABLE)


def contribution(record: dict[str, Any] | None) -> dict[str, int]:
    """The counters one record adds to (empty for no record or a tombstone)."""
    if not record or record.get("status") not in COUNTED_STATUSES:
        return {}
    status = record["status"]
    counts = {f"status_{status}": 1}
    if status == STATUS_OK:
        fmt = record["format"]
        counts[f"count_{fmt}"] = 1
        counts[f"bytes_{fmt}"] = int(record["size"])
    return counts


def counter_changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[dict[str, int], dict[str, str]]:
    """What replacing `old` by `new` does to the counters.

    Returns the non-zero increments, and the MIME type to remember for the new
    record's format (so the summary needs no format table of its own).
    """
    increments = {name: -value for name, value in contribution(old).items()}
    for name, value in contribution(new).items():
        increments[name] = increments.get(name, 0) + value
    increments = {name: value for name, value in increments.items() if value}
    labels: dict[str, str] = {}
    if new and new.get("status") == STATUS_OK and new.get("mime_type"):
        labels[f"mime_{new['format']}"] = new["mime_type"]
    return increments, labels


def merge_shards(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the counter items of all shards (labels are the same in each)."""
    merged: dict[str, Any] = {}
    for shard in shards:
        for name, value in shard.items():
            if name.startswith(COUNTER_PREFIXES):
                merged[name] = merged.get(name, 0) + int(value)
            elif name.startswith("mime_"):
                merged[name] = value
    return merged


def build_summary(
    counters: dict[str, Any],
    biggest: dict[str, Any] | None,
    smallest: dict[str, Any] | None,
) -> dict[str, Any]:
    """The `GET /summary` body from merged counters and the two extreme records."""
    types = [
        {
            "format": name[len("count_") :],
            "mime_type": counters.get("mime_" + name[len("count_") :]),
            "count": count,
            "bytes": counters.get("bytes_" + name[len("count_") :], 0),
        }
        for name, count in counters.items()
        if name.startswith("count_") and count > 0
    ]
    types.sort(key=lambda t: (-t["count"], t["format"]))
    return {
        "total_images": sum(t["count"] for t in types),
        "total_bytes": sum(t["bytes"] for t in types),
        "biggest": _extreme(biggest),
        "smallest": _extreme(smallest),
        "types": types,
        "unsupported": counters.get("status_unsupported", 0),
        "corrupt": counters.get("status_corrupt", 0),
        "unreadable": counters.get("status_unreadable", 0),
    }


def _extreme(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    return {field: record.get(field) for field in EXTREME_FIELDS}
