"""Search and analysis requests: query parameters in, a validated search or facet page out.

Every parameter is checked before any AWS call; a mistake raises
InvalidParameterError naming the parameter and what it accepts (a 400).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.catalog.catalog import Catalog
from chalicelib.catalog.indexes import MAX_TERM_CHARS, term_value
from chalicelib.catalog.paging import encode_token
from chalicelib.catalog.query import ORDERS, Search
from chalicelib.keys import MAX_KEY_BYTES
from chalicelib.listing import listing_page
from chalicelib.params import InvalidParameterError, parse_format, parse_limit, parse_next_token
from chalicelib.redact import redact
from chalicelib.settings import Settings

STATUSES = ("ok", "unsupported", "corrupt", "unreadable")
ORIENTATIONS = ("landscape", "portrait", "square")
SORTS = tuple(f"{sign}{order}" for order in ORDERS for sign in ("", "-"))
LISTING_PARAMETERS = (
    *(f.name for f in fields(Search) if f.name not in ("sort", "descending", "keyword")),
    "keyword",
    "sort",
    "limit",
    "next_token",
    "s3objectkey",
)
TIMELINE_BY = ("year", "month", "day")
MAX_NUMBER_DIGITS = 15
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")
_DATE_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?(Z|[+-]\d\d:\d\d)?")
_DECIMAL = re.compile(r"\d{1,6}(\.\d{1,6})?")


def parse_search(params: Mapping[str, str], prefix: str) -> Search:
    """The search that `GET /images` query parameters ask for."""
    sort = params.get("sort", "key")
    if sort not in SORTS:
        raise InvalidParameterError(f"sort must be one of {', '.join(SORTS)}")
    found: dict[str, Any] = {
        "sort": sort.removeprefix("-"),
        "descending": sort.startswith("-"),
        "format": parse_format(params.get("format")),
        "status": _choice(params, "status", STATUSES),
        "orientation": _choice(params, "orientation", ORIENTATIONS),
        "has_gps": _flag(params, "has_gps"),
        "animated": _flag(params, "animated"),
        "bbox": _bbox(params.get("bbox")),
        "prefix": _prefix(params.get("prefix"), prefix),
    }
    for name in ("make", "model", "lens", "keyword"):
        found[name] = _term(params, name)
    for name in ("min_width", "min_height", "min_size", "max_size"):
        found[name] = _integer(params, name)
    found["min_megapixels"] = _decimal(params, "min_megapixels")
    found["taken_from"] = _moment(params, "taken_from", end=False, utc=False)
    found["taken_to"] = _moment(params, "taken_to", end=True, utc=False)
    found["uploaded_from"] = _moment(params, "uploaded_from", end=False, utc=True)
    found["uploaded_to"] = _moment(params, "uploaded_to", end=True, utc=True)
    for low, high in (("min_size", "max_size"), ("taken_from", "taken_to")):
        if found[low] is not None and found[high] is not None and found[low] > found[high]:
            raise InvalidParameterError(f"{low} must not be after {high}")
    if _after(found["uploaded_from"], found["uploaded_to"]):
        raise InvalidParameterError("uploaded_from must not be after uploaded_to")
    return Search(**found)


def search_scope(search: Search) -> str:
    """What a continuation token is bound to ("" for the plain key-order listing, whose
    tokens predate search and stay valid)."""
    if search == Search():
        return ""
    return hashlib.sha256(search.describe().encode()).hexdigest()[:16]


def parse_position(token: str | None, scope: str) -> str | None:
    """Where a page of the search `scope` continues (None: the first page)."""
    return parse_next_token(token, scope) or None


def token(position: str | None, scope: str) -> str | None:
    """The `next_token` of a page that ends at `position` (None: the last page)."""
    return encode_token(position, scope) if position else None


def search_page(catalog: Catalog, settings: Settings, params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /images` without a key: one page of the search the parameters describe."""
    search = parse_search(params, settings.prefix)
    limit = parse_limit(params.get("limit"))
    scope = search_scope(search)
    after = parse_position(params.get("next_token"), scope)
    images, last = catalog.search_images(search, limit, after)
    public = [redact(record, settings.redact) for record in images]
    return listing_page(public, last, settings.max_page_bytes, search.position, scope)


