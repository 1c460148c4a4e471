"""Check an IAM policy against the boto3 calls the deployed code makes.

Static: the source is parsed, never imported. A call is a boto3 client call
when the method name is an S3 or DynamoDB operation (from botocore's own
service models, so nothing is guessed) or one of boto3's added helpers; the
receiver's name does not matter (`self._client.get_item(...)` counts).
`generate_presigned_url("op")` and `get_paginator("op")` count as calls of
`op`. Each call maps to the IAM actions it needs through OPERATIONS, a table
kept by hand; a call missing from the table is reported, so a new call can
never slip through unchecked.

The policy evaluation is deliberately simple: an action is allowed on a
resource when an Allow statement without conditions matches both and no Deny
statement does. Conditions and NotAction/NotResource are never counted as
granting anything (and `broad_grants` reports the latter).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name

SERVICES = ("s3", "dynamodb", "sqs")

# Methods boto3 adds to clients and resources, by service.
BOTO3_HELPERS = {
    "s3": {
        "upload_file",
        "upload_fileobj",
        "download_file",
        "download_fileobj",
        "copy",
        "generate_presigned_post",
    },
    "dynamodb": {"batch_writer"},
    "sqs": set(),
}
# Calls whose first argument names the operation they perform.
OPERATION_BY_ARGUMENT = {"generate_presigned_url", "get_paginator"}
# Presigned POST forms are signed by the caller's role: S3 checks s3:PutObject.
PRESIGNED_POST = ("s3", "generate_presigned_post")

# Resource kinds: "object" (a key under the prefix), "bucket", "table", "index",
# "queue" (the failed-events queue, which Lambda itself sends to), "derived" (a
# preview under the derived prefix), "pixels-queue" (the pixel stage's queue).
_GET = (("s3:GetObject", "object"), ("s3:ListBucket", "bucket"))  # ListBucket: 404, not 403
OPERATIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("s3", "get_object"): _GET,
    ("s3", "head_object"): _GET,  # HEAD is authorized as s3:GetObject
    ("s3", "download_file"): _GET,
    ("s3", "download_fileobj"): _GET,
    ("s3", "list_objects_v2"): (("s3:ListBucket", "bucket"),),
    ("s3", "list_objects"): (("s3:ListBucket", "bucket"),),
    ("s3", "put_object"): (("s3:PutObject", "object"),),
    PRESIGNED_POST: (("s3:PutObject", "object"),),
    ("s3", "upload_file"): (("s3:PutObject", "object"),),
    ("s3", "upload_fileobj"): (("s3:PutObject", "object"),),
    ("s3", "delete_object"): (("s3:DeleteObject", "object"),),
    # DeleteObjects is authorized as s3:DeleteObject on each key.
    ("s3", "delete_objects"): (("s3:DeleteObject", "object"),),
    ("sqs", "send_message"): (("sqs:SendMessage", "pixels-queue"),),
    ("sqs", "get_queue_url"): (("sqs:GetQueueUrl", "pixels-queue"),),
    ("s3", "copy_object"): (("s3:GetObject", "object"), ("s3:PutObject", "object")),
    ("dynamodb", "get_item"): (("dynamodb:GetItem", "table"),),
    ("dynamodb", "put_item"): (("dynamodb:PutItem", "table"),),
    ("dynamodb", "update_item"): (("dynamodb:UpdateItem", "table"),),
    ("dynamodb", "delete_item"): (("dynamodb:DeleteItem", "table"),),
    ("dynamodb", "batch_get_item"): (("dynamodb:BatchGetItem", "table"),),
    ("dynamodb", "batch_write_item"): (("dynamodb:BatchWriteItem", "table"),),
    ("dynamodb", "batch_writer"): (("dynamodb:BatchWriteItem", "table"),),
    ("dynamodb", "transact_get_items"): (("dynamodb:GetItem", "table"),),
    # Query and Scan: on the index when the call names one (see ClientCall.index).
    ("dynamodb", "query"): (("dynamodb:Query", "table"),),
    ("dynamodb", "scan"): (("dynamodb:Scan", "table"),),
    # Authorized per contained action, never as "TransactWriteItems" (see below).
    ("dynamodb", "transact_write_items"): (),
}
# S3 object calls on previews, by the module that makes them and the operation: their
# keys are under the derived prefix, never under the uploads prefix.
DERIVED_OBJECT_CALLS = {
    ("chalicelib/pixel_queue.py", "delete_objects"),
    ("chalicelib/previews.py", "put_object"),
    ("chalicelib/preview_api.py", "get_object"),
}
# TransactWriteItems: DynamoDB authorizes each contained action as its own
# API action (developer guide, "Using IAM with DynamoDB transactions").
TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


@dataclass(frozen=True)
class ClientCall:
    where: str  # "path:line"
    service: str
    operation: str
    index: str | None = None  # IndexName when given ("*" when not a constant)
    transact_parts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Need:
    action: str
    resource: str  # "object", "bucket", "table" or "index:<name>"
    call: ClientCall

    def describe(self) -> str:
        return f"{self.call.where}: {self.call.operation} needs {self.action} on {self.resource}"


@cache
def operation_names() -> dict[str, str]:
    """snake_case operation or helper name -> service, for S3 and DynamoDB."""
    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            names[xform_name(operation)] = service
        for helper in BOTO3_HELPERS[service]:
            names[helper] = service
    return names


def find_calls(source: str, where: str = "<string>") -> list[ClientCall]:
    """The S3 and DynamoDB client calls in one module's source."""
    tree = ast.parse(source)
    constants = _module_constants(tree)
    transact_parts = _transact_parts(tree)
    names = operation_names()
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method in OPERATION_BY_ARGUMENT:
            named = [k.value for k in node.keywords if k.arg in ("ClientMethod", "operation_name")]
            argument = node.args[0] if node.args else (named[0] if named else None)
            operation = _constant(argument, constants) if argument is not None else None
            if not isinstance(operation, str) or operation not in names:
                # The operation is not knowable statically: report it as such.
                operation = f"{method}(?)"
                calls.append(ClientCall(f"{where}:{node.lineno}", "unknown", operation))
                continue
            method = operation
        if method not in names:
            continue
        service = names[method]
        index = None
        for keyword in node.keywords:
            if keyword.arg == "IndexName":
                value = _constant(keyword.value, constants)
                index = value if isinstance(value, str) else "*"
        parts = transact_parts if method == "transact_write_items" else frozenset()
        calls.append(ClientCall(f"{where}:{node.lineno}", service, method, index, parts))
    return sorted(calls, key=lambda call: int(call.where.rsplit(":", 1)[1]))


