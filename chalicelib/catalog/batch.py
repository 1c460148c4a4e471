"""Reading many items by key: BatchGetItem in chunks, retrying what comes back unprocessed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.catalog.layout import decode

MAX_KEYS = 100  # BatchGetItem's limit per request


def get_items(
    client: Any, table: str, pks: Iterable[str], consistent: bool = False
) -> dict[str, dict[str, Any]]:
    """The stored items of `pks` that exist, decoded, by pk."""
    wanted = list(dict.fromkeys(pks))  # a request may not name a key twice
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), MAX_KEYS):
        keys = [{"pk": {"S": pk}} for pk in wanted[start : start + MAX_KEYS]]
        request = {table: {"Keys": keys, "ConsistentRead": consistent}}
        # Unprocessed keys only appear under throttling: ask again for those.
        while request:
            response = client.batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(table, []):
                item = decode(raw)
                found[item["pk"]] = item
            request = response.get("UnprocessedKeys") or None
    return found
