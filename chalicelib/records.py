"""The image record: how it is assembled, stored in DynamoDB and returned as JSON."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.keys import extension_of
from chalicelib.s3file import ObjectInfo

STATUS_OK = "ok"
STATUS_UNSUPPORTED = "unsupported"
STATUS_CORRUPT = "corrupt"


def build_record(
    key: str, info: ObjectInfo, metadata: dict[str, Any], extracted_at: datetime
) -> dict[str, Any]:
    """The public record of one object: S3 facts plus what extraction found."""
    record: dict[str, Any] = {
        "s3objectkey": key,
        "size": info.size,
        "etag": info.etag,
        "last_modified": iso_utc(info.last_modified) if info.last_modified else None,
        "content_type": info.content_type,
        "extension": extension_of(key),
        "extracted_at": iso_utc(extracted_at),
    }
    record.update(metadata)
    return record


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the second (what S3 reports)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_dynamo(value: Any) -> Any:
    """A JSON-like value made storable: floats as exact Decimals, NaN/inf as None."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int, Decimal)):
        return value
    if isinstance(value, float):
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in a record")


def from_dynamo(value: Any) -> Any:
    """A stored value made JSON-ready: integral Decimals as int, others as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [from_dynamo(v) for v in value]
    return value


def record_etag(record: dict[str, Any]) -> str:
    """A strong HTTP entity tag for a record: changes whenever any field does."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): `*` or any listed tag equal to `etag`."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
