"""Serving an image's bytes: inline when they fit a Lambda response, else a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog import Catalog

GENERIC_CONTENT_TYPES = ("", "binary/octet-stream", "application/octet-stream")


@dataclass(frozen=True)
class Download:
    content_type: str
    etag: str
    body: bytes | None = None  # inline bytes, or None with a redirect
    redirect_url: str | None = None


def fetch_download(
    s3_client: Any,
    catalog: Catalog,
    bucket: str,
    key: str,
    max_inline: int,
    presign_expires: int,
) -> Download | None:
    """The object's bytes (or a presigned URL for large ones); None if absent."""
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    content_type = _content_type(response.get("ContentType", ""), catalog.get(key))
    etag = response.get("ETag", "").strip('"')
    body = response["Body"]
    if response["ContentLength"] > max_inline:
        body.close()  # never pull more than a header's worth into the Lambda
        url = s3_client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": content_type,
            },
            ExpiresIn=presign_expires,
        )
        return Download(content_type, etag, redirect_url=url)
    return Download(content_type, etag, body=body.read())


def _content_type(stored: str, record: dict[str, Any] | None) -> str:
    """The type detected from the content, else what S3 says, else generic bytes."""
    if record and record.get("status") == "ok" and record.get("mime_type"):
        return record["mime_type"]
    if stored and stored.lower() not in GENERIC_CONTENT_TYPES:
        return stored
    return "application/octet-stream"
