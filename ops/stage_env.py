"""The environment the local tools (reconcile, redrive) run the app's code in, for a stage."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from devstack import state
from devstack.stages import stage_environment


def use_stage(stage: str, profile: str | None = None, region: str | None = None) -> None:
    """Set os.environ to the stage's variables (and credentials for the local emulator).

    For `local`, without AWS_ENDPOINT_URL, the stack `make dev` runs, found
    through the state file in its data folder (DATA_DIR): its endpoint,
    credentials and region, whatever ports it uses. With none running, the
    tool stops with one line saying so.
    """
    env = stage_environment(stage)
    if stage == "local" and not os.environ.get("AWS_ENDPOINT_URL"):
        try:
            env.update(state.find().aws_environment())
        except state.NoStackError as error:
            raise SystemExit(f"{Path(sys.argv[0]).stem}: {error}") from None
    if profile:
        env["AWS_PROFILE"] = profile
    if region:
        env["AWS_DEFAULT_REGION"] = region
    os.environ.update(env)
