"""Request parsing shared by the routes: query parameters, conditional headers, JSON bodies.

Every mistake here is the client's, so each raises InvalidParameterError with
a message that says what is accepted (the app answers 400). Everything is
checked before any AWS call, so nothing a client sends reaches S3 or DynamoDB
in a shape they would refuse with a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.catalog.paging import InvalidTokenError, decode_token
from chalicelib.keys import MAX_KEY_BYTES

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_FORMAT = re.compile(r"[A-Za-z0-9]{1,16}")
# A token carries one key of at most 1,024 UTF-8 bytes, JSON-escaped and base64url.
MAX_TOKEN_CHARS = 8192
# Browsers send one entity tag; a few dozen is already generous.
MAX_IF_NONE_MATCH_CHARS = 2048
# RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (obs-text, the
# obsolete non-ASCII part of etagc, is refused).
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
_TAG_LIST = re.compile(rf"[ \t]*{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*[ \t]*")
_TAG = re.compile(r'(?:W/)?"([\x21\x23-\x7e]*)"')
MAX_JSON_BODY_BYTES = 16 * 1024
MAX_SORT_VALUE_BYTES = 64  # what a sort key adds before `|<key>` (a time, a size)


class InvalidParameterError(ValueError):
    """A parameter a client got wrong (a 400)."""


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    # ASCII digits only (str.isdigit() also takes "²" and other scripts'
    # digits), and few of them, before anything converts the text.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_LIMIT):
        raise InvalidParameterError(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def parse_format(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not _FORMAT.fullmatch(raw):
        raise InvalidParameterError("format must be a format name such as JPEG or PNG")
    return raw.upper()


def parse_next_token(raw: str | None, scope: str = "") -> str:
    """The position a page continues after ("" for the first page): a key, or a sort
    key `<value>|<key>`; the token must belong to `scope` (its search)."""
    message = "next_token is not a token this API returned"
    if raw is not None and len(raw) > MAX_TOKEN_CHARS:
        raise InvalidParameterError(message)
    try:
        after = decode_token(raw, scope)
    except InvalidTokenError as error:
        raise InvalidParameterError(str(error)) from None
    try:
        # A forged token may hold what no S3 key can be (too long, lone
        # surrogates): DynamoDB would refuse it with a server error.
        if len(after.encode("utf-8")) > MAX_KEY_BYTES + MAX_SORT_VALUE_BYTES:
            raise InvalidParameterError(message)
    except UnicodeEncodeError:
        raise InvalidParameterError(message) from None
    return after


def check_query_parameters(given: Iterable[str], accepted: Collection[str]) -> None:
    """Refuse parameters the route does not read: a typo must not go unnoticed."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        names = ", ".join(sorted(accepted)) if accepted else "none"
        raise InvalidParameterError(
            f"unknown query parameter {unknown[0]!r}; this route accepts: {names}"
        )


@dataclass(frozen=True)
class IfNoneMatch:
    """A parsed If-None-Match header: `*`, or entity tags compared weakly."""

    any: bool
    tags: frozenset[str]

    def matches(self, etag: str) -> bool:
        """Whether a current representation with `etag` (quoted or not) fails the condition."""
        return self.any or etag.removeprefix("W/").strip('"') in self.tags


def parse_if_none_match(raw: str | None) -> IfNoneMatch | None:
    """RFC 9110 If-None-Match: `*` or a list of entity tags; None when absent."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_IF_NONE_MATCH_CHARS:
        raise InvalidParameterError(
            f"If-None-Match is longer than {MAX_IF_NONE_MATCH_CHARS} characters"
        )
    if raw.strip() == "*":
        return IfNoneMatch(any=True, tags=frozenset())
    if not _TAG_LIST.fullmatch(raw):
        raise InvalidParameterError(
            'If-None-Match must be * or a list of entity tags such as "abc" or W/"abc"'
        )
    return IfNoneMatch(any=False, tags=frozenset(_TAG.findall(raw)))


def parse_json_body(content_type: str | None, raw: bytes | None) -> Any:
    """A request's JSON body: `application/json`, bounded in size, parsed safely."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise InvalidParameterError(
            "the body must be JSON, sent with Content-Type: application/json"
        )
    if raw is None or not raw.strip():
        raise InvalidParameterError("the body must be a JSON object, not empty")
    if len(raw) > MAX_JSON_BODY_BYTES:
        raise InvalidParameterError(f"the body is larger than {MAX_JSON_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except RecursionError:
        raise InvalidParameterError("the JSON body is nested too deeply") from None
    except ValueError as error:  # UnicodeDecodeError is a ValueError too
        raise InvalidParameterError(f"the body is not valid JSON: {error}"[:200]) from None
