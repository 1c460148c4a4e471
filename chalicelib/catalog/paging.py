"""Paging through the catalog: the opaque continuation token clients pass back."""

from __future__ import annotations

import base64
import binascii
import json


class InvalidTokenError(ValueError):
    """A continuation token this API did not hand out."""


def encode_token(after: str) -> str:
    """Opaque to clients: they pass it back, they don't build it."""
    data = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_token(token: str | None) -> str:
    """The key to continue after; "" for the first page."""
    if token is None:
        return ""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        after = json.loads(data)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidTokenError("next_token is not a token this API returned") from None
    if not isinstance(after, str) or not after:
        raise InvalidTokenError("next_token is not a token this API returned")
    return after