def facet_page(catalog: Catalog, facet: str, params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /summary/cameras|lenses|keywords`: one page of a facet's values."""
    limit = parse_limit(params.get("limit"))
    values, last = catalog.facet_values(
        facet, limit, parse_position(params.get("next_token"), facet)
    )
    return {"values": values, "next_token": token(last, facet)}


def timeline_page(catalog: Catalog, params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /summary/timeline`: one page of images per year or month."""
    by = timeline_by(params)
    scope = f"timeline-{by}"
    limit = parse_limit(params.get("limit"))
    entries, last = catalog.timeline(by, limit, parse_position(params.get("next_token"), scope))
    return {"by": by, "entries": entries, "next_token": token(last, scope)}


def timeline_by(params: Mapping[str, str]) -> str:
    by = params.get("by", "month")
    if by not in TIMELINE_BY:
        raise InvalidParameterError(f"by must be one of {', '.join(TIMELINE_BY)}")
    return by


def _choice(params: Mapping[str, str], name: str, accepted: tuple[str, ...]) -> str | None:
    raw = params.get(name)
    if raw is not None and raw not in accepted:
        raise InvalidParameterError(f"{name} must be one of {', '.join(accepted)}")
    return raw


def _flag(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidParameterError(f"{name} must be true or false")
    return raw == "true"


def _term(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    value = term_value(raw)
    if value is None or len(raw) > MAX_TERM_CHARS:
        raise InvalidParameterError(f"{name} must be 1 to {MAX_TERM_CHARS} characters of text")
    return value


def _integer(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_NUMBER_DIGITS):
        raise InvalidParameterError(f"{name} must be a whole number (up to 15 digits)")
    return int(raw)


def _decimal(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and _DECIMAL.fullmatch(raw)):
        raise InvalidParameterError(f"{name} must be a decimal number such as 12 or 2.5")
    return float(raw)


def _moment(params: Mapping[str, str], name: str, end: bool, utc: bool) -> str | None:
    """An ISO 8601 date or date-time as the sort keys spell it; a date alone means the
    start of that day (`end`: its last second). Capture times are the camera's local
    time, so they take no offset; upload times are UTC, and an offset is applied."""
    raw = params.get(name)
    if raw is None:
        return None
    accepted = (
        f"{name} must be an ISO 8601 date or date-time such as 2024-05-01 or 2024-05-01T13:45"
    )
    if not raw.isascii():
        raise InvalidParameterError(accepted)
    date, moment = _DATE.fullmatch(raw), _DATE_TIME.fullmatch(raw)
    try:
        if date:
            parsed = datetime(*(int(part) for part in date.groups()))
            if end:
                parsed += timedelta(days=1, seconds=-1)
            offset = None
        elif moment:
            *parts, seconds, offset = moment.groups()
            parsed = datetime(*(int(part) for part in parts), int(seconds or 0))
        else:
            raise ValueError
    except ValueError:
        raise InvalidParameterError(accepted) from None
    if offset and not utc:
        raise InvalidParameterError(
            f"{name} is compared with the camera's local time: leave out the offset"
        )
    if utc:
        if offset and offset != "Z":
            sign = 1 if offset[0] == "+" else -1
            parsed -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        return parsed.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def _after(low: str | None, high: str | None) -> bool:
    return low is not None and high is not None and low > high


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    accepted = "bbox must be south,west,north,east in decimal degrees (south <= north)"
    parts = raw.split(",")
    if len(parts) != 4 or not all(re.fullmatch(r"-?\d{1,3}(\.\d{1,9})?", p) for p in parts):
        raise InvalidParameterError(accepted)
    south, west, north, east = (float(p) for p in parts)
    if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidParameterError(accepted)
    return south, west, north, east


def _prefix(raw: str | None, configured: str) -> str | None:
    """A folder-like key prefix; given with or without the configured prefix."""
    if raw is None:
        return None
    full = raw if raw.startswith(configured) else configured + raw
    if raw.startswith("/") or "\\" in raw or len(full.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        raise InvalidParameterError(f"prefix must be a key prefix of at most {MAX_KEY_BYTES} bytes")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidParameterError("prefix must not contain control characters")
    return full
