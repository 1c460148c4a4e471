"""Stage configuration from `.chalice/config.json`, for tools that run outside Chalice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


def stage_variables(config: dict[str, Any], stage: str) -> dict[str, str]:
    """A stage's environment variables: the top-level ones, overridden by the stage's."""
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def stage_environment(stage: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The environment variables `.chalice/config.json` sets for a stage."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    return stage_variables(config, stage)
