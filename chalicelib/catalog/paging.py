"""Paging through the catalog: the opaque continuation token clients pass back."""

from __future__ import annotations

import base64
import binascii
import json


class InvalidTokenError(ValueError):
    """A continuation token this API did not hand out."""


def encode_token(after: str, scope: str = "") -> str:
    """Opaque to clients: they pass it back, they don't build it. A token is bound to
    its `scope` (e.g. one search's filters and order)."""
    data = json.dumps(
        {"after": after, **({"scope": scope} if scope else {})}, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_token(token: str | None, scope: str = "") -> str:
    """The position to continue after; "" for the first page."""
    if token is None:
        return ""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, found_scope = data["after"], data.get("scope", "")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise InvalidTokenError("next_token is not a token this API returned") from None
    if not isinstance(after, str) or not after:
        raise InvalidTokenError("next_token is not a token this API returned")
    if found_scope != scope:
        raise InvalidTokenError("next_token belongs to another search: start again without it")
    return after
