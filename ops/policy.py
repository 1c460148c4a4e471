"""Each Lambda function's IAM policy, per stage, generated from the stage's config.

Every function has its own role and its own policy: only what its code calls
(ops/callgraph.py finds that statically, and tests/ops/test_policy.py checks
each policy against it, both ways), only on the stage's bucket prefix, table,
indexes, queue and log groups. `.chalice/policy-<stage>-<function>.json` must
name the stage's real bucket and table, which are known only once the
resource stack exists (CloudFormation names the bucket), so the files are
generated, never edited by hand: `make deploy` rewrites a stage's from the
stack outputs, and `python -m ops.policy` rewrites every stage's from
`.chalice/config.json`.

- api_handler: s3 GetObject, PutObject (presigned forms only), ListBucket;
  dynamodb GetItem, BatchGetItem, Query (the indexes);
- on_object_created, on_object_removed: s3 GetObject, ListBucket; dynamodb
  GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
  sqs SendMessage;
- reconcile, scheduled_reconcile: s3 GetObject, ListBucket; dynamodb GetItem,
  BatchGetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem, Scan;
  reconcile also sqs GetQueueUrl, SendMessage on the work queue (it starts jobs);
- reconcile_worker: as reconcile, plus dynamodb BatchWriteItem (a job's
  partial counts) and sqs ReceiveMessage, DeleteMessage, GetQueueAttributes
  on the work queue (its event source polls with its role).

Why each grant:
- s3:GetObject on `<bucket>/<prefix>*`: header reads, HEAD (authorized as
  GetObject), downloads and presigned download URLs (signed with the API's
  role, so they carry its permissions);
- s3:PutObject on `<bucket>/<prefix>*`, API only: the presigned POST forms of
  `POST /uploads` are signed with its role; no function writes to S3 itself;
- s3:ListBucket on the bucket: without it S3 answers a missing key with 403
  instead of 404; reconcile lists the prefix, the created-handler lists one
  key to describe an object it may not read;
- DynamoDB: TransactWriteItems is authorized per contained action (its Put,
  Update, Delete and ConditionCheck need PutItem, UpdateItem, DeleteItem and
  ConditionCheckItem); Scan is reconcile's alone, and Query on the indexes the
  API's alone (search, listing, extremes, facets);
- sqs:SendMessage on the stage's failed-events queue, S3 handlers only:
  Lambda sends an event they failed on to their on-failure destination with
  the function's own role (no code of ours calls SQS);
- the pixel stage (`pixels_stage`): s3:GetObject under the prefix (one GET
  per image), s3:PutObject and s3:DeleteObject under the derived prefix only,
  the catalog writer's item actions, and ReceiveMessage, DeleteMessage and
  GetQueueAttributes on its own queue (Lambda's event source mapping polls
  with the function's role); the created handler and reconcile may
  SendMessage (and GetQueueUrl) to that queue; both S3 handlers and reconcile
  may DeleteObject under the derived prefix (the replaced version's
  previews, orphans); the API may
  GetObject under the derived prefix (serving a preview);
- logs on the function's own log group.

The account segment of DynamoDB, SQS and logs ARNs is `*` so that no account
id ends up in the repository; a role can only reach its own account's table
or queue of that name unless another account explicitly shares one with it.
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
from ops.wiring import EVENT_FUNCTIONS, failed_events_queue_name

PROJECT_DIR = Path(__file__).resolve().parent.parent
API_FUNCTION = "api_handler"

# The DynamoDB item actions each function's code needs on the table.
# Writers read the facet items they change first (BatchGetItem), delete index
# terms and facet values that no record holds any more (DeleteItem), and their
# transactions are built at run time, so the checker cannot tell that only
# reconcile's hold a ConditionCheck (ConditionCheckItem reads, never writes).
_WRITER = ["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]
_RECONCILE = [*_WRITER, "Scan"]
ITEM_ACTIONS = {
    "api_handler": ["GetItem", "BatchGetItem"],
    "on_object_created": _WRITER,
    "on_object_removed": _WRITER,
    "reconcile": _RECONCILE,
    "scheduled_reconcile": _RECONCILE,
    # A job's final step stores its partial counts in batches (catalog/partials.py).
    "reconcile_worker": [*_RECONCILE, "BatchWriteItem"],
    "pixels_stage": _WRITER,
}
# Reconcile jobs: the coordinator (`reconcile` with `parallel`) and the workers
# queue work items; the workers' event source reads the queue with their role.
WORK_QUEUE_ACTIONS = {
    "reconcile": ["sqs:GetQueueUrl", "sqs:SendMessage"],
    "reconcile_worker": [
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
}
# Who touches the pixel stage's queue and previews, and how (see the docstring).
_PIXEL_SENDERS = ("on_object_created", "reconcile", "scheduled_reconcile", "reconcile_worker")
_PREVIEW_DELETERS = (*_PIXEL_SENDERS, "on_object_removed", "pixels_stage")


def function_policy(
    app_name: str,
    stage: str,
    function: str,
    bucket: str,
    table: str,
    prefix: str,
    work_queue: str = "",
    pixels_queue: str = "image-metadata-pixels",
    derived: str = "derived/",
) -> dict[str, Any]:
    """The least-privilege policy document of one function of one stage."""
    if function not in ITEM_ACTIONS:
        raise ValueError(f"no policy is defined for function {function!r} (ops/policy.py)")
    table_arn = f"arn:aws:dynamodb:*:*:table/{table}"
    objects = [f"arn:aws:s3:::{bucket}/{prefix}*"]
    statements: list[dict[str, Any]] = [
        _allow("ReadImagesUnderThePrefix", ["s3:GetObject"], objects),
    ]
    if function == API_FUNCTION:
        statements.append(_allow("PresignedUploadsUnderThePrefix", ["s3:PutObject"], objects))
    statements += [
        _allow("ListBucketSoMissingKeysAre404", ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"]),
        _allow(
            "CatalogItems",
            [f"dynamodb:{action}" for action in ITEM_ACTIONS[function]],
            [table_arn],
        ),
    ]
    if function == API_FUNCTION:
        indexes = [
            f"{table_arn}/index/{index['IndexName']}"
            for index in table_definition(table)["GlobalSecondaryIndexes"]
        ]
        statements.append(_allow("Indexes", ["dynamodb:Query"], indexes))
    if function in EVENT_FUNCTIONS:
        queue = f"arn:aws:sqs:*:*:{failed_events_queue_name(app_name, stage)}"
        statements.append(_allow("FailedEventsToTheQueue", ["sqs:SendMessage"], [queue]))
    if function in WORK_QUEUE_ACTIONS:
        queue = f"arn:aws:sqs:*:*:{work_queue}"
        statements.append(_allow("ReconcileWorkQueue", WORK_QUEUE_ACTIONS[function], [queue]))
    statements += _pixel_statements(function, bucket, table, pixels_queue, derived)
    # Chalice names the API function `<app>-<stage>` and the others `<app>-<stage>-<name>`.
    name = f"{app_name}-{stage}" + ("" if function == API_FUNCTION else f"-{function}")
    group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}"
    statements += [
        _allow("OwnLogGroup", ["logs:CreateLogGroup"], [group]),
        _allow("OwnLogStreams", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{group}:*"]),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _pixel_statements(
    function: str, bucket: str, table: str, queue: str, derived: str
) -> list[dict[str, Any]]:
    """The pixel stage's grants: previews only under the derived prefix, its queue."""
    previews = [f"arn:aws:s3:::{bucket}/{derived}*"]
    queue_arn = [f"arn:aws:sqs:*:*:{queue}"]
    statements = []
    if function == API_FUNCTION:
        statements.append(_allow("ReadPreviews", ["s3:GetObject"], previews))
    if function == "pixels_stage":
        statements.append(_allow("WritePreviews", ["s3:PutObject"], previews))
        consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        statements.append(_allow("ConsumePixelQueue", consume, queue_arn))
    if function in _PREVIEW_DELETERS:
        statements.append(_allow("DeletePreviews", ["s3:DeleteObject"], previews))
    if function in _PIXEL_SENDERS:
        send = ["sqs:SendMessage", "sqs:GetQueueUrl"]
        statements.append(_allow("SendToPixelQueue", send, queue_arn))
    return statements


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def load_config(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text())


