"""Serving an image's bytes: inline when they fit a Lambda response, else a redirect.

Nothing served may run script in the API's origin (an SVG or HTML object put
under the prefix by any writer): every response says `nosniff` and carries a
sandboxing CSP, and only images we read as `ok` (raster formats) are shown
`inline` with their type; anything else is an `attachment` of
`application/octet-stream`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalicelib.catalog.catalog import Catalog
from chalicelib.catalog.records import STATUS_OK
from chalicelib.extraction.extract import SUPPORTED_MIMES
from chalicelib.params import IfNoneMatch
from chalicelib.s3file import unreadable

OPAQUE_TYPE = "application/octet-stream"
# Marks, embeddings, overrides and isolates (Unicode Bidirectional Algorithm).
_NO_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
# Browsers must take the type as given, and a document opened anyway gets no
# script, no plugins, no requests and a unique origin.
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
# The bytes under a key can be replaced at any time: caches may keep them but
# must revalidate (cheap: If-None-Match answers 304 without a body).
CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class Download:
    status: int  # 200 with `body`, 304 not modified, 307 to `redirect_url`
    etag: str
    content_type: str = OPAQUE_TYPE
    last_modified: datetime | None = None
    body: bytes | None = None
    redirect_url: str | None = None
    disposition: str = "attachment"

    def headers(self, key: str) -> dict[str, str]:
        """HTTP caching, naming and safety headers for this download."""
        headers = {"ETag": f'"{self.etag}"', "Cache-Control": CACHE_CONTROL, **SAFETY_HEADERS}
        if self.last_modified:
            utc = self.last_modified.astimezone(UTC)  # botocore's tzutc is not `UTC`
            headers["Last-Modified"] = format_datetime(utc, usegmt=True)
        if self.status == 200:
            headers["Content-Type"] = self.content_type
            headers["Content-Disposition"] = content_disposition(key, self.disposition)
        if self.redirect_url:
            headers["Location"] = self.redirect_url
        return headers


def fetch_download(
    s3_client: Any,
    catalog: Catalog,
    bucket: str,
    key: str,
    max_inline: int,
    presign_expires: int,
    if_none_match: IfNoneMatch | None = None,
) -> Download | None:
    """The object's bytes, a presigned URL for large ones, or 304; None if absent.

    Raises UnreadableObjectError for an archived object or one the service may
    not read (the API answers 409 or 403).
    """
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
            return None
        problem = unreadable(error)
        if problem:
            raise problem from error
        raise
    etag = response.get("ETag", "").strip('"')
    modified = response.get("LastModified")
    body = response["Body"]
    if if_none_match and if_none_match.matches(etag):
        # RFC 9110 (weak comparison, `*` for any): the client has these bytes.
        # Compared here, not by S3, which knows neither `*` nor tag lists on GET.
        body.close()
        return Download(304, etag, last_modified=modified)
    content_type, disposition = presentation(catalog.get(key))
    if response["ContentLength"] > max_inline:
        body.close()  # never pull more than a header's worth into the Lambda
        url = s3_client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(key, disposition),
            },
            ExpiresIn=presign_expires,
        )
        return Download(307, etag, content_type, modified, redirect_url=url)
    return Download(200, etag, content_type, modified, body.read(), disposition=disposition)


def presentation(record: dict[str, Any] | None) -> tuple[str, str]:
    """(Content-Type, disposition type) for serving an object with this record.

    The type detected from the content, `inline`, for images we read; for
    anything else (not indexed yet, unsupported, corrupt) opaque bytes to save:
    S3's own content type is whatever the writer claimed, `text/html` included.
    """
    if record and record.get("status") == STATUS_OK and record.get("mime_type") in SUPPORTED_MIMES:
        return record["mime_type"], "inline"
    return OPAQUE_TYPE, "attachment"


def content_disposition(key: str, disposition: str = "attachment") -> str:
    """`disposition` with the key's file name: an ASCII fallback plus RFC 5987 UTF-8.

    Bidirectional controls are dropped: `bidi` + U+202E + `gpj.exe` would
    display as "bidiexe.jpg" in a save dialog.
    """
    name = posixpath.basename(key).translate(_NO_BIDI_CONTROLS) or "download"
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in name)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
