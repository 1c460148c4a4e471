"""The pixels stage's pure core: image bytes in, previews, colours and hashes out.

`analyse` reads a stream once (SHA-256 while reading, spooled to /tmp past a
few MB), decodes it once at the smallest scale that serves the largest
preview, and derives the WebP previews, average and dominant colours, a
ThumbHash placeholder and a 64-bit pHash from that one decode.
`phash_distance` and `phash_bands` serve the near-duplicate index.

Pure: Pillow and pillow-heif only; never boto3, the catalog or the service modules.
"""

from .analyse import analyse
from .facts import PREVIEW_SIZES, PixelFacts, PixelLimits, Preview
from .phash import phash_bands, phash_distance

__all__ = [
    "PREVIEW_SIZES",
    "PixelFacts",
    "PixelLimits",
    "Preview",
    "analyse",
    "phash_bands",
    "phash_distance",
]
