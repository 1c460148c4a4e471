"""The scheduled reconcile: daily by default, configurable per stage, off for `local`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.test import Client
from conftest import BUCKET
from images import png_with_alpha
from truth import assert_catalog_matches_bucket

import app as app_module
from chalicelib.settings import Settings
from ops.policy import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_scheduled_reconcile_repairs_what_slipped_through(deps, caplog) -> None:
    caplog.set_level("INFO", logger="image-metadata")
    deps.s3.put_object(Bucket=BUCKET, Key="uploads/missed.png", Body=png_with_alpha())

    with Client(app_module.app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        result = client.lambda_.invoke("scheduled_reconcile", event)

    assert result.payload["complete"] is True and result.payload["refreshed"] == 1
    assert_catalog_matches_bucket(deps)
    (line,) = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "image-metadata" and "scheduled_reconcile" in r.getMessage()
    ]
    assert line["refreshed"] == 1 and line["complete"] is True


def scheduled_functions(**env: str) -> list[str]:
    """The schedules app.py registers when imported with these variables (as Chalice would)."""
    script = (
        "import json, app\n"
        "print(json.dumps(sorted(h.name for h in app.app.event_sources"
        " if type(h).__name__ == 'ScheduledEventConfig')))"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IMAGES_")},
        "IMAGES_BUCKET": "b",
        "IMAGES_TABLE": "t",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_daily_by_default_and_off_when_the_stage_says_so() -> None:
    assert scheduled_functions() == ["scheduled_reconcile"]
    assert scheduled_functions(IMAGES_RECONCILE_SCHEDULE="off") == []
    local = load_config(ROOT)["stages"]["local"]["environment_variables"]
    assert local["IMAGES_RECONCILE_SCHEDULE"] == "off"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rate(1 day)", "rate(1 day)"),
        ("cron(0 3 * * ? *)", "cron(0 3 * * ? *)"),
        ("off", None),
        ("", None),
    ],
)
def test_schedule_setting(raw: str, expected: str | None) -> None:
    settings = Settings.from_env({"IMAGES_RECONCILE_SCHEDULE": raw})
    assert settings.reconcile_schedule == expected


@pytest.mark.parametrize("raw", ["daily", "rate 1 day", "every(1 day)"])
def test_a_wrong_schedule_fails_at_import(raw: str) -> None:
    with pytest.raises(ValueError, match="IMAGES_RECONCILE_SCHEDULE"):
        Settings.from_env({"IMAGES_RECONCILE_SCHEDULE": raw})
