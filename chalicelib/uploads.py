"""Credential-free uploads: a presigned S3 POST for a new key under the prefix.

The client asks with a file name and content type and gets a form to post the
file to S3 directly (the bytes never pass through Lambda). The POST policy
pins the key, the content type and a size range, and expires. Only the types
of formats the service reads are granted: an SVG (script) or any other
`image/*` would be stored for nothing, and served to browsers as its type.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
import uuid
from typing import Any

from chalicelib.extraction.extract import SUPPORTED_MIMES

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,@=]+")  # word characters include non-ASCII letters
# Not only blanks (ASCII whitespace, as the OpenAPI pattern says); a name of
# nothing printable still gets a key, as "upload".
_NOT_BLANK = re.compile(r"[^\t\n\x0b\x0c\r ]")
# Names browsers and tools also give some of those formats.
MIME_ALIASES = frozenset({"image/jpg", "image/pjpeg", "image/vnd.microsoft.icon", "image/x-ms-bmp"})
UPLOAD_TYPES = frozenset(SUPPORTED_MIMES) | MIME_ALIASES


class InvalidUploadError(ValueError):
    """The upload request cannot be granted as asked (a 400)."""


def upload_key(prefix: str, filename: str) -> str:
    """A new, unique key under `prefix` that keeps the file name readable."""
    return f"{prefix}{uuid.uuid4().hex[:16]}-{sanitize_filename(filename)}"


def sanitize_filename(filename: str) -> str:
    """The base name with path parts, control and unusual characters removed."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/")
    name = posixpath.basename(name).strip()
    name = _UNSAFE.sub("_", "".join(c for c in name if c.isprintable()))
    name = name.lstrip(".") or "upload"  # no hidden files, no "." or ".."
    if len(name) > MAX_NAME_CHARS:
        stem, ext = posixpath.splitext(name)
        name = stem[: MAX_NAME_CHARS - len(ext)] + ext
    return name


def presigned_upload(
    s3_client: Any,
    bucket: str,
    prefix: str,
    body: Any,
    max_bytes: int,
    expires: int,
) -> dict[str, Any]:
    """`{s3objectkey, url, fields, expires_in}` for a JSON request body."""
    if not isinstance(body, dict):
        raise InvalidUploadError('the body must be a JSON object: {"filename", "content_type"}')
    filename, content_type = body.get("filename"), body.get("content_type")
    if not isinstance(filename, str) or not _NOT_BLANK.search(filename):
        raise InvalidUploadError("filename must be a non-empty string")
    if len(filename) > 1024:
        raise InvalidUploadError("filename is longer than 1024 characters")
    if not isinstance(content_type, str) or content_type.lower() not in UPLOAD_TYPES:
        raise InvalidUploadError(
            "content_type must be the type of an image format the service reads: "
            + ", ".join(sorted(SUPPORTED_MIMES))
        )
    key = upload_key(prefix, filename)
    post = s3_client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type.lower()},
        Conditions=[
            {"Content-Type": content_type.lower()},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=expires,
    )
    return {"s3objectkey": key, "url": post["url"], "fields": post["fields"], "expires_in": expires}
