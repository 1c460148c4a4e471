"""The page in a real browser: Debian's Chromium (launched by path, never downloaded)
driven by Playwright, against one real local stack shared by every browser test."""

from __future__ import annotations

import html
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from images import camera_jpeg, image_bytes
from stackrunner import BUCKET, Stack, running_stack

CHROMIUM = "/usr/bin/chromium"
# As root in a container: no sandbox; nothing that phones home or updates itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory) -> Iterator[Stack]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with running_stack(tmp_path_factory.mktemp("web")) as stack:
        for item in SEED:
            stack.s3.put_object(Bucket=BUCKET, Key=item.key, Body=seed_bytes(item))
        for item in SEED:
            wait_for_pixels(stack, item.key)
        yield stack


def wait_for_pixels(stack: Stack, key: str, seconds: float = 30) -> dict:
    """The record once the pixel stage has run for it (previews, placeholder, hashes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record = stack.wait_for_record(key)
        if "preview" in record or "preview_error" in record:
            return record
        time.sleep(0.2)
    raise AssertionError(f"no pixel facts for {key} after {seconds}s")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


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


@pytest.fixture
def tab(browser, web_stack) -> Iterator[Page]:
    opened = open_page(browser)
    yield opened
    opened.page.context.close()
