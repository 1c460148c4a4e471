"""Configuration, read once from environment variables set per stage."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.redact import parse_redact

# A Lambda proxy response is capped at 6 MB and the body is base64 (4/3 larger),
# so about 4.5 MB of raw bytes fit; 4 MiB leaves room for headers.
DEFAULT_MAX_INLINE_DOWNLOAD = 4 * 1024 * 1024
# The same arithmetic for a listing page's JSON (records can be large).
DEFAULT_MAX_PAGE_BYTES = 4 * 1024 * 1024
# EventBridge schedule expressions: `rate(1 day)`, `cron(0 3 * * ? *)`.
# The pixel stage's queue name, per stage in .chalice/config.json (IMAGES_PIXELS_QUEUE).
DEFAULT_PIXELS_QUEUE = "image-metadata-pixels"
_SCHEDULE = re.compile(r"(rate|cron)\([^()]+\)")


@dataclass(frozen=True)
class Settings:
    bucket: str
    table: str
    prefix: str = "uploads/"
    counter_shards: int = 1
    max_inline_download: int = DEFAULT_MAX_INLINE_DOWNLOAD
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    presign_expires: int = 300
    tombstone_ttl: int = 7 * 24 * 3600
    max_upload_bytes: int = 50 * 1024 * 1024
    upload_expires: int = 900
    api_key_required: bool = False
    cors_origin: str | None = None
    reconcile_schedule: str | None = "rate(1 day)"
    redact: tuple[str, ...] = ()  # record fields the API never serves (chalicelib/redact.py)
    # Reconcile jobs: the work queue the workers read, and their concurrency
    # ceiling (the event source's maximum concurrency, 2 to 1000).
    reconcile_queue: str = "image-metadata-reconcile-work"
    reconcile_workers: int = 100
    # The pixel stage (chalicelib/previews.py): on or off, where previews go, its queue,
    # and the objects it skips without decoding (bytes, pixels).
    previews: bool = True
    derived_prefix: str = "derived/"
    pixels_queue: str = DEFAULT_PIXELS_QUEUE
    preview_max_bytes: int = 100 * 1024 * 1024
    preview_max_pixels: int = 200_000_000
    preview_max_decode_mb: int = 900

    def __post_init__(self) -> None:
        if self.previews:  # with the stage off nothing is written under it
            check_derived_prefix(self.derived_prefix, self.prefix)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        prefix = environ.get("IMAGES_PREFIX", "uploads/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(
            bucket=environ.get("IMAGES_BUCKET", ""),
            table=environ.get("IMAGES_TABLE", ""),
            prefix=prefix,
            counter_shards=_positive_int(environ, "IMAGES_COUNTER_SHARDS", 1),
            max_inline_download=_positive_int(
                environ, "IMAGES_MAX_INLINE_DOWNLOAD", DEFAULT_MAX_INLINE_DOWNLOAD
            ),
            max_page_bytes=_positive_int(environ, "IMAGES_MAX_PAGE_BYTES", DEFAULT_MAX_PAGE_BYTES),
            presign_expires=_positive_int(environ, "IMAGES_PRESIGN_EXPIRES", 300),
            tombstone_ttl=_positive_int(environ, "IMAGES_TOMBSTONE_TTL", 7 * 24 * 3600),
            max_upload_bytes=_positive_int(environ, "IMAGES_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
            upload_expires=_positive_int(environ, "IMAGES_UPLOAD_EXPIRES", 900),
            api_key_required=_flag(environ, "IMAGES_API_KEY_REQUIRED"),
            cors_origin=environ.get("IMAGES_CORS_ORIGIN") or None,
            reconcile_schedule=_schedule(environ, "IMAGES_RECONCILE_SCHEDULE", "rate(1 day)"),
            redact=parse_redact(environ.get("IMAGES_REDACT", "")),
            reconcile_queue=environ.get("IMAGES_RECONCILE_QUEUE")
            or "image-metadata-reconcile-work",
            reconcile_workers=min(
                max(_positive_int(environ, "IMAGES_RECONCILE_WORKERS", 100), 2), 1000
            ),
            previews=_flag(environ, "IMAGES_PREVIEWS", default=True),
            derived_prefix=_folder(environ.get("IMAGES_DERIVED_PREFIX", "derived/")),
            pixels_queue=environ.get("IMAGES_PIXELS_QUEUE") or DEFAULT_PIXELS_QUEUE,
            preview_max_bytes=_positive_int(environ, "IMAGES_PREVIEW_MAX_BYTES", 100 * 1024 * 1024),
            preview_max_pixels=_positive_int(environ, "IMAGES_PREVIEW_MAX_PIXELS", 200_000_000),
            preview_max_decode_mb=_positive_int(
                environ, "IMAGES_PREVIEW_MAX_DECODE_MB", _decode_budget_mb(environ)
            ),
        )


def check_derived_prefix(derived: str, prefix: str) -> None:
    """Previews must live outside the uploads prefix (or they would be indexed as
    uploads, and trigger the handlers), and the uploads outside the derived prefix."""
    if not derived or not derived.endswith("/"):
        raise ValueError(
            f"IMAGES_DERIVED_PREFIX must be a folder such as 'derived/', got {derived!r}"
        )
    if derived.startswith(prefix) or prefix.startswith(derived):
        raise ValueError(
            f"IMAGES_DERIVED_PREFIX {derived!r} and IMAGES_PREFIX {prefix!r} must not contain "
            "each other: previews would be taken for uploads"
        )


def _folder(raw: str) -> str:
    raw = raw.strip()
    return raw if not raw or raw.endswith("/") else raw + "/"


def _decode_budget_mb(environ: Mapping[str, str]) -> int:
    """60% of the function's memory (Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE), so that
    raising the pixel stage's memory raises what it decodes; 900 MB elsewhere. The rest
    holds the interpreter, Pillow, libheif and the previews being encoded."""
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return max(int(memory) * 60 // 100, 1) if memory.isdigit() else 900


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _schedule(environ: Mapping[str, str], name: str, default: str) -> str | None:
    """An EventBridge schedule expression, or None for `off`."""
    raw = environ.get(name, default).strip()
    if raw.lower() in ("", "off", "none", "false", "0"):
        return None
    if not _SCHEDULE.fullmatch(raw):
        raise ValueError(f"{name} must be rate(...), cron(...) or off, got {raw!r}")
    return raw