def find_calls_in(paths: Iterable[Path], root: Path) -> list[ClientCall]:
    calls = []
    for path in sorted(paths):
        calls += find_calls(path.read_text(), str(path.relative_to(root)))
    return calls


def needs(calls: Iterable[ClientCall]) -> tuple[list[Need], list[ClientCall]]:
    """The permissions the calls need, and the calls OPERATIONS does not know."""
    found: list[Need] = []
    unknown: list[ClientCall] = []
    for call in calls:
        key = (call.service, call.operation)
        if key not in OPERATIONS:
            unknown.append(call)
            continue
        derived = (call.where.rsplit(":", 1)[0], call.operation) in DERIVED_OBJECT_CALLS
        for action, kind in OPERATIONS[key]:
            if kind == "table" and call.index is not None:
                kind = f"index:{call.index}"
            if kind == "object" and derived:
                kind = "derived"
            found.append(Need(action, kind, call))
        if call.operation == "transact_write_items":
            # Parts not visible in the module: assume any of them.
            for part in sorted(call.transact_parts or TRANSACT_ACTIONS):
                found.append(Need(TRANSACT_ACTIONS[part], "table", call))
    return found, unknown


@dataclass(frozen=True)
class Resources:
    """Concrete ARNs standing for each resource kind, to evaluate a policy with."""

    bucket: str
    prefix: str
    table: str
    indexes: tuple[str, ...]
    queue: str = ""  # the failed-events queue (kind "queue")
    derived: str = "derived/"  # the previews' prefix (kind "derived")
    pixels_queue: str = "image-metadata-pixels"  # kind "pixels-queue"
    region: str = "us-east-1"
    account: str = "123456789012"  # AWS's documentation placeholder, not an account

    def arns(self, kind: str) -> list[str]:
        table_arn = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.table}"
        if kind == "object":
            return [f"arn:aws:s3:::{self.bucket}/{self.prefix}some/image.jpg"]
        if kind == "bucket":
            return [f"arn:aws:s3:::{self.bucket}"]
        if kind == "table":
            return [table_arn]
        if kind == "queue":
            return [f"arn:aws:sqs:{self.region}:{self.account}:{self.queue}"]
        if kind == "derived":
            return [f"arn:aws:s3:::{self.bucket}/{self.derived}some/image.jpg/etag/256.webp"]
        if kind == "pixels-queue":
            return [f"arn:aws:sqs:{self.region}:{self.account}:{self.pixels_queue}"]
        if kind.startswith("index:"):
            name = kind.split(":", 1)[1]
            names = self.indexes if name == "*" else (name,)
            return [f"{table_arn}/index/{index}" for index in names]
        raise ValueError(f"unknown resource kind {kind!r}")


