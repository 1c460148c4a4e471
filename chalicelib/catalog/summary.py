"""Summary arithmetic, pure: collection counters in, `GET /summary` body out.

Every stored record contributes to a handful of counters on its counter shard
item: images and bytes per format, records per status, and for `ok` images the
facets with a small, fixed set of values (orientation, GPS, animation, alpha,
resolution and size buckets, capture year). Each write applies the difference
between the new and the old contribution of its key, in the same transaction
as the record, so the counters always equal a recomputation over all records.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.indexes import local_time, orientation
from chalicelib.catalog.records import (
    STATUS_CORRUPT,
    STATUS_OK,
    STATUS_UNREADABLE,
    STATUS_UNSUPPORTED,
)

EXTREME_FIELDS = ("s3objectkey", "size", "format", "width", "height")
FACET_PREFIXES = ("orient_", "with_", "mp_", "sz_", "year_")
COUNTER_PREFIXES = ("count_", "bytes_", "status_", *FACET_PREFIXES)
# Every record counts under its status (`status_<status>`; the summary reports all but ok).
COUNTED_STATUSES = (STATUS_OK, STATUS_UNSUPPORTED, STATUS_CORRUPT, STATUS_UNREADABLE)
ORIENTATIONS = ("landscape", "portrait", "square")
FLAGS = {"with_gps": "gps", "with_animation": "animated", "with_alpha": "has_alpha"}
# Bucket edges: megapixels <1, 1-4, 4-12, 12-24, 24-50, >=50; bytes by powers of ten.
MEGAPIXEL_EDGES = (1, 4, 12, 24, 50)
BYTE_EDGES = (10**4, 10**5, 10**6, 10**7, 10**8)


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


def facet_contribution(record: dict[str, Any] | None) -> dict[str, int]:
    """The fixed-set facet counters an `ok` record adds to."""
    if not record or record.get("status") != STATUS_OK:
        return {}
    counts = {name: 1 for name, field in FLAGS.items() if record.get(field)}
    if orientation(record):
        counts[f"orient_{orientation(record)}"] = 1
    if isinstance(record.get("megapixels"), (int, float)):
        counts[f"mp_{_bucket(record['megapixels'], MEGAPIXEL_EDGES)}"] = 1
    counts[f"sz_{_bucket(int(record.get('size') or 0), BYTE_EDGES)}"] = 1
    taken = local_time(record.get("taken_at"))
    if taken:
        counts[f"year_{taken[:4]}"] = 1
    return counts


def counter_changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None, old_has_facets: bool = True
) -> tuple[dict[str, int], dict[str, str]]:
    """What replacing `old` by `new` does to the counters.

    Returns the non-zero increments, and the MIME type to remember for the new
    record's format (so the summary needs no format table of its own). A record
    stored before facets were counted (`old_has_facets` False) adds none.
    """
    before = {**contribution(old), **(facet_contribution(old) if old_has_facets else {})}
    increments = {name: -value for name, value in before.items()}
    for name, value in {**contribution(new), **facet_contribution(new)}.items():
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
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `GET /summary` body from merged counters, the two extreme records and
    what other reads found (`extras`: top facet values, capture time range)."""
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
        **facet_summary(counters),
        **(extras or {}),
    }


def facet_summary(counters: dict[str, Any]) -> dict[str, Any]:
    """Orientations, flags, histograms and years from the merged counters."""
    years = sorted(
        (int(name[5:]), count)
        for name, count in counters.items()
        if name.startswith("year_") and count > 0
    )
    return {
        "orientations": {o: counters.get(f"orient_{o}", 0) for o in ORIENTATIONS},
        **{name: counters.get(name, 0) for name in FLAGS},
        "resolution": _histogram(counters, "mp_", MEGAPIXEL_EDGES, "megapixels"),
        "size": _histogram(counters, "sz_", BYTE_EDGES, "bytes"),
        "years": [{"year": year, "count": count} for year, count in years],
    }


def _bucket(value: float, edges: tuple[int, ...]) -> int:
    return sum(value >= edge for edge in edges)


def _histogram(
    counters: dict[str, Any], prefix: str, edges: tuple[int, ...], unit: str
) -> list[dict[str, Any]]:
    """One entry per bucket: [min, max) in `unit` (None: unbounded) and its count."""
    lows, highs = (0, *edges), (*edges, None)
    return [
        {f"min_{unit}": low, f"max_{unit}": high, "count": counters.get(f"{prefix}{i}", 0)}
        for i, (low, high) in enumerate(zip(lows, highs, strict=True))
    ]


def _extreme(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    return {field: record.get(field) for field in EXTREME_FIELDS}
