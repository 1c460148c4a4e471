"""Debian's Chromium as the browser tests, `make screenshots` and bench_page launch it."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"  # the Debian package; Playwright never downloads a browser
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


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