def uncovered(policy: dict[str, Any], wanted: Iterable[Need], resources: Resources) -> list[Need]:
    """The needs the policy does not allow."""
    return [
        need
        for need in wanted
        if not all(allows(policy, need.action, arn) for arn in resources.arns(need.resource))
    ]


def unused(
    policy: dict[str, Any], wanted: Iterable[Need], resources: Resources, exempt: tuple[str, ...]
) -> list[str]:
    """Granted (action, resource) pairs no call needs: least privilege, the other way round."""
    needed = {
        (need.action.lower(), arn) for need in wanted for arn in resources.arns(need.resource)
    }
    extra = []
    for statement in _statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if action.lower().startswith(exempt):
                continue
            for resource in _as_list(statement.get("Resource")):
                if not any(a == action.lower() and _matches(resource, arn) for a, arn in needed):
                    extra.append(f"{action} on {resource}")
    return extra


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether the policy allows `action` on `resource` (see the module docstring)."""
    allowed = False
    for statement in _statements(policy):
        if not (
            any(_matches(p, action, ignore_case=True) for p in _as_list(statement.get("Action")))
            and any(_matches(p, resource) for p in _as_list(statement.get("Resource")))
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow" and "Condition" not in statement:
            allowed = True
    return allowed


_ALLOWED_SERVICES = ("s3", "dynamodb", "logs", "sqs")


def broad_grants(policy: dict[str, Any]) -> list[str]:
    """Allow statements granting wildcard actions or resources (logs excepted).

    Allowed wildcards: the key part of an S3 object ARN after a non-empty
    prefix (`bucket/uploads/*`), and the region and account segments of a
    DynamoDB or SQS ARN. Anything else with `*` or `?`, NotAction and
    NotResource, and services other than S3, DynamoDB, SQS and logs are
    reported.
    """
    problems = []
    for number, statement in enumerate(_statements(policy)):
        name = statement.get("Sid") or f"statement {number}"
        if statement.get("Effect") != "Allow":
            continue
        for key in ("NotAction", "NotResource"):
            if key in statement:
                problems.append(f"{name}: {key} grants everything not listed")
        actions = _as_list(statement.get("Action"))
        if actions and all(a.lower().startswith("logs:") for a in actions):
            continue
        for action in actions:
            if _has_wildcard(action):
                problems.append(f"{name}: wildcard action {action!r}")
            elif action.split(":", 1)[0].lower() not in _ALLOWED_SERVICES:
                problems.append(f"{name}: unexpected service in {action!r}")
        for resource in _as_list(statement.get("Resource")):
            problem = _resource_problem(resource)
            if problem:
                problems.append(f"{name}: {problem}")
    return problems


def _resource_problem(resource: str) -> str | None:
    if resource.strip() == "*":
        return "resource '*'"
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return f"not an ARN: {resource!r}"
    service, region, account, rest = parts[2], parts[3], parts[4], parts[5]
    if service == "s3":
        bucket, _, key = rest.partition("/")
        if _has_wildcard(bucket) or region or account:
            return f"wildcard or foreign S3 bucket ARN {resource!r}"
        if key and (
            _has_wildcard(key[:-1]) or (key.endswith("*") and key.rstrip("*") in ("", "/"))
        ):
            return f"S3 object wildcard beyond a prefix: {resource!r}"
        return None
    if service == "dynamodb":
        if not re.fullmatch(r"table/[A-Za-z0-9_.-]+(/index/[A-Za-z0-9_.-]+)?", rest):
            return f"DynamoDB resource not one table or index: {resource!r}"
        if _has_wildcard(parts[1]):
            return f"wildcard partition in {resource!r}"
        return None
    if service == "sqs":
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", rest) or _has_wildcard(parts[1]):
            return f"SQS resource not one queue: {resource!r}"
        return None
    return f"unexpected service in {resource!r}"


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    # IAM wildcards: `*` any run of characters (including `/` and `:`), `?` one.
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _constant(node: ast.expr, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _transact_parts(tree: ast.Module) -> frozenset[str]:
    """Keys of dict literals that name transaction parts ({"Put": ...}) in the module."""
    return frozenset(
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and key.value in TRANSACT_ACTIONS
    )
