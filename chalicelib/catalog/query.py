"""A search over the catalog: its filters, what they mean, and which index serves it. Pure.

Every search is one walk along one index in the requested order: either the
record-level index of that order (all live records), or the index items of
one equality term (`make=canon`...), which exist for the `key` and `taken_at`
orders. Range filters on the order's own attribute become the walk's bounds;
every other filter is checked on the records the walk meets (`Search.matches`),
within a read budget per request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from chalicelib.catalog.indexes import (
    GEO_PRECISIONS,
    covering_cells,
    keywords,
    local_time,
    orientation,
    sort_keys,
    term_value,
)
from chalicelib.catalog.records import STATUS_OK

MAX_GEO_CELLS = 8  # partitions one bbox search may walk (times the shards)
CAMERA_FIELDS = ("make", "model", "lens")
TOP = "\U0010ffff"  # above every character of a key: the end of a range
# Most selective first: a search is served by the first term it has.
TERM_ORDER = ("kw", "lens", "model", "make", "geo", "status", "animated", "format", "orientation")
# Order -> (record index, its range attribute, term index or None).
ORDERS = {
    "key": ("by_key", "s3objectkey", "ix_key"),
    "taken_at": ("by_taken", "taken_sk", "ix_taken"),
    "size": ("by_bytes", "bytes_sk", None),
    "uploaded": ("by_uploaded", "uploaded_sk", None),
}


@dataclass(frozen=True)
class Search:
    """Filters (None: not filtered), already validated and normalized."""

    format: str | None = None
    status: str | None = None
    make: str | None = None  # term values: case-folded
    model: str | None = None
    lens: str | None = None
    keyword: str | None = None
    taken_from: str | None = None  # YYYY-MM-DDTHH:MM:SS, the camera's local time
    taken_to: str | None = None
    uploaded_from: str | None = None  # YYYY-MM-DDTHH:MM:SSZ
    uploaded_to: str | None = None
    min_width: int | None = None
    min_height: int | None = None
    min_megapixels: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    orientation: str | None = None
    has_gps: bool | None = None
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east
    animated: bool | None = None
    prefix: str | None = None  # a key prefix (the configured prefix included)
    sort: str = "key"
    descending: bool = False

    def position(self, record: dict[str, Any]) -> str:
        """Where `record` stands in this search's order (what a page continues after)."""
        attribute = ORDERS[self.sort][1]
        return record["s3objectkey"] if attribute == "s3objectkey" else sort_keys(record)[attribute]

    def describe(self) -> str:
        """A canonical text of the search: continuation tokens are bound to it."""
        return repr(tuple(getattr(self, f.name) for f in fields(self)))

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether a live record passes every filter."""
        camera = record.get("camera") or {}
        taken = local_time(record.get("taken_at"))
        uploaded = record.get("last_modified")
        gps = record.get("gps") or {}
        checks = (
            self.format is None or record.get("format") == self.format,
            self.status is None or record.get("status") == self.status,
            all(
                wanted is None or term_value(camera.get(field)) == wanted
                for field, wanted in (
                    ("make", self.make),
                    ("model", self.model),
                    ("lens", self.lens),
                )
            ),
            self.keyword is None or self.keyword in keywords(record),
            _within(taken, self.taken_from, self.taken_to),
            _within(uploaded, self.uploaded_from, self.uploaded_to),
            _at_least(record.get("display_width", record.get("width")), self.min_width),
            _at_least(record.get("display_height", record.get("height")), self.min_height),
            _at_least(record.get("megapixels"), self.min_megapixels),
            _at_least(record.get("size"), self.min_size),
            self.max_size is None or (record.get("size") or 0) <= self.max_size,
            self.orientation is None or orientation(record) == self.orientation,
            self.has_gps is None or bool(gps) == self.has_gps,
            self.bbox is None or _inside(gps, self.bbox),
            self.animated is None or bool(record.get("animated")) == self.animated,
            self.prefix is None or record["s3objectkey"].startswith(self.prefix),
        )
        return all(checks)

    def terms(self) -> list[list[str]]:
        """The indexed equality terms of this search, most selective first; each is a
        list of alternatives (several for a bbox: its geohash cells)."""
        found: dict[str, list[str]] = {}
        if self.keyword is not None:
            found["kw"] = [f"kw={self.keyword}"]
        for field in ("lens", "model", "make"):
            if getattr(self, field) is not None:
                found[field] = [f"{field}={getattr(self, field)}"]
        if self.bbox is not None:
            for precision in sorted(GEO_PRECISIONS, reverse=True):
                cells = covering_cells(self.bbox, precision, MAX_GEO_CELLS)
                if cells is not None:
                    found["geo"] = [f"geo{precision}={cell}" for cell in cells]
                    break
        if self.status not in (None, STATUS_OK):
            found["status"] = [f"status={self.status}"]
        if self.animated:
            found["animated"] = ["animated=true"]
        if self.format is not None:
            found["format"] = [f"format={self.format}"]
        if self.orientation is not None:
            found["orientation"] = [f"orientation={self.orientation}"]
        ranked = [found[name] for name in TERM_ORDER if name in found]
        if self.has_gps is not None or self.bbox is not None:
            ranked.append([f"gps={'true' if self.has_gps is not False else 'false'}"])
        return ranked


@dataclass(frozen=True)
class Plan:
    """One walk: which index, which partitions, the range attribute's bounds."""

    index: str
    hash_attribute: str
    partitions: tuple[str, ...]
    range_attribute: str
    low: str | None
    high: str | None
    descending: bool


def plan(search: Search, shards: int) -> Plan:
    """The walk that serves `search`: its most selective term's index items when
    the order has a term index, else the order's record index."""
    record_index, attribute, term_index = ORDERS[search.sort]
    terms = search.terms()
    if term_index and terms:
        index, hash_attribute = term_index, "ix"
        partitions = tuple(f"{term}#{n}" for term in terms[0] for n in range(shards))
    else:
        index, hash_attribute = record_index, "list_shard"
        partitions = tuple(str(n) for n in range(shards))
    low, high = _bounds(search)
    return Plan(index, hash_attribute, partitions, attribute, low, high, search.descending)


def _bounds(search: Search) -> tuple[str | None, str | None]:
    """Inclusive bounds on the order's range attribute (`<value>|<key>` strings)."""
    if search.sort == "key":
        prefix = search.prefix
        return (prefix, prefix + TOP) if prefix else (None, None)
    low, high = {
        "taken_at": (search.taken_from, search.taken_to),
        "uploaded": (search.uploaded_from, search.uploaded_to),
        "size": (
            None if search.min_size is None else f"{search.min_size:015d}",
            None if search.max_size is None else f"{search.max_size:015d}",
        ),
    }[search.sort]
    return low, None if high is None else f"{high}|{TOP}"


def _within(value: str | None, low: str | None, high: str | None) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _at_least(value: Any, minimum: float | None) -> bool:
    return minimum is None or (isinstance(value, (int, float)) and value >= minimum)


def _inside(gps: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    latitude, longitude = gps.get("latitude"), gps.get("longitude")
    if not isinstance(latitude, (int, float)) or not isinstance(longitude, (int, float)):
        return False
    south, west, north, east = bbox
    if not south <= latitude <= north:
        return False
    if west <= east:
        return west <= longitude <= east
    return longitude >= west or longitude <= east  # the box crosses the antimeridian
