"""The web page's files as the app serves them: a whitelist, types, CSP, cache headers."""

from __future__ import annotations

import re

import pytest

from chalicelib import webpage

ACCEPT = {"Accept": "*/*"}


def test_the_page_is_served_with_a_strict_policy(client) -> None:
    response = client.http.get("/", headers=ACCEPT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: blob: https://tile.openstreetmap.org"
    # The API, and the bucket the presigned POSTs go to (in-process moto: its AWS URL).
    assert policy["connect-src"].split(" ")[0] == "'self'"
    assert re.fullmatch(r"https://[\w.-]+", policy["connect-src"].split(" ")[1])
    assert policy["frame-ancestors"] == "'none'"
    assert b'<script type="module" src="web/app.js">' in response.body
    assert b"style=" not in response.body and b"<script>" not in response.body


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/web/app.js", "text/javascript; charset=utf-8"),
        ("/web/app.css", "text/css; charset=utf-8"),
        ("/web/vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
        ("/web/vendor/thumbhash/thumbhash.js", "text/javascript; charset=utf-8"),
    ],
)
def test_the_files_have_their_type_and_a_short_cache(client, path: str, content_type: str) -> None:
    response = client.http.get(path, headers=ACCEPT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.body == (webpage.WEB_DIR / path.removeprefix("/web/")).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/web/index.html",  # the page is at /
        "/web/vendor/leaflet/LICENSE",  # not a page file type
        "/web/vendor/leaflet/VERSION",
        "/web/..%2Fwebpage.py",
        "/web/vendor/..%2F..%2F..%2Fapp.py/x",
        "/web/vendor/leaflet/..%2F..%2Fapp.js",
        "/web/nope.js",
    ],
)
def test_nothing_outside_the_whitelist_is_served(client, path: str) -> None:
    response = client.http.get(path, headers=ACCEPT)
    assert response.status_code == 404
    assert response.json_body["Code"] == "NotFoundError"


@pytest.mark.parametrize(
    "path", ["/?make=canon", "/web/app.js?v=2", "/web/vendor/leaflet/leaflet.css?v=2"]
)
def test_the_page_and_its_files_take_no_query_parameter(client, path: str) -> None:
    # The page's state is in the URL's fragment, which browsers never send.
    response = client.http.get(path, headers=ACCEPT)
    assert response.status_code == 400
    assert "unknown query parameter" in response.json_body["Message"]


def test_a_stage_path_without_its_slash_is_redirected() -> None:
    assert webpage.needs_trailing_slash("/api")
    assert not webpage.needs_trailing_slash("/api/")
    assert not webpage.needs_trailing_slash("/")


def test_every_module_the_page_imports_is_served() -> None:
    """A missing or misspelt import would only show in a browser: check them here."""
    for name in [n for n in webpage.ASSETS if n.endswith(".js") and "vendor/" not in n]:
        source = (webpage.WEB_DIR / name).read_text()
        for target in re.findall(r"""(?:from|import\()\s*'\./([^']+)'""", source):
            assert target in webpage.ASSETS, (name, target)


def test_no_module_builds_html_from_strings() -> None:
    for name in [n for n in webpage.ASSETS if n.endswith(".js") and "vendor/" not in n]:
        source = (webpage.WEB_DIR / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (name, sink)
