"""The page in a real browser: Debian's Chromium (launched by path, never downloaded)
driven by Playwright, against one real local stack shared by every browser test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from browsing import SEED, Page, open_page, seed_bytes, wait_for_pixels
from chromium import CHROMIUM, launch
from stackrunner import BUCKET, Stack, running_stack


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


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser, web_stack) -> Iterator[Page]:
    opened = open_page(browser)
    yield opened
    opened.page.context.close()
