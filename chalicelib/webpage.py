"""The web page's static files (chalicelib/web/), served by the API function itself.

Only files that exist in the package when it is imported are served (a fixed
whitelist, so no request can name a path outside it), each with its content
type, `nosniff` (set for every response by app.py) and a strict
Content-Security-Policy: scripts and styles from this origin only, images from
this origin, `data:`/`blob:` URLs (decoded placeholders, previews fetched with
an API key) and the OpenStreetMap tile host, and requests to this origin and
the bucket (uploads go straight to S3 with a presigned POST).

Cache: the files are not content-hashed (there is no build step), so they are
served with a short max-age instead of `immutable`: a deploy is seen within
five minutes. The page itself is revalidated on every load (`no-cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WEB_DIR = Path(__file__).parent / "web"
TILE_HOST = "https://tile.openstreetmap.org"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
ASSET_MAX_AGE = 300


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    cache_control: str


def _whitelist(root: Path) -> dict[str, Path]:
    """Every servable file under root by its URL path ("app.js", "vendor/leaflet/leaflet.css")."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in CONTENT_TYPES and path.name != "index.html"
    }


ASSETS = _whitelist(WEB_DIR)


def asset(name: str) -> Asset | None:
    """A static file by its path under /web/, or None when it is not one of the page's."""
    path = ASSETS.get(name)
    if path is None:
        return None
    return Asset(path.read_bytes(), CONTENT_TYPES[path.suffix], f"public, max-age={ASSET_MAX_AGE}")


def page() -> Asset:
    return Asset((WEB_DIR / "index.html").read_bytes(), CONTENT_TYPES[".html"], "no-cache")


def content_security_policy(upload_url: str | None) -> str:
    """The page's CSP; `upload_url` is where presigned POSTs go (its origin is allowed)."""
    connect = ["'self'"]
    if upload_url:
        parts = urlsplit(upload_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {TILE_HOST}",
            f"connect-src {' '.join(connect)}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def headers(item: Asset, csp: str) -> dict[str, str]:
    return {
        "Content-Type": item.content_type,
        "Cache-Control": item.cache_control,
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
    }


def needs_trailing_slash(path: str) -> bool:
    """Deployed, the page is at `/api/`; at `/api` its relative URLs would miss the stage."""
    return not path.endswith("/")


_upload_urls: dict[str, str] = {}


def upload_url(s3: Any, bucket: str) -> str:
    """Where the bucket's presigned POSTs go (signed locally, no request), computed once."""
    if bucket not in _upload_urls:
        _upload_urls[bucket] = s3.generate_presigned_post(Bucket=bucket, Key="page")["url"]
    return _upload_urls[bucket]
