"""The stored record: its status values, its DynamoDB encoding and its HTTP entity tag."""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from typing import Any

STATUS_OK = "ok"
STATUS_UNSUPPORTED = "unsupported"
STATUS_CORRUPT = "corrupt"
# The object exists but cannot be read (archived, or encrypted beyond our reach).
STATUS_UNREADABLE = "unreadable"


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
