"""Serving an image's bytes: inline when they fit a Lambda response, else a redirect."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalicelib.catalog.catalog import Catalog
from chalicelib.s3file import unreadable

GENERIC_CONTENT_TYPES = ("", "binary/octet-stream", "application/octet-stream")
# The bytes under a key can be replaced at any time: caches may keep them but
# must revalidate (cheap: If-None-Match answers 304 without a body).
CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class Download:
    status: int  # 200 with `body`, 304 not modified, 307 to `redirect_url`
    etag: str
    content_type: str = "application/octet-stream"
    last_modified: datetime | None = None
    body: bytes | None = None
    redirect_url: str | None = None

    def headers(self, key: str) -> dict[str, str]:
        """HTTP caching and naming headers for this download."""
        headers = {"ETag": f'"{self.etag}"', "Cache-Control": CACHE_CONTROL}
        if self.last_modified:
            utc = self.last_modified.astimezone(UTC)  # botocore's tzutc is not `UTC`
            headers["Last-Modified"] = format_datetime(utc, usegmt=True)
        if self.status == 200:
            headers["Content-Type"] = self.content_type
            headers["Content-Disposition"] = content_disposition(key)
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
    if_none_match: str | None = None,
) -> Download | None:
    """The object's bytes, a presigned URL for large ones, or 304; None if absent.

    Raises UnreadableObjectError for an archived object or one the service may
    not read (the API answers 409 or 403).
    """
    kwargs = {"Bucket": bucket, "Key": key}
    if if_none_match:
        # S3 compares (and sends no body on a match); HTTP's weak comparison
        # treats W/"x" like "x" here.
        kwargs["IfNoneMatch"] = if_none_match.replace("W/", "")
    try:
        response = s3_client.get_object(**kwargs)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("NoSuchKey", "404", "NotFound"):
            return None
        if code in ("304", "NotModified"):
            headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            return Download(304, headers.get("etag", if_none_match or "").strip('"'))
        problem = unreadable(error)
        if problem:
            raise problem from error
        raise
    content_type = _content_type(response.get("ContentType", ""), catalog.get(key))
    etag = response.get("ETag", "").strip('"')
    modified = response.get("LastModified")
    body = response["Body"]
    if response["ContentLength"] > max_inline:
        body.close()  # never pull more than a header's worth into the Lambda
        url = s3_client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(key),
            },
            ExpiresIn=presign_expires,
        )
        return Download(307, etag, content_type, modified, redirect_url=url)
    return Download(200, etag, content_type, modified, body=body.read())


def content_disposition(key: str) -> str:
    """`inline` with the key's file name: an ASCII fallback plus RFC 5987 UTF-8."""
    name = posixpath.basename(key)
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in name)
    header = f'inline; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def _content_type(stored: str, record: dict[str, Any] | None) -> str:
    """The type detected from the content, else what S3 says, else generic bytes."""
    if record and record.get("status") == "ok" and record.get("mime_type"):
        return record["mime_type"]
    if stored and stored.lower() not in GENERIC_CONTENT_TYPES:
        return stored
    return "application/octet-stream"
