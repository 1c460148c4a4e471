"""IMAGES_REDACT: GPS positions and serial numbers (or any listed field) left out of every
API response, while the table keeps them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from chalice.test import Client
from conftest import Uploader
from images import rich_jpeg

import app as app_module
from chalicelib.redact import RECORD_FIELDS, InvalidRedactionError, parse_redact, redact
from chalicelib.settings import Settings
from ops.policy import load_config

KEY = "uploads/trip.jpg"


@pytest.fixture
def client(deps) -> Client:
    with Client(app_module.app) as test_client:
        yield test_client


def served(client: Client) -> tuple[dict, dict]:
    one = client.http.get(f"/images?s3objectkey={KEY}", headers={"Accept": "*/*"})
    page = client.http.get("/images", headers={"Accept": "*/*"})
    (listed,) = json.loads(page.body)["images"]
    return json.loads(one.body), listed


def test_without_the_setting_everything_is_served(client, uploader: Uploader) -> None:
    uploader.upload(KEY, rich_jpeg())
    record, listed = served(client)
    assert record["gps"]["latitude"] and record["camera"]["serial"]
    assert "GPSLatitude" in record["exif"] and "SerialNumber" in record["exif"]
    assert listed == record


def test_location_and_serials_are_left_out_but_kept(client, uploader, deps) -> None:
    uploader.upload(KEY, rich_jpeg())
    stored = deps.catalog.get(KEY)
    plain_etag = client.http.get(f"/images?s3objectkey={KEY}").headers["ETag"]
    deps.settings = replace(deps.settings, redact=parse_redact("location,serials"))

    record, listed = served(client)

    for shown in (record, listed):
        assert "gps" not in shown and "serial" not in shown["camera"]
        assert not any(
            tag.startswith("GPS") or tag.endswith("SerialNumber") for tag in shown["exif"]
        )
        # Everything else is served as before.
        assert shown["camera"]["make"] == stored["camera"]["make"]
        assert shown["exif"]["Make"] == stored["exif"]["Make"]
        assert shown["width"] == stored["width"] and shown["taken_at"] == stored["taken_at"]
    # The table still has them: turning the setting off serves them again.
    assert deps.catalog.get(KEY) == stored and stored["gps"] and stored["camera"]["serial"]
    # A client's cached copy of the full record is not taken for the redacted one.
    response = client.http.get(f"/images?s3objectkey={KEY}", headers={"If-None-Match": plain_etag})
    assert response.status_code == 200 and response.headers["ETag"] != plain_etag


def test_any_field_path_can_be_left_out(client, uploader, deps) -> None:
    uploader.upload(KEY, rich_jpeg())
    deps.settings = replace(deps.settings, redact=parse_redact("xmp, exif.Artist, iptc.*"))
    record, _ = served(client)
    assert "xmp" not in record and "Artist" not in record["exif"] and record["iptc"] == {}
    summary = json.loads(client.http.get("/summary").body)
    deps.settings = replace(deps.settings, redact=parse_redact("size"))
    assert "size" not in json.loads(client.http.get("/summary").body)["biggest"]
    assert summary["biggest"]["size"] > 0


@pytest.mark.parametrize(
    ("raw", "paths"),
    [
        ("", ()),
        ("location", ("gps", "exif.GPS*")),
        ("serials, location", ("camera.serial", "exif.*SerialNumber", "gps", "exif.GPS*")),
        ("gps,gps", ("gps",)),
    ],
)
def test_parse_redact(raw: str, paths: tuple[str, ...]) -> None:
    assert parse_redact(raw) == paths


@pytest.mark.parametrize("raw", ["everything", "exif..Artist", "a b", "exif.GPS/x"])
def test_a_wrong_value_fails_at_import(raw: str) -> None:
    with pytest.raises(InvalidRedactionError, match="IMAGES_REDACT"):
        Settings.from_env({"IMAGES_REDACT": raw})


def test_redact_copies_and_never_changes_the_record() -> None:
    record = {"gps": {"latitude": 1}, "camera": {"serial": "x", "make": "y"}, "exif": None}
    assert redact(record, ("gps", "camera.serial", "exif.GPS*")) == {
        "camera": {"make": "y"},
        "exif": None,
    }
    assert record["gps"] == {"latitude": 1} and record["camera"]["serial"] == "x"


def test_the_open_dev_stage_leaves_out_locations_and_serials() -> None:
    stages = load_config()["stages"]
    assert stages["dev"]["environment_variables"]["IMAGES_API_KEY_REQUIRED"] == "false"
    assert stages["dev"]["environment_variables"]["IMAGES_REDACT"] == "location,serials"


def test_every_field_of_a_record_can_be_named(uploader: Uploader, deps) -> None:
    uploader.upload(KEY, rich_jpeg())
    uploader.upload("uploads/notes.txt", b"text")
    for key in (KEY, "uploads/notes.txt"):
        assert set(deps.catalog.get(key)) <= RECORD_FIELDS
