"""Per-stage access control: API keys and CORS come from the stage's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

INSPECT = """
import json
import app
from chalice.test import Client
routes = {
    f"{method} {path}": {
        "api_key_required": entry.api_key_required,
        "cors_origin": entry.cors.allow_origin if entry.cors else None,
    }
    for path, methods in app.app.routes.items()
    for method, entry in methods.items()
}
with Client(app.app) as client:
    response = client.http.get(
        "/openapi.json", headers={"Origin": "https://photos.example", "Accept": "*/*"}
    )
print(json.dumps({"routes": routes, "headers": dict(response.headers)}))
"""


def inspect_app(**env: str) -> dict:
    """Import app.py in a fresh interpreter, as Lambda would with the stage's variables."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")},
        "IMAGES_BUCKET": "b",
        "IMAGES_TABLE": "t",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", INSPECT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# The web page and its files: a browser opening a URL cannot send an API key, so
# these never require one (the page asks for the key and sends it to the API).
PAGE_ROUTES = {"GET /", "GET /web/{name}", "GET /web/vendor/{library}/{name}"}
OPERATIONS = {
    f"{method.upper()} {path}"
    for path, item in json.loads((ROOT / "chalicelib" / "openapi.json").read_text())[
        "paths"
    ].items()
    for method in item
}


def test_defaults_are_open_and_without_cors() -> None:
    found = inspect_app()
    assert set(found["routes"]) == OPERATIONS and PAGE_ROUTES < OPERATIONS
    assert all(
        r == {"api_key_required": False, "cors_origin": None} for r in found["routes"].values()
    )
    assert not any(name.lower().startswith("access-control") for name in found["headers"])


def test_api_key_and_cors_per_stage() -> None:
    found = inspect_app(IMAGES_API_KEY_REQUIRED="true", IMAGES_CORS_ORIGIN="https://photos.example")
    api = {name: r for name, r in found["routes"].items() if name not in PAGE_ROUTES}
    assert len(api) >= 9  # images, download, uploads, summary + 4 facets, openapi, ...
    assert all(
        r == {"api_key_required": True, "cors_origin": "https://photos.example"}
        for r in api.values()
    )
    assert all(not found["routes"][name]["api_key_required"] for name in PAGE_ROUTES)
    headers = {k.lower(): v for k, v in found["headers"].items()}
    assert headers["access-control-allow-origin"] == "https://photos.example"
    assert "If-None-Match" in headers["access-control-allow-headers"]
    assert "ETag" in headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", False), ("false", False), ("0", False), ("TRUE", True), ("yes", True)],
)
def test_api_key_flag_parsing(raw: str, expected: bool) -> None:
    settings = Settings.from_env({"IMAGES_API_KEY_REQUIRED": raw})
    assert settings.api_key_required is expected


def test_a_typo_in_the_flag_is_an_error_not_an_open_api() -> None:
    with pytest.raises(ValueError, match="IMAGES_API_KEY_REQUIRED"):
        Settings.from_env({"IMAGES_API_KEY_REQUIRED": "ture"})
