"""Least privilege, per function: each function's IAM policy covers every boto3 call the
code it can run makes, on the right resources, and grants nothing else (no wildcards but
logs). What each function can run is found statically (ops/callgraph.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.catalog.layout import table_definition
from ops import policycheck as pc
from ops.callgraph import calls_by_function
from ops.policy import (
    function_policy,
    functions,
    load_config,
    policy_for,
    policy_path,
    stage_settings,
)
from ops.wiring import EVENT_FUNCTIONS, failed_events_queue_name

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT)
DEPLOYED_STAGES = [s for s, c in CONFIG["stages"].items() if c.get("lambda_functions")]
FUNCTIONS = functions(CONFIG)
# Everything that runs in Lambda: app.py and the whole chalicelib package.
# chalicelib/pixels/ is left out: it never imports boto3 (tests/test_layering.py), and its
# Pillow calls (`image.copy()`) share names with boto3 helpers.
LAMBDA_SOURCES = [
    ROOT / "app.py",
    *sorted(
        path
        for path in (ROOT / "chalicelib").rglob("*.py")
        if "pixels" not in path.relative_to(ROOT / "chalicelib").parts[:1]
    ),
]
CASES = [(stage, function) for stage in DEPLOYED_STAGES for function in FUNCTIONS]
# Lambda sends a failed event to the on-failure destination with the function's role.
DESTINATION = pc.ClientCall("ops/wiring.py (on-failure destination)", "sqs", "send_message")
# Lambda's event source mapping polls the pixel queue with the stage's own role.
POLLER = pc.ClientCall("Lambda SQS event source (pixels_stage)", "sqs", "receive_message")
POLLING = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def _indexes(table: str) -> tuple[str, ...]:
    return tuple(i["IndexName"] for i in table_definition(table).get("GlobalSecondaryIndexes", []))


def _policy(stage: str, function: str) -> tuple[dict, pc.Resources]:
    path = policy_path(CONFIG, stage, function, ROOT)
    assert path is not None and path.exists(), f"{stage} {function}: no policy file"
    s = stage_settings(CONFIG, stage)
    queue = failed_events_queue_name(CONFIG["app_name"], stage)
    resources = pc.Resources(
        s.bucket,
        s.prefix,
        s.table,
        _indexes(s.table),
        queue=queue,
        derived=s.derived_prefix,
        pixels_queue=s.pixels_queue,
    )
    return json.loads(path.read_text()), resources


@pytest.fixture(scope="module")
def needs() -> dict[str, list[pc.Need]]:
    """What each function's code needs, and its on-failure destination for the S3 handlers."""
    by_function = calls_by_function(ROOT / "app.py", LAMBDA_SOURCES, ROOT)
    assert set(by_function) == set(FUNCTIONS), "a function without settings, or the reverse"
    found: dict[str, list[pc.Need]] = {}
    for function, calls in by_function.items():
        needed, unknown = pc.needs(calls)
        assert not unknown, (
            "boto3 calls missing from ops/policycheck.py OPERATIONS (add the IAM actions they "
            f"need there and to ops/policy.py): {unknown}"
        )
        if function in EVENT_FUNCTIONS:
            needed.append(pc.Need("sqs:SendMessage", "queue", DESTINATION))
        if function == "pixels_stage":
            needed += [pc.Need(action, "pixels-queue", POLLER) for action in POLLING]
        found[function] = needed
    # The analysis must see the calls we know are there, or it sees nothing at all.
    operations = {f: {n.call.operation for n in needed} for f, needed in found.items()}
    assert {"get_object", "generate_presigned_post", "query"} <= operations["api_handler"]
    assert {"get_object", "transact_write_items"} <= operations["on_object_created"]
    assert {"head_object", "transact_write_items"} <= operations["on_object_removed"]
    assert {"list_objects_v2", "scan", "put_item"} <= operations["reconcile"]
    assert {"get_object", "put_object", "transact_write_items"} <= operations["pixels_stage"]
    assert {"send_message", "delete_objects"} <= operations["on_object_created"]
    return found


def test_deployed_stages_give_every_function_its_own_policy_not_chalices() -> None:
    assert set(DEPLOYED_STAGES) >= {"dev", "prod"}
    for stage in DEPLOYED_STAGES:
        config = CONFIG["stages"][stage]
        assert config["autogen_policy"] is False and "iam_policy_file" not in config
        files = {f: policy_path(CONFIG, stage, f, ROOT) for f in FUNCTIONS}
        assert len({path.name for path in files.values() if path}) == len(FUNCTIONS)


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_every_boto3_call_is_allowed_on_its_resources(stage, function, needs) -> None:
    policy, resources = _policy(stage, function)
    missing = pc.uncovered(policy, needs[function], resources)
    assert not missing, "\n".join(need.describe() for need in missing)


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_nothing_is_granted_that_no_call_needs(stage, function, needs) -> None:
    policy, resources = _policy(stage, function)
    assert pc.unused(policy, needs[function], resources, exempt=("logs:",)) == []


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_no_wildcard_actions_or_resources(stage: str, function: str) -> None:
    policy, _ = _policy(stage, function)
    assert pc.broad_grants(policy) == []


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_policy_file_is_the_generated_one_for_the_configured_names(stage, function) -> None:
    # `python -m ops.policy` (or `make deploy`) regenerates it after a config change.
    policy, _ = _policy(stage, function)
    assert policy == policy_for(CONFIG, stage, function)


