"""A listing page as the API sends it: bounded by its encoded size as well as by `limit`.

A Lambda response carries at most 6 MB, and the API's bodies are base64 (4/3
larger). Records vary a lot in size, and JSON escapes every non-ASCII
character (a 4-byte character stored in DynamoDB becomes 12 bytes of `\\ud83d\\ude00`),
so `limit` records can be far more than that. A page therefore stops before
the record that would take it over the budget; its `next_token` continues
right after the last record it holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.catalog.paging import encode_token

# Room for the envelope: `{"images":[...],"next_token":"..."}` and a token of
# at most a few KB.
_ENVELOPE_BYTES = 16 * 1024


def listing_page(
    records: list[dict[str, Any]],
    last: str | None,
    max_bytes: int,
    position: Callable[[dict[str, Any]], str] = lambda record: record["s3objectkey"],
    scope: str = "",
) -> dict[str, Any]:
    """`{"images", "next_token"}` for a page of records, cut at `max_bytes` of JSON.

    `last` is where the catalog's page ends (None: the listing is complete);
    `position` gives a record's place in the page's order and `scope` binds the
    token to its search. At least one record is always sent, so paging moves on.
    """
    budget = max_bytes - _ENVELOPE_BYTES
    used = 0
    for count, record in enumerate(records):
        # The way Chalice serializes bodies: compact, ASCII-escaped.
        used += len(json.dumps(record, separators=(",", ":"), default=str)) + 1
        if used > budget and count > 0:
            records, last = records[:count], position(records[count - 1])
            break
    return {"images": records, "next_token": encode_token(last, scope) if last else None}
