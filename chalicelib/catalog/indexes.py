"""What a record contributes to the search indexes: sort keys and index terms. Pure.

Sort keys are strings that order as the API sorts and end in `|<key>`, so each
is unique and a position in any order is one string (see `catalog.search`):
- `taken_sk`: the capture time as the camera's local time to the second
  (`taken_at` without its offset; a date alone is midnight), absent when the
  record has no `taken_at` (the `by_taken` indexes are sparse);
- `uploaded_sk`: S3's `last_modified` (UTC);
- `bytes_sk`: the size, zero-padded.

Index terms are the equality filters a record answers to (`make=canon`,
`kw=beach`, `geo4=u09t`...). Each term of a record is one small index item,
written in the record's transaction and queried through the `ix_key` and
`ix_taken` indexes, partitioned by term and shard.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.catalog.records import STATUS_OK

MAX_KEYWORDS = 10  # indexed and counted per image (DynamoDB's 100-item transactions)
MAX_TERM_CHARS = 200
SORT_KEYS = ("taken_sk", "uploaded_sk", "bytes_sk")
GEO_PRECISIONS = (2, 4)  # geohash cells of about 1,250 km and 39 km
_LOCAL_TIME = re.compile(r"(\d{4}-\d\d-\d\d)(T\d\d:\d\d(:\d\d)?)?")
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def sort_keys(record: dict[str, Any]) -> dict[str, str]:
    """The record's sort-key attributes (only those it has a value for)."""
    key = record["s3objectkey"]
    found = {"bytes_sk": f"{int(record.get('size') or 0):015d}|{key}"}
    taken = local_time(record.get("taken_at"))
    if taken:
        found["taken_sk"] = f"{taken}|{key}"
    if record.get("last_modified"):
        found["uploaded_sk"] = f"{record['last_modified']}|{key}"
    return found


def local_time(value: Any) -> str | None:
    """`YYYY-MM-DDTHH:MM:SS` of an ISO 8601 date or date-time, its offset dropped."""
    match = _LOCAL_TIME.match(value) if isinstance(value, str) else None
    if not match:
        return None
    date, clock, seconds = match.groups()
    if not clock:
        return f"{date}T00:00:00"
    return f"{date}{clock}{'' if seconds else ':00'}"


def term_value(text: Any) -> str | None:
    """An index term's value: trimmed, case-folded, bounded; None when empty."""
    if not isinstance(text, str):
        return None
    value = " ".join(text.split()).casefold()[:MAX_TERM_CHARS]
    return value or None


def keywords(record: dict[str, Any]) -> dict[str, str]:
    """Up to MAX_KEYWORDS distinct keywords (XMP first, then IPTC): {term value: label}."""
    found: dict[str, str] = {}
    for block in ("xmp", "iptc"):
        for keyword in (record.get(block) or {}).get("keywords") or []:
            value = term_value(keyword)
            if value and value not in found and len(found) < MAX_KEYWORDS:
                found[value] = keyword.strip()
    return found


def orientation(record: dict[str, Any]) -> str | None:
    """landscape, portrait or square by the displayed size; None without dimensions."""
    width, height = record.get("display_width"), record.get("display_height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    return "landscape" if width > height else "portrait" if width < height else "square"


def index_terms(record: dict[str, Any] | None) -> set[str]:
    """Every equality term the record answers to (empty for no record)."""
    if not record:
        return set()
    terms = {f"gps={'true' if record.get('gps') else 'false'}"}
    if record.get("status") != STATUS_OK:
        terms.add(f"status={record.get('status')}")
    if record.get("format"):
        terms.add(f"format={record['format']}")
    camera = record.get("camera") or {}
    for field in ("make", "model", "lens"):
        value = term_value(camera.get(field))
        if value:
            terms.add(f"{field}={value}")
    if orientation(record):
        terms.add(f"orientation={orientation(record)}")
    if record.get("animated"):
        terms.add("animated=true")
    terms.update(f"kw={value}" for value in keywords(record))
    gps = record.get("gps") or {}
    if isinstance(gps.get("latitude"), (int, float)) and isinstance(
        gps.get("longitude"), (int, float)
    ):
        cell = geohash(gps["latitude"], gps["longitude"], max(GEO_PRECISIONS))
        terms.update(f"geo{p}={cell[:p]}" for p in GEO_PRECISIONS)
    return terms


def geohash(latitude: float, longitude: float, precision: int) -> str:
    """The geohash cell (base 32, `precision` characters) holding a position."""
    bounds = [[-90.0, 90.0], [-180.0, 180.0]]
    cell, bits, value, even = [], 0, 0, True
    while len(cell) < precision:
        axis, point = (bounds[1], longitude) if even else (bounds[0], latitude)
        middle = (axis[0] + axis[1]) / 2
        value = value * 2 + (point >= middle)
        axis[0 if point >= middle else 1] = middle
        even, bits = not even, bits + 1
        if bits == 5:
            cell.append(_BASE32[value])
            bits = value = 0
    return "".join(cell)


def cell_size(precision: int) -> tuple[float, float]:
    """(degrees of latitude, degrees of longitude) a geohash cell spans."""
    bits = 5 * precision
    return 180 / 2 ** (bits // 2), 360 / 2 ** (bits - bits // 2)


def covering_cells(
    bbox: tuple[float, float, float, float], precision: int, most: int
) -> list[str] | None:
    """The cells of `precision` that cover bbox (south, west, north, east), or None
    when more than `most` would be needed. A box that crosses the antimeridian
    (west > east) is covered in two parts."""
    south, west, north, east = bbox
    crossing = [(south, west, north, 180.0), (south, -180.0, north, east)]
    parts = crossing if west > east else [bbox]
    height, width = cell_size(precision)
    cells: set[str] = set()
    for s, w, n, e in parts:
        rows = int((min(n, 90 - 1e-9) - s) // height) + 2
        columns = int((min(e, 180 - 1e-9) - w) // width) + 2
        if len(cells) + rows * columns > most * 4:
            return None
        for i in range(rows):
            lat = min(s + i * height, n, 90 - 1e-9)
            for j in range(columns):
                cells.add(geohash(lat, min(w + j * width, e, 180 - 1e-9), precision))
        if len(cells) > most:
            return None
    return sorted(cells)


def index_operations(
    table: str,
    key: str,
    shard: int,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Transaction operations that turn `old`'s index items into `new`'s: one item
    per term, `ix#<term>#<key>`, rewritten only when it changes."""
    before, after = index_terms(old), index_terms(new)
    taken_before = sort_keys(old).get("taken_sk") if old else None
    taken_after = sort_keys(new).get("taken_sk") if new else None
    ops: list[dict[str, Any]] = [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": f"ix#{term}#{key}"}}}}
        for term in sorted(before - after)
    ]
    for term in sorted(after):
        if term in before and taken_before == taken_after:
            continue
        item = {
            "pk": {"S": f"ix#{term}#{key}"},
            "ix": {"S": f"{term}#{shard}"},
            "s3objectkey": {"S": key},
        }
        if taken_after:
            item["taken_sk"] = {"S": taken_after}
        ops.append({"Put": {"TableName": table, "Item": item}})
    return ops
