"""Listing parameters: page size, the opaque continuation token, the format filter."""

from __future__ import annotations

import base64
import binascii
import json
import re

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_FORMAT = re.compile(r"[A-Za-z0-9]{1,16}")


class InvalidParameterError(ValueError):
    """A listing parameter a client got wrong (a 400)."""


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidParameterError(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def parse_format(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not _FORMAT.fullmatch(raw):
        raise InvalidParameterError("format must be a format name such as JPEG or PNG")
    return raw.upper()


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
        raise InvalidParameterError("next_token is not a token this API returned") from None
    if not isinstance(after, str) or not after:
        raise InvalidParameterError("next_token is not a token this API returned")
    return after
