"""Turning user-supplied object keys into safe keys under the configured prefix."""

from __future__ import annotations

import posixpath
import re

MAX_KEY_BYTES = 1024  # S3's own limit on key length
# A `%` that does not start a percent-encoded byte: what a decoder leaves of
# `%zz` or a lone `%`. (A key really containing such a `%`, sent as `%25`,
# cannot be told apart after decoding; uploads never create one.)
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class InvalidKeyError(ValueError):
    """The key can never name an image of this service (a 400, not a 404)."""


def resolve_key(raw: str, prefix: str) -> str:
    """Return the full S3 key for a user-supplied key, or raise InvalidKeyError.

    `cat.jpg` and `uploads/cat.jpg` both resolve to `uploads/cat.jpg`. Keys that
    try to climb out of the prefix or that S3 clients would rewrite on the way
    (dot segments, backslashes, control characters) are refused outright, so
    nothing outside the prefix is ever read or served.
    """
    if not raw:
        raise InvalidKeyError("s3objectkey must not be empty")
    if raw.startswith("/"):
        raise InvalidKeyError("s3objectkey must not start with '/'")
    if "\\" in raw:
        raise InvalidKeyError("s3objectkey must not contain backslashes")
    if "\ufffd" in raw:
        # What a decoder leaves of invalid UTF-8 or percent-encoding.
        raise InvalidKeyError("s3objectkey is not valid UTF-8 or percent-encoding")
    if _BROKEN_ESCAPE.search(raw):
        raise InvalidKeyError(
            "s3objectkey is not valid percent-encoding: '%' must start an escape such as %25"
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidKeyError("s3objectkey must not contain control characters")
    if any(segment in (".", "..") for segment in raw.split("/")):
        raise InvalidKeyError("s3objectkey must not contain '.' or '..' segments")
    key = raw if raw.startswith(prefix) else prefix + raw
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError("s3objectkey is not valid UTF-8") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"s3objectkey is longer than {MAX_KEY_BYTES} bytes")
    if key == prefix or key.endswith("/"):
        raise InvalidKeyError("s3objectkey names a folder, not an image")
    return key


def is_image_key(key: str, prefix: str) -> bool:
    """True for keys the event handlers should process (under the prefix, not a folder)."""
    return key.startswith(prefix) and not key.endswith("/") and len(key) > len(prefix)


def extension_of(key: str) -> str | None:
    """Lower-case file extension of the key without the dot, or None."""
    ext = posixpath.splitext(posixpath.basename(key))[1]
    return ext[1:].lower() or None
