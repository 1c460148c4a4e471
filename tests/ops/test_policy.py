"""Least privilege: each stage's IAM policy covers every boto3 call the Lambda code
makes, on the right resources, and grants nothing else (no wildcards but logs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.catalog.layout import table_definition
from ops import policycheck as pc
from ops.policy import load_config, policy_for_stage, policy_path, stage_policy, stage_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT)
DEPLOYED_STAGES = [s for s, c in CONFIG["stages"].items() if c.get("iam_policy_file")]
# Everything that runs in Lambda: app.py and the whole chalicelib package.
LAMBDA_SOURCES = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def _indexes(table: str) -> tuple[str, ...]:
    return tuple(i["IndexName"] for i in table_definition(table).get("GlobalSecondaryIndexes", []))


def _stage(stage: str) -> tuple[dict, pc.Resources]:
    path = policy_path(CONFIG, stage, ROOT)
    assert path is not None and path.exists(), f"{stage}: no policy file"
    settings = stage_settings(CONFIG, stage)
    resources = pc.Resources(
        settings.bucket, settings.prefix, settings.table, _indexes(settings.table)
    )
    return json.loads(path.read_text()), resources


@pytest.fixture(scope="module")
def needs() -> list[pc.Need]:
    calls = pc.find_calls_in(LAMBDA_SOURCES, ROOT)
    found, unknown = pc.needs(calls)
    assert not unknown, (
        "boto3 calls missing from ops/policycheck.py OPERATIONS (add the IAM actions they "
        f"need there and to ops/policy.py): {unknown}"
    )
    # The analysis must see the calls we know are there, or it sees nothing at all.
    operations = {need.call.operation for need in found}
    assert {"get_object", "head_object", "get_item", "transact_write_items", "query"} <= operations
    return found


def test_deployed_stages_use_their_own_policy_not_chalices() -> None:
    assert set(DEPLOYED_STAGES) >= {"dev", "prod"}
    for stage in DEPLOYED_STAGES:
        assert CONFIG["stages"][stage]["autogen_policy"] is False


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_every_boto3_call_is_allowed_on_its_resources(stage: str, needs: list[pc.Need]) -> None:
    policy, resources = _stage(stage)
    missing = pc.uncovered(policy, needs, resources)
    assert not missing, "\n".join(need.describe() for need in missing)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_nothing_is_granted_that_no_call_needs(stage: str, needs: list[pc.Need]) -> None:
    policy, resources = _stage(stage)
    # Logs, and the failed-events queue Lambda itself sends to, are no code's calls.
    assert pc.unused(policy, needs, resources, exempt=("logs:", "sqs:")) == []


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_no_wildcard_actions_or_resources(stage: str) -> None:
    policy, _ = _stage(stage)
    assert pc.broad_grants(policy) == []


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_file_is_the_generated_one_for_the_configured_names(stage: str) -> None:
    # `python -m ops.policy` (or `make deploy`) regenerates it after a config change.
    policy, _ = _stage(stage)
    assert policy == policy_for_stage(CONFIG, stage)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_nothing_outside_the_prefix_bucket_and_table_is_reachable(stage: str) -> None:
    policy, r = _stage(stage)
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
        ("dynamodb:DeleteItem", table),
        ("dynamodb:DeleteTable", table),
        ("dynamodb:Query", table),  # only the index is queried
        ("dynamodb:Scan", f"{table}/index/by_size"),
    ]:
        assert not pc.allows(policy, denied_action, resource), (denied_action, resource)


# --- the checker itself -------------------------------------------------------------

UNCOVERED_SNIPPET = """
INDEX = "by_color"

def handler(client, s3, table):
    client.get_item(TableName="t", Key={})                       # covered
    client.delete_item(TableName="t", Key={})                    # DeleteItem
    client.query(TableName="t", IndexName=INDEX)                 # Query on another index
    s3.delete_object(Bucket="b", Key="k")                        # DeleteObject
    s3.generate_presigned_url("delete_object", Params={})        # DeleteObject, presigned
    table.get_paginator(operation_name="scan").paginate()       # covered
    client.transact_write_items(TransactItems=[{"ConditionCheck": {}}, {"Put": {}}])
"""


def test_checker_reports_each_uncovered_call() -> None:
    policy = stage_policy("app", "dev", "b", "t", "uploads/")
    found, unknown = pc.needs(pc.find_calls(UNCOVERED_SNIPPET, "snippet.py"))
    missing = pc.uncovered(policy, found, pc.Resources("b", "uploads/", "t", ("by_size",)))
    assert unknown == []
    assert sorted((n.call.where, n.action, n.resource) for n in missing) == [
        ("snippet.py:11", "dynamodb:ConditionCheckItem", "table"),
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
    policy = stage_policy("app", "dev", "b", "t", "uploads/")
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
