"""What the browser tests share with `make screenshots`: the seeded images, waiting for
the pixel stage, and a browser tab that records console errors and dialogs."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

from images import camera_jpeg, image_bytes
from stackrunner import Stack

TILE_HOST = "https://tile.openstreetmap.org"
HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Seeded:
    key: str
    make: str | None = None
    model: str | None = None
    gps: tuple[float, float] | None = None
    taken: str | None = None
    keywords: tuple[str, ...] = ()


SEED = [
    Seeded(
        "uploads/westminster.jpg",
        "Canon",
        "Canon EOS R5",
        (51.5007, -0.1246),
        "2024:05:03 18:30:00",
        ("london",),
    ),
    Seeded("uploads/family.jpg", "NIKON", "Z 6", None, "2023:12:24 20:00:00", ("family",)),
    Seeded("uploads/flat.png"),
    Seeded("uploads/flat-copy.png"),  # the same bytes: an exact duplicate
    # Hostile metadata and file name: must show as text, never run.
    Seeded(f"uploads/{HOSTILE}", "Evil", HOSTILE, None, "2022:01:01 10:00:00", (HOSTILE,)),
]


def seed_bytes(item: Seeded) -> bytes:
    if item.key.endswith(".png"):
        return image_bytes("PNG", (40, 30))
    # camera_jpeg writes keywords into XML as given: escape them as an XMP writer would.
    keywords = tuple(html.escape(k) for k in item.keywords)
    return camera_jpeg(
        (96, 64),
        make=item.make,
        model=item.model,
        taken=item.taken,
        gps=item.gps,
        keywords=keywords,
    )


def wait_for_pixels(stack: Stack, key: str, seconds: float = 30) -> dict:
    """The record once the pixel stage has run for it (previews, placeholder, hashes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record = stack.wait_for_record(key)
        if "preview" in record or "preview_error" in record:
            return record
        time.sleep(0.2)
    raise AssertionError(f"no pixel facts for {key} after {seconds}s")


@dataclass
class Page:
    """A browser tab on the page, with what it logged."""

    page: object
    errors: list[str]
    dialogs: list[str]


def open_page(browser, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []

    def on_console(message) -> None:
        # Map tiles cannot load in a closed network: that is the page's expected offline case.
        if message.type == "error" and not message.location.get("url", "").startswith(TILE_HOST):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(10_000)
    return Page(page, errors, dialogs)
