"""The environment the local tools (reconcile, redrive) run the app's code in, for a stage."""

from __future__ import annotations

import os

from devstack.stages import stage_environment


def use_stage(stage: str, profile: str | None = None, region: str | None = None) -> None:
    """Set os.environ to the stage's variables (and credentials for the local emulator).

    For `local`, without AWS_ENDPOINT_URL, the emulator `make dev` runs on
    LOCAL_AWS_PORT (default 4566), which takes any credentials.
    """
    env = stage_environment(stage)
    if stage == "local" and not os.environ.get("AWS_ENDPOINT_URL"):
        port = os.environ.get("LOCAL_AWS_PORT", "4566")
        env.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
    if profile:
        env["AWS_PROFILE"] = profile
    if region:
        env["AWS_DEFAULT_REGION"] = region
    os.environ.update(env)
