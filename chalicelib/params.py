"""Request parsing shared by the routes: query parameters and conditional headers.

Every mistake here is the client's, so each raises InvalidParameterError with
a message that says what is accepted (the app answers 400).
"""

from __future__ import annotations

import re

from chalicelib.catalog.paging import InvalidTokenError, decode_token

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_FORMAT = re.compile(r"[A-Za-z0-9]{1,16}")


class InvalidParameterError(ValueError):
    """A parameter a client got wrong (a 400)."""


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


def parse_next_token(raw: str | None) -> str:
    """The key a listing continues after; "" for the first page."""
    try:
        return decode_token(raw)
    except InvalidTokenError as error:
        raise InvalidParameterError(str(error)) from None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): `*` or any listed tag equal to `etag`."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
