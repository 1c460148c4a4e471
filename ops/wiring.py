"""After `chalice deploy`: what Chalice cannot configure, set on what it deployed.

- The S3 handlers' on-failure destination: an event still failing after
  Lambda's two retries is sent to the stage's failed-events queue (created by
  ops/template.yaml, kept 14 days) instead of vanishing; `make redrive`
  replays it. Lambda sends it with the function's role, whose policy allows
  `sqs:SendMessage` on that queue (ops/policy.py).
- API Gateway throttling for the stage (`IMAGES_THROTTLE_RATE` requests per
  second, `IMAGES_THROTTLE_BURST` at once; 429 beyond), so that an open stage
  cannot be made to run up a bill or starve the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The functions S3 invokes asynchronously: their failures must land somewhere.
EVENT_FUNCTIONS = ("on_object_created", "on_object_removed")
RETRY_ATTEMPTS = 2  # Lambda's default, stated
MAX_EVENT_AGE_SECONDS = 6 * 3600  # an event waiting longer (throttling) goes to the queue
DEFAULT_THROTTLE_RATE = 50.0
DEFAULT_THROTTLE_BURST = 100


def failed_events_queue_name(app_name: str, stage: str) -> str:
    """The queue ops/template.yaml creates for a stage (`make redrive` reads it)."""
    return f"{app_name}-{stage}-failed-events"


def deployed_resources(project_dir: Path, stage: str) -> list[dict[str, Any]]:
    """What Chalice recorded as deployed for the stage (`chalice delete` leaves none)."""
    path = project_dir / ".chalice" / "deployed" / f"{stage}.json"
    return json.loads(path.read_text()).get("resources", []) if path.exists() else []


def connect_failure_destinations(
    lambda_client: Any, resources: list[dict[str, Any]], queue_arn: str
) -> list[str]:
    """Point the S3 handlers' failures at the queue; returns the functions it set."""
    done = []
    for resource in resources:
        if resource.get("resource_type") != "lambda_function":
            continue
        if resource.get("name") not in EVENT_FUNCTIONS:
            continue
        lambda_client.put_function_event_invoke_config(
            FunctionName=resource["lambda_arn"],
            MaximumRetryAttempts=RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_SECONDS,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
        done.append(resource["name"])
    return done


def throttle_settings(variables: Mapping[str, str]) -> tuple[float, int]:
    """(rate, burst) from the stage's `IMAGES_THROTTLE_RATE` and `IMAGES_THROTTLE_BURST`."""
    rate = _positive(variables, "IMAGES_THROTTLE_RATE", DEFAULT_THROTTLE_RATE, float)
    burst = _positive(variables, "IMAGES_THROTTLE_BURST", DEFAULT_THROTTLE_BURST, int)
    return float(rate), int(burst)


def set_throttling(
    apigateway: Any,
    resources: list[dict[str, Any]],
    api_stage: str,
    rate: float,
    burst: int,
) -> str | None:
    """Default method throttling for every route of the deployed REST API's stage."""
    api = next((r for r in resources if r.get("resource_type") == "rest_api"), None)
    if api is None:
        return None
    apigateway.update_stage(
        restApiId=api["rest_api_id"],
        stageName=api_stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
        ],
    )
    return api["rest_api_id"]


def _positive(variables: Mapping[str, str], name: str, default: Any, kind: type) -> Any:
    raw = variables.get(name, "")
    if raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value
