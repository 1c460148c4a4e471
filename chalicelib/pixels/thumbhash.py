"""Placeholder: stub replaced by the ThumbHash encoder."""

from __future__ import annotations

from PIL import Image


def thumbhash(image: Image.Image) -> str | None:
    return None
