"""The expression, request and response patches: the same answers as stock moto, request by request.

The same requests (valid and invalid, each kind several times so that the
caches are hit) go to stock moto and to patched moto, each in a fresh
in-process moto; every answer, error and the table left behind must be equal.
Other tests check that the patches are taken (moto's parsers, static checks
and serializer run less), so a moto upgrade that routes around a patch fails
here, and that the functions patched still have the signatures they had.
"""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from dynamodb_requests import TABLE, requests
from moto import mock_aws

from chalicelib.catalog.layout import table_definition
from devstack import moto_patches
from devstack.moto_patches import expressions, validation


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def run(patched: bool) -> tuple[list, list]:
    """Every request's answer (or error), then the whole table."""
    expressions.clear()
    validation.clear()
    with mock_aws():
        if patched:
            moto_patches.install()
        try:
            client = boto3.client("dynamodb")
            client.create_table(**table_definition(TABLE))
            answers = []
            for round_ in range(3):
                for operation, params in requests(round_):
                    answers.append((operation, call(client, operation, params)))
            items = client.scan(TableName=TABLE)["Items"]
        finally:
            moto_patches.uninstall()
    return answers, sorted(items, key=lambda item: item["pk"]["S"])


def call(client: Any, operation: str, params: dict) -> Any:
    try:
        answer = getattr(client, operation)(**params)
    except ClientError as error:
        details = {k: v for k, v in error.response.items() if k != "ResponseMetadata"}
        return "error", details
    except (ValueError, KeyError) as error:  # moto's own failures, in-process
        return "exception", type(error).__name__, str(error)
    answer.pop("ResponseMetadata", None)
    return answer


def test_patched_moto_answers_every_request_like_stock_moto() -> None:
    stock_answers, stock_items = run(patched=False)
    answers, items = run(patched=True)
    assert len(answers) == len(stock_answers)
    for (operation, answer), (_, stock) in zip(answers, stock_answers, strict=True):
        assert answer == stock, operation
    assert items == stock_items
    errors = Counter(a[1][0] for a in stock_answers if isinstance(a[1], tuple))
    assert errors["error"] >= 15  # the invalid requests did fail
    assert len(stock_items) == 8


def test_each_expression_is_parsed_and_statically_checked_once(monkeypatch) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer
    from moto.dynamodb.parsing.validators import ActionCountValidator

    counts: Counter[str] = Counter()

    def counting(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, staticmethod(wrapper) if name == "make_list" else wrapper)

    counting(ExpressionTokenizer, "make_list")
    counting(ConditionExpressionParser, "_lex_condition_expression")
    counting(ActionCountValidator, "verify_action_counts")
    run(patched=False)
    stock = dict(counts)
    counts.clear()
    run(patched=True)
    # Three rounds of the same expressions: stock parses and checks each every time.
    assert counts["make_list"] * 5 < stock["make_list"]
    assert counts["_lex_condition_expression"] * 3 < stock["_lex_condition_expression"]
    # Those checks run again for the expressions that fail them (errors are not remembered).
    assert counts["verify_action_counts"] * 3 < stock["verify_action_counts"] * 2


def test_item_requests_skip_the_generic_parser_and_serializer(monkeypatch) -> None:
    from moto.core.parse import RequestParser
    from moto.core.responses import ActionResult

    parsed: Counter[str] = Counter()
    served: Counter[str] = Counter()
    parse, execute = RequestParser.parse, ActionResult.execute_result

    def parsing(self: RequestParser, request: Any) -> Any:
        parsed[str(self.operation_model.name)] += 1
        return parse(self, request)

    def serializing(self: ActionResult, context: Any) -> Any:
        if not isinstance(self.result, Exception):  # errors keep moto's serializer
            served[str(context.operation_model.name)] += 1
        return execute(self, context)

    monkeypatch.setattr(RequestParser, "parse", parsing)
    monkeypatch.setattr(ActionResult, "execute_result", serializing)
    fast = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan", "PutItem")
    fast += ("UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
    run(patched=False)
    assert all(parsed[operation] > 0 and served[operation] > 0 for operation in fast)
    parsed.clear()
    served.clear()
    run(patched=True)
    assert {operation: parsed[operation] for operation in fast} == dict.fromkeys(fast, 0)
    assert {operation: served[operation] for operation in fast} == dict.fromkeys(fast, 0)
    assert parsed["CreateTable"] == served["CreateTable"] == 1  # the others: moto's own


def test_the_patched_moto_functions_keep_their_signatures() -> None:
    """The patches call these with positional arguments: a changed signature must fail here."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator, Validator
    from moto.dynamodb.responses import DynamoHandler

    def parameters(function: Any) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert parameters(UpdateExpressionParser.make) == ["expression_str"]
    assert parameters(ConditionExpressionParser.__init__)[1:] == [
        "condition_expression",
        "expression_attribute_names",
        "expression_attribute_values",
    ]
    assert parameters(ConditionExpressionParser.parse) == ["self"]
    assert parameters(DepthFirstTraverser.traverse) == ["self", "node"]
    assert parameters(DepthFirstTraverser.traverse_node_recursively) == ["self", "node", "child_id"]
    assert parameters(Validator.__init__) == [
        "self",
        "expression",
        "expression_attribute_names",
        "expression_attribute_values",
        "item",
        "table",
    ]
    assert parameters(UpdateExpressionValidator.validate) == ["self"]
    assert parameters(DynamoHandler.serialized) == ["self", "action_result"]
    assert parameters(DynamoHandler.parse_parameters) == ["self", "request"]