def stage_settings(config: dict[str, Any], stage: str) -> Settings:
    """The settings a stage's functions get (top-level and stage environment merged)."""
    return Settings.from_env(stage_variables(config, stage))


def functions(config: dict[str, Any]) -> list[str]:
    """The app's Lambda functions (every one has its settings in `lambda_functions`)."""
    return list(config["lambda_functions"])


def policy_for(config: dict[str, Any], stage: str, function: str) -> dict[str, Any]:
    s = stage_settings(config, stage)
    return function_policy(
        config["app_name"],
        stage,
        function,
        s.bucket,
        s.table,
        s.prefix,
        s.reconcile_queue,
        s.pixels_queue,
        s.derived_prefix,
    )


def policy_file_name(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def use_function_policies(stage_config: dict[str, Any], stage: str, names: list[str]) -> None:
    """Point each function of a stage at its own generated policy file (never Chalice's)."""
    stage_config["autogen_policy"] = False
    stage_config.pop("iam_policy_file", None)
    per_function = stage_config.setdefault("lambda_functions", {})
    for function in names:
        per_function.setdefault(function, {})["iam_policy_file"] = policy_file_name(stage, function)


def policy_path(
    config: dict[str, Any], stage: str, function: str, project_dir: Path = PROJECT_DIR
) -> Path | None:
    """Where a function's policy lives on a stage, or None when it has none (local)."""
    settings = config["stages"][stage].get("lambda_functions", {}).get(function, {})
    name = settings.get("iam_policy_file")
    return project_dir / ".chalice" / name if name else None


def render(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def write_stage_policies(stage: str, project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Regenerate the policy file of every function of the stage from `.chalice/config.json`."""
    config = load_config(project_dir)
    written = []
    for function in functions(config):
        path = policy_path(config, stage, function, project_dir)
        if path is not None:
            write_atomically(path, render(policy_for(config, stage, function)))
            written.append(path)
    return written


def write_atomically(path: Path, text: str) -> None:
    # A half-written config or policy would break the next deploy.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate .chalice/policy-<stage>-<function>.json"
    )
    parser.add_argument("--stage", action="append", help="stage (default: every stage)")
    args = parser.parse_args(argv)
    config = load_config()
    for stage in args.stage or list(config["stages"]):
        for path in write_stage_policies(stage):
            print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
