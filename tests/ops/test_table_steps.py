"""Updating a deployed stage whose table gains several indexes: one index per update.

CloudFormation refuses an update that creates or deletes more than one global
secondary index of a table (`_CloudFormation` below plays that part).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops.deploy import TEMPLATE, deploy_stack
from ops.table_steps import index_change, index_names, index_steps, load_template

TARGET = load_template(TEMPLATE.read_text())
PARAMETERS = {"AppName": "image-metadata", "Stage": "dev", "TableName": "image-metadata-dev"}


def _table(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["MetadataTable"]["Properties"]


def _keeping(template: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """`template` as an older release: only the indexes `names` (and their attributes)."""
    old = copy.deepcopy(template)
    table = _table(old)
    table["GlobalSecondaryIndexes"] = [
        i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] in names
    ]
    used = {k["AttributeName"] for k in table["KeySchema"]}
    used |= {k["AttributeName"] for i in table["GlobalSecondaryIndexes"] for k in i["KeySchema"]}
    table["AttributeDefinitions"] = [
        a for a in table["AttributeDefinitions"] if a["AttributeName"] in used
    ]
    return old


BEFORE_SEARCH = _keeping(TARGET, ["by_size", "by_key"])


def _attributes_match_keys(template: dict[str, Any]) -> None:
    table = _table(template)
    used = {k["AttributeName"] for k in table["KeySchema"]}
    used |= {k["AttributeName"] for i in table["GlobalSecondaryIndexes"] for k in i["KeySchema"]}
    assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == used


def test_the_template_has_more_indexes_than_one_update_can_add() -> None:
    # Otherwise the upgrade below would not exercise anything.
    assert len(index_names(TARGET)) - len(index_names(BEFORE_SEARCH)) >= 3


def test_steps_walk_from_the_deployed_indexes_to_the_new_ones_one_at_a_time() -> None:
    steps = index_steps(BEFORE_SEARCH, TARGET)
    path = [BEFORE_SEARCH, *steps, TARGET]

    assert len(steps) == len(index_names(TARGET)) - len(index_names(BEFORE_SEARCH)) - 1
    for before, after in pairwise(path):
        assert len(set(index_names(before)) ^ set(index_names(after))) == 1
        assert index_change(before, after).startswith("adding index ")
    for step in steps:
        _attributes_match_keys(step)
        # Everything but the table's indexes is the new template.
        assert {k: v for k, v in step["Resources"].items() if k != "MetadataTable"} == {
            k: v for k, v in TARGET["Resources"].items() if k != "MetadataTable"
        }


def test_removals_come_before_additions_and_a_changed_index_is_both() -> None:
    deployed = copy.deepcopy(TARGET)
    indexes = _table(deployed)["GlobalSecondaryIndexes"]
    indexes[0] = {**indexes[0], "Projection": {"ProjectionType": "KEYS_ONLY"}}  # changed
    indexes.append({**indexes[1], "IndexName": "retired"})
    steps = index_steps(deployed, TARGET)
    changed = index_names(TARGET)[0]

    changes = [index_change(a, b) for a, b in pairwise([deployed, *steps, TARGET])]

    assert changes == [
        f"removing index {changed}",
        "removing index retired",
        f"adding index {changed}",
    ]


@pytest.mark.parametrize("deployed", [TARGET, _keeping(TARGET, index_names(TARGET)[:-1])])
def test_no_intermediate_update_when_one_update_suffices(deployed: dict[str, Any]) -> None:
    assert index_steps(deployed, TARGET) == []


def test_an_intermediate_template_passes_cfn_lint(tmp_path: Path) -> None:
    path = tmp_path / "step.json"
    path.write_text(json.dumps(index_steps(BEFORE_SEARCH, TARGET)[0]))
    binary = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(binary), str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


class _CloudFormation:
    """A CloudFormation stack of one table, with AWS's rule on index changes per update.

    moto cannot stand in here: it neither enforces the rule nor updates a table
    in place (its table loses its outputs on update).
    """

    def __init__(self) -> None:
        self.template: dict[str, Any] | str | None = None
        self.updates: list[list[str]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if self.template is None:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": "Stack does not exist"}},
                "DescribeStacks",
            )
        outputs = {"BucketName": "images", "TableName": PARAMETERS["TableName"]}
        return {
            "Stacks": [
                {
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [{"ParameterKey": k} for k in PARAMETERS],
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                }
            ]
        }

    def create_stack(self, TemplateBody: str, **kwargs: Any) -> None:
        self.template = TemplateBody

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:
        # Like boto3: a JSON template comes back parsed, a YAML one as text.
        assert isinstance(self.template, str)
        try:
            return {"TemplateBody": json.loads(self.template)}
        except ValueError:
            return {"TemplateBody": self.template}

    def update_stack(self, TemplateBody: str, **kwargs: Any) -> None:
        body = self.get_template("", "Original")["TemplateBody"]
        deployed = body if isinstance(body, dict) else load_template(body)
        new = load_template(TemplateBody)
        if len(set(index_names(deployed)) ^ set(index_names(new))) > 1:
            message = "Cannot perform more than one GSI creation or deletion in a single update"
            raise ClientError({"Error": {"Code": "ValidationError", "Message": message}}, "Update")
        if new == deployed:
            message = "No updates are to be performed."
            raise ClientError({"Error": {"Code": "ValidationError", "Message": message}}, "Update")
        self.template = TemplateBody
        self.updates.append(index_names(new))

    def get_waiter(self, name: str) -> Any:
        return SimpleNamespace(wait=lambda **kwargs: None)


def test_deploy_upgrades_a_stage_from_before_search_one_index_per_update() -> None:
    cloudformation = _CloudFormation()
    deploy_stack(cloudformation, "image-metadata-dev", json.dumps(BEFORE_SEARCH), PARAMETERS)
    printed: list[str] = []

    resources = deploy_stack(
        cloudformation, "image-metadata-dev", TEMPLATE.read_text(), PARAMETERS, printed.append
    )

    assert resources.table == "image-metadata-dev"
    new = sorted(set(index_names(TARGET)) - set(index_names(BEFORE_SEARCH)))
    assert sorted(u[-1] for u in cloudformation.updates) == new
    assert [len(u) for u in cloudformation.updates] == list(
        range(len(index_names(BEFORE_SEARCH)) + 1, len(index_names(TARGET)) + 1)
    )
    assert len(printed) == len(new) and printed[0].startswith("  table: adding index ")
    assert load_template(cloudformation.template) == TARGET
    # The stack now holds the real template: the next deploy has no index to change.
    cloudformation.updates.clear()
    deploy_stack(cloudformation, "image-metadata-dev", TEMPLATE.read_text(), PARAMETERS)
    assert cloudformation.updates == []