# What no function may do, and what only one may (the issue's examples and the docs' table).
FORBIDDEN = {
    "api_handler": ["dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem", "sqs:SendMessage"],
    "on_object_created": ["s3:PutObject", "dynamodb:Scan", "dynamodb:Query"],
    "on_object_removed": ["s3:PutObject", "dynamodb:Scan", "dynamodb:Query"],
    "reconcile": ["s3:PutObject", "dynamodb:Query", "sqs:SendMessage"],
    "scheduled_reconcile": ["s3:PutObject", "dynamodb:Query", "sqs:SendMessage"],
    # Writes previews, never uploads; reads no index, scans nothing.
    "pixels_stage": [
        "s3:PutObject",
        "s3:DeleteObject",
        "dynamodb:Scan",
        "dynamodb:Query",
        "sqs:SendMessage",
    ],
}


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_only_the_pixel_stage_writes_previews_and_only_under_the_derived_prefix(stage) -> None:
    s = stage_settings(CONFIG, stage)
    preview = f"arn:aws:s3:::{s.bucket}/{s.derived_prefix}a.jpg/etag/256.webp"
    upload = f"arn:aws:s3:::{s.bucket}/{s.prefix}a.jpg"
    queue = f"arn:aws:sqs:us-east-1:123456789012:{s.pixels_queue}"
    for function in FUNCTIONS:
        policy, _ = _policy(stage, function)
        writer = function == "pixels_stage"
        assert pc.allows(policy, "s3:PutObject", preview) is writer, function
        assert pc.allows(policy, "sqs:ReceiveMessage", queue) is writer, function
    stage_policy, _ = _policy(stage, "pixels_stage")
    assert pc.allows(stage_policy, "s3:GetObject", upload)
    assert not pc.allows(stage_policy, "s3:PutObject", upload)


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_each_role_can_do_only_what_its_function_does(stage: str, function: str) -> None:
    policy, r = _policy(stage, function)
    table = f"arn:aws:dynamodb:{r.region}:{r.account}:table/{r.table}"
    arns = {
        "s3": f"arn:aws:s3:::{r.bucket}/{r.prefix}x.jpg",
        "dynamodb": table,
        "sqs": f"arn:aws:sqs:{r.region}:{r.account}:{r.queue}",
    }
    for action in FORBIDDEN[function]:
        resource = arns[action.split(":")[0]]
        if action == "dynamodb:Query":
            assert not any(pc.allows(policy, action, f"{table}/index/{i}") for i in r.indexes), (
                action
            )
        assert not pc.allows(policy, action, resource), (function, action)


@pytest.mark.parametrize(("stage", "function"), CASES)
def test_nothing_outside_the_prefix_bucket_and_table_is_reachable(stage, function) -> None:
    policy, r = _policy(stage, function)
    table = f"arn:aws:dynamodb:{r.region}:{r.account}:table/{r.table}"
    other_table = f"arn:aws:dynamodb:{r.region}:{r.account}:table/{r.table}-other"
    assert pc.allows(policy, "s3:GetObject", f"arn:aws:s3:::{r.bucket}/{r.prefix}a/b.jpg")
    for denied_action, resource in [
        ("s3:GetObject", f"arn:aws:s3:::{r.bucket}/private/{r.prefix}x.jpg"),
        ("s3:GetObject", f"arn:aws:s3:::{r.bucket}-other/{r.prefix}x.jpg"),
        ("s3:ListBucket", f"arn:aws:s3:::{r.bucket}-other"),
        ("s3:PutObject", f"arn:aws:s3:::{r.bucket}/private/x.jpg"),  # uploads: prefix only
        ("s3:DeleteObject", f"arn:aws:s3:::{r.bucket}/{r.prefix}x.jpg"),
        ("s3:PutBucketPolicy", f"arn:aws:s3:::{r.bucket}"),
        ("dynamodb:GetItem", other_table),
        ("dynamodb:DeleteItem", other_table),
        ("dynamodb:DeleteTable", table),
        ("dynamodb:Query", table),  # only the index is queried
        ("dynamodb:Scan", f"{table}/index/by_size"),
        ("sqs:SendMessage", f"arn:aws:sqs:{r.region}:{r.account}:{r.queue}-other"),
    ]:
        assert not pc.allows(policy, denied_action, resource), (denied_action, resource)
    # Writers delete index terms and facet values no record holds any more; the API
    # deletes nothing.
    assert pc.allows(policy, "dynamodb:DeleteItem", table) == (function != "api_handler")


# --- the checker itself -------------------------------------------------------------

