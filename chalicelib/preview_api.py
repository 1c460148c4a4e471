"""What `GET /images/preview` and `GET /images/duplicates` answer, from the record.

The record says whether the pixel stage has run for the current bytes and
what it found; only then is the preview object read (inline: a WebP preview
is far below a Lambda response's limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.catalog import Catalog
from chalicelib.params import IfNoneMatch, InvalidParameterError
from chalicelib.pixel_queue import PREVIEW_SIZES, preview_key, stage_has_run
from chalicelib.settings import Settings

# Immutable only when the URL names the source's ETag: then it names exact bytes.
# Without it the URL follows overwrites, so caches revalidate (a 304 is cheap).
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
SIZES = tuple(str(size) for size in PREVIEW_SIZES)
_ETAG = re.compile(r"[0-9a-fA-F]{32}(-[0-9]{1,5})?")  # S3's: MD5, or multipart MD5-parts


@dataclass(frozen=True)
class Answer:
    """One route's answer: a status with a JSON body, or preview bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_size(raw: str | None) -> str:
    if raw is None:
        return SIZES[0]
    if raw not in SIZES:
        raise InvalidParameterError(f"size must be one of {', '.join(SIZES)}")
    return raw


def parse_etag(raw: str | None) -> str | None:
    """The source ETag a preview URL names (`etag=`), without quotes; None if not given."""
    if raw is None:
        return None
    if not _ETAG.fullmatch(raw):
        raise InvalidParameterError("etag must be the image's S3 ETag (its record's `etag`)")
    return raw.lower()


def preview_response(
    s3: Any,
    catalog: Catalog,
    settings: Settings,
    key: str,
    size: str,
    source: str | None,
    condition: IfNoneMatch | None,
    uploaded: Any,
) -> Answer:
    """The preview of `key` at `size`, of the version whose ETag is `source` when given;
    `uploaded(key)` says whether the object exists (asked only when there is no record)."""
    record = catalog.get(key)
    if not settings.previews:
        return _missing(key, "previews are switched off on this stage (IMAGES_PREVIEWS)")
    if record is None:
        if uploaded(key):
            return Answer(202, {"s3objectkey": key, "status": "pending"})
        return _missing(key, f"no image with key {key!r}")
    status = record.get("status")
    if status != "ok":
        return _missing(key, f"no preview: the object's metadata status is {status!r}")
    if not stage_has_run(record):
        return Answer(202, {"s3objectkey": key, "status": "pending", "preview": "pending"})
    reason = record.get("preview_skipped") or record.get("preview_error")
    if reason:
        return _missing(key, f"no preview: {reason}")
    if size not in (record.get("preview") or {}):
        return _missing(key, f"no preview of size {size}")
    if source is not None and source != record["etag"].lower():
        return _missing(key, f"the image has changed: its ETag is now {record['etag']}")
    etag = f'"{record["etag"]}-{size}"'
    headers = {"ETag": etag, "Cache-Control": REVALIDATE if source is None else IMMUTABLE}
    if condition and condition.matches(etag.strip('"')):
        return Answer(304, "", headers)
    target = preview_key(settings.derived_prefix, settings.prefix, key, record["etag"], int(size))
    try:
        response = s3.get_object(Bucket=settings.bucket, Key=target)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return _missing(key, "the preview is missing; reconcile regenerates it")
        raise
    with response["Body"] as body:
        data = body.read()
    return Answer(200, data, {**headers, "Content-Type": "image/webp"})


def duplicates_response(catalog: Catalog, settings: Settings, key: str, uploaded: Any) -> Answer:
    """Exact and near copies of `key` (see Catalog.duplicates.lookup)."""
    from chalicelib.catalog.duplicates import bands

    record = catalog.get(key)
    if record is None:
        if uploaded(key):
            return Answer(202, {"s3objectkey": key, "status": "pending"})
        return _missing(key, f"no image with key {key!r}")
    if record.get("status") != "ok":
        return _missing(key, f"no duplicates: the object's metadata status is {record['status']!r}")
    if not stage_has_run(record):
        if not settings.previews:
            return _missing(key, "the pixel stage is switched off on this stage (IMAGES_PREVIEWS)")
        return Answer(202, {"s3objectkey": key, "status": "pending", "duplicates": "pending"})
    if not record.get("content_sha256"):
        return _missing(key, f"no content hash: {record.get('preview_skipped') or 'not read'}")
    phash = record.get("phash")
    return Answer(200, catalog.duplicates.lookup(record, bands(phash) if phash else ()))


def _missing(key: str, reason: str) -> Answer:
    return Answer(404, {"Code": "NotFoundError", "Message": reason})
