"""The Lambda functions' IAM policy of a stage, generated from the stage's config.

`.chalice/policy-<stage>.json` must name the stage's real bucket and table,
which are known only once the resource stack exists (CloudFormation names the
bucket). So the policy is generated, never edited by hand: `make deploy`
rewrites it from the stack outputs, and `python -m ops.policy` rewrites every
stage's file from `.chalice/config.json`. A test checks that the committed
files equal what this module generates and that they cover every boto3 call
the functions make (ops/policycheck.py).

Only what the code calls, only on the bucket/prefix and table/index ARNs:
- s3:GetObject on `<bucket>/<prefix>*`: header reads, HEAD, downloads, and the
  presigned download URLs (they are signed by the function's role, so they
  carry its permissions);
- s3:PutObject on `<bucket>/<prefix>*`: the presigned POST forms of
  `POST /uploads` are signed by the role (the function never writes itself);
- s3:ListBucket on the bucket: reconcile lists the prefix, and without it S3
  answers a missing key with 403 instead of 404 (a download of a missing key
  must be a 404, a delete event must see that the object is gone);
- DynamoDB items on the table (TransactWriteItems is authorized per contained
  action, so its Put and Update need PutItem and UpdateItem), Scan for
  reconcile, Query on the size index only;
- sqs:SendMessage on the stage's failed-events queue: Lambda sends an event
  the S3 handlers failed on to their on-failure destination with the
  function's own role (no code of ours calls SQS);
- logs for the stage's own functions.

The account segment of DynamoDB and logs ARNs is `*` so that no account id
ends up in the repository; the role can only reach its own account's table of
that name unless another account explicitly shares one with it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.catalog.layout import table_definition
from chalicelib.settings import Settings
from devstack.stages import stage_variables
from ops.wiring import failed_events_queue_name

PROJECT_DIR = Path(__file__).resolve().parent.parent

TABLE_ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Scan",
]


def stage_policy(app_name: str, stage: str, bucket: str, table: str, prefix: str) -> dict[str, Any]:
    """The least-privilege policy document for one stage's functions."""
    table_arn = f"arn:aws:dynamodb:*:*:table/{table}"
    # Chalice names the API function `<app>-<stage>` and the others `<app>-<stage>-<name>`.
    log_groups = [
        f"arn:aws:logs:*:*:log-group:/aws/lambda/{app_name}-{stage}",
        f"arn:aws:logs:*:*:log-group:/aws/lambda/{app_name}-{stage}-*",
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadImagesUnderThePrefix",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
            },
            {
                "Sid": "PresignedUploadsUnderThePrefix",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
            },
            {
                "Sid": "ListBucketSoMissingKeysAre404",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {
                "Sid": "CatalogItems",
                "Effect": "Allow",
                "Action": list(TABLE_ITEM_ACTIONS),
                "Resource": [table_arn],
            },
            {
                "Sid": "Indexes",
                "Effect": "Allow",
                "Action": ["dynamodb:Query"],
                "Resource": [
                    f"{table_arn}/index/{index['IndexName']}"
                    for index in table_definition(table)["GlobalSecondaryIndexes"]
                ],
            },
            {
                "Sid": "FailedEventsToTheQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [f"arn:aws:sqs:*:*:{failed_events_queue_name(app_name, stage)}"],
            },
            {
                "Sid": "OwnLogGroups",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup"],
                "Resource": log_groups,
            },
            {
                "Sid": "OwnLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{group}:*" for group in log_groups],
            },
        ],
    }


def load_config(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text())


def stage_settings(config: dict[str, Any], stage: str) -> Settings:
    """The settings a stage's functions get (top-level and stage environment merged)."""
    return Settings.from_env(stage_variables(config, stage))


def policy_for_stage(config: dict[str, Any], stage: str) -> dict[str, Any]:
    settings = stage_settings(config, stage)
    return stage_policy(config["app_name"], stage, settings.bucket, settings.table, settings.prefix)


def policy_path(config: dict[str, Any], stage: str, project_dir: Path = PROJECT_DIR) -> Path | None:
    """Where the stage's policy lives, or None for a stage without its own (local)."""
    name = config["stages"][stage].get("iam_policy_file")
    return project_dir / ".chalice" / name if name else None


def render(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def write_stage_policy(stage: str, project_dir: Path = PROJECT_DIR) -> Path | None:
    """Regenerate the stage's policy file from `.chalice/config.json`."""
    config = load_config(project_dir)
    path = policy_path(config, stage, project_dir)
    if path is not None:
        write_atomically(path, render(policy_for_stage(config, stage)))
    return path


def write_atomically(path: Path, text: str) -> None:
    # A half-written config or policy would break the next deploy.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate .chalice/policy-<stage>.json")
    parser.add_argument("--stage", action="append", help="stage (default: every stage)")
    args = parser.parse_args(argv)
    config = load_config()
    for stage in args.stage or list(config["stages"]):
        path = write_stage_policy(stage)
        if path is not None:
            print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