UNCOVERED_SNIPPET = """
INDEX = "by_color"

def handler(client, s3, table):
    client.get_item(TableName="t", Key={})                       # covered
    client.delete_item(TableName="t", Key={})                    # DeleteItem
    client.query(TableName="t", IndexName=INDEX)                 # Query on another index
    s3.delete_object(Bucket="b", Key="k")                        # DeleteObject
    s3.generate_presigned_url("delete_object", Params={})        # DeleteObject, presigned
    table.get_paginator(operation_name="scan").paginate()       # Scan
    client.transact_write_items(TransactItems=[{"ConditionCheck": {}}, {"Put": {}}])
"""


def test_checker_reports_each_uncovered_call() -> None:
    policy = function_policy("app", "dev", "api_handler", "b", "t", "uploads/")
    found, unknown = pc.needs(pc.find_calls(UNCOVERED_SNIPPET, "snippet.py"))
    missing = pc.uncovered(policy, found, pc.Resources("b", "uploads/", "t", ("by_size",)))
    assert unknown == []
    assert sorted((n.call.where, n.action, n.resource) for n in missing) == [
        ("snippet.py:10", "dynamodb:Scan", "table"),
        ("snippet.py:11", "dynamodb:ConditionCheckItem", "table"),
        ("snippet.py:11", "dynamodb:PutItem", "table"),
        ("snippet.py:6", "dynamodb:DeleteItem", "table"),
        ("snippet.py:7", "dynamodb:Query", "index:by_color"),
        ("snippet.py:8", "s3:DeleteObject", "object"),
        ("snippet.py:9", "s3:DeleteObject", "object"),
    ]


def test_checker_reports_calls_it_cannot_map() -> None:
    snippet = (
        "def f(client, op):\n"
        "    client.describe_table(TableName='t')\n"
        "    client.generate_presigned_url(op)\n"
    )
    found, unknown = pc.needs(pc.find_calls(snippet, "x.py"))
    assert found == []
    assert [(c.where, c.operation) for c in unknown] == [
        ("x.py:2", "describe_table"),
        ("x.py:3", "generate_presigned_url(?)"),
    ]


def test_checker_assumes_every_transaction_part_when_it_cannot_see_them() -> None:
    snippet = "def f(client, items):\n    client.transact_write_items(TransactItems=items)\n"
    found, _ = pc.needs(pc.find_calls(snippet))
    assert {n.action for n in found} == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }


def test_checker_reports_unused_grants() -> None:
    policy = function_policy("app", "dev", "reconcile", "b", "t", "uploads/")
    found, _ = pc.needs(pc.find_calls("def f(c):\n    c.get_item(TableName='t', Key={})\n"))
    extra = pc.unused(policy, found, pc.Resources("b", "uploads/", "t", ("by_size",)), ("logs:",))
    assert "dynamodb:Scan on arn:aws:dynamodb:*:*:table/t" in extra
    assert "s3:GetObject on arn:aws:s3:::b/uploads/*" in extra
    assert not any(item.startswith("logs:") for item in extra)


@pytest.mark.parametrize(
    ("action", "resource", "problem"),
    [
        ("s3:*", "arn:aws:s3:::b/uploads/*", "wildcard action"),
        ("*", "arn:aws:s3:::b", "wildcard action"),
        ("dynamodb:Get*", "arn:aws:dynamodb:*:*:table/t", "wildcard action"),
        ("s3:GetObject", "*", "resource '*'"),
        ("s3:GetObject", "arn:aws:s3:::b/*", "beyond a prefix"),
        ("s3:GetObject", "arn:aws:s3:::*/uploads/*", "bucket ARN"),
        ("s3:GetObject", "arn:aws:s3:::b/uploads/*.jpg", "beyond a prefix"),
        ("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/*", "not one table"),
        ("dynamodb:Query", "arn:aws:dynamodb:*:*:table/t/index/*", "not one table"),
        ("sqs:SendMessage", "arn:aws:sqs:*:*:*", "not one queue"),
        ("sns:Publish", "arn:aws:sns:*:*:t", "unexpected service"),
    ],
)
def test_checker_flags_broad_grants(action: str, resource: str, problem: str) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": [action], "Resource": [resource]}]}
    problems = pc.broad_grants(policy)
    assert problems and problem in problems[0], problems


def test_checker_accepts_scoped_grants_and_any_logs_grant() -> None:
    index = "arn:aws:dynamodb:*:*:table/t/index/i"
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/up/*"},
            {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": index},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {}}},
        ]
    }  # fmt: skip
    assert pc.broad_grants(policy) == []
    assert pc.broad_grants({"Statement": [{"Effect": "Allow", "NotAction": "s3:GetObject"}]})


def test_allows_follows_iam_matching_deny_and_conditions() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/up/*"},
            {"Effect": "Deny", "Action": "s3:getobject", "Resource": "arn:aws:s3:::b/up/secret/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
             "Condition": {"StringLike": {"s3:prefix": "up/*"}}},
        ]
    }  # fmt: skip
    assert pc.allows(policy, "S3:GetObject", "arn:aws:s3:::b/up/a/b.jpg")
    assert not pc.allows(policy, "s3:GetObject", "arn:aws:s3:::b/up/secret/x")
    assert not pc.allows(policy, "s3:GetObject", "arn:aws:s3:::b/upx")
    assert not pc.allows(policy, "s3:ListBucket", "arn:aws:s3:::b")  # conditions never count
