"""Stack updates that change the table's indexes, one index per update.

CloudFormation creates or deletes at most one global secondary index of a
table per stack update ("Cannot perform more than one GSI creation or deletion
in a single update"), so a stage deployed before a release that added several
indexes (search added seven) cannot be updated to the new template in one
step. `index_steps` computes the intermediate templates: the new template
with the table's index list walked from the deployed one towards the new one,
one creation or deletion at a time (deletions first, so the table never holds
more indexes than either version). `make deploy` applies them in order, then
the real template.

Templates are read with CloudFormation's short tags (`!Ref`, `!If`...) turned
into their long form, and the steps are sent as JSON, which CloudFormation
accepts as well as YAML.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

TABLE = "MetadataTable"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags as their long form (JSON reads too)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)


def load_template(text: str) -> dict[str, Any]:
    """A CloudFormation template (YAML with short tags, or JSON) as a dict."""
    return yaml.load(text, Loader=_CloudFormationLoader)


def index_names(template: dict[str, Any]) -> list[str]:
    """The table's global secondary indexes, in template order."""
    return [index["IndexName"] for index in _indexes(template)]


def index_steps(deployed: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
    """Templates to apply before `target`, each one index away from the previous one.

    Empty when `target` is at most one index creation or deletion away from
    `deployed` (the usual update). An index whose definition changed counts as
    a deletion and a creation, as it does for DynamoDB.
    """
    before = {i["IndexName"]: i for i in _indexes(deployed)}
    after = {i["IndexName"]: i for i in _indexes(target)}
    current = [name for name in before if after.get(name) == before[name]]
    removals = [name for name in before if name not in current]
    additions = [name for name in after if name not in current]
    # Each step's index list: drop one old index at a time, then add one new one.
    lists: list[list[dict[str, Any]]] = []
    kept = list(before.values())
    for name in removals:
        kept = [i for i in kept if i["IndexName"] != name]
        lists.append(kept)
    for name in additions:
        kept = [*kept, after[name]]
        lists.append(kept)
    return [_with_indexes(target, indexes) for indexes in lists[:-1]]  # the last is `target`


def index_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What one step does to the table, in words ("adding index by_taken")."""
    old, new = set(index_names(before)), set(index_names(after))
    changes = [f"adding index {n}" for n in sorted(new - old)]
    changes += [f"removing index {n}" for n in sorted(old - new)]
    return ", ".join(changes) or "no index change"


def _indexes(template: dict[str, Any]) -> list[dict[str, Any]]:
    table = template.get("Resources", {}).get(TABLE, {})
    return list(table.get("Properties", {}).get("GlobalSecondaryIndexes", []))


def _with_indexes(target: dict[str, Any], indexes: list[dict[str, Any]]) -> dict[str, Any]:
    step = copy.deepcopy(target)
    properties = step["Resources"][TABLE]["Properties"]
    properties["GlobalSecondaryIndexes"] = copy.deepcopy(indexes)
    # DynamoDB rejects attribute definitions that no key schema uses.
    used = {key["AttributeName"] for key in properties["KeySchema"]}
    used |= {key["AttributeName"] for index in indexes for key in index["KeySchema"]}
    properties["AttributeDefinitions"] = [
        a for a in properties["AttributeDefinitions"] if a["AttributeName"] in used
    ]
    return step
