"""What the pixels stage derives from one image: the shapes the service stores."""

from __future__ import annotations

from dataclasses import dataclass

PREVIEW_SIZES = (256, 1024)  # long-edge targets, smallest first
MEDIA_TYPE = "image/webp"


@dataclass(frozen=True)
class PixelLimits:
    """Objects above any bound are skipped, never decoded. `max_decode_bytes` bounds the
    memory a decode holds (pixels times the bytes each mode needs, after JPEG's and JPEG
    2000's reduced-scale decoding), so that a big image is skipped, not an out-of-memory
    kill of the function."""

    max_bytes: int = 100 * 1024 * 1024
    max_pixels: int = 200_000_000
    max_decode_bytes: int = 900 * 1024 * 1024


@dataclass(frozen=True)
class Preview:
    size: int  # the target long edge (one of PREVIEW_SIZES); smaller images are not upscaled
    width: int
    height: int
    data: bytes  # WebP
    media_type: str = MEDIA_TYPE


@dataclass(frozen=True)
class PixelFacts:
    content_sha256: str | None  # 64 hex digits; None when the object was not read to the end
    previews: tuple[Preview, ...]  # empty on error/skipped
    average_color: str | None  # "#rrggbb"
    dominant_colors: tuple[tuple[str, float], ...]  # up to 5 (colour, share), shares sum <= 1
    placeholder: str | None  # ThumbHash, standard base64
    phash: str | None  # 16 lowercase hex digits
    error: str | None = None  # plain reason: decoding or analysis failed
    skipped: str | None = None  # plain reason: over the limits, not decoded

    @classmethod
    def failed(cls, sha256: str | None, *, error: str | None = None, skipped: str | None = None):
        return cls(sha256, (), None, (), None, None, error=error, skipped=skipped)
