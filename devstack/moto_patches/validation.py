"""UpdateExpression validation: the checks that read only the expression, once per expression.

moto validates every UpdateExpression with ten walks over a deep copy of its
tree; for an event's 16 Updates that is most of the emulator's time. Three of
the walks only check the expression against itself and the table's key names
(`ActionCountValidator`: one SET/ADD/REMOVE clause each, at a cost quadratic in
the tree; `OverlappingPathsValidator`; `UpdateHashRangeKeyValidator`): they
change nothing, and their verdict depends on the expression, the names it
uses and the key attributes alone. Here:

- once those three have passed for an (expression, names, key attributes),
  later validations of the same skip them; the walks that read the item and
  the values, and the operations themselves, always run;
- the validator's private copy of a remembered tree (`expressions`) is
  unpickled from a pickle taken once, instead of `copy.deepcopy` of the tree
  (the same objects either way: neither has custom copy hooks).

A check that fails is not remembered: the same bad expression fails each time.
Upstream, validating an expression's static part once at parse time (and
`copy.deepcopy` replaced by a cheaper copy) would make this module unnecessary.
"""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
    UpdateHashRangeKeyValidator,
)

from devstack.moto_patches import expressions
from devstack.moto_patches.patching import Patches

patches = Patches()
STATIC_CHECKS = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
_TAG = "_devstack_expression"  # on a validator's copy: the expression it was copied from
_passed: set[tuple] = set()
_local = threading.local()


def install() -> None:
    patches.apply(
        {
            (UpdateExpressionValidator, "__init__"): _init,
            (UpdateExpressionValidator, "validate"): _validate,
            (validators, "deepcopy"): _deepcopy,
        }
    )


def clear() -> None:
    _passed.clear()


def _init(self: UpdateExpressionValidator, expression: Any, *args: Any, **kwargs: Any) -> None:
    _local.copying = expressions.remembered(expression)
    try:
        patches.original(UpdateExpressionValidator, "__init__")(self, expression, *args, **kwargs)
    finally:
        _local.copying = None


def _deepcopy(value: Any, memo: Any = None) -> Any:
    """validators.deepcopy: the validator's copy of a remembered tree, from its pickle."""
    copying = getattr(_local, "copying", None)
    if copying is not None and memo is None:
        _local.copying = None  # only the tree's own copy, once
        if expressions.remembered(value) is not None:
            tree = pickle.loads(copying[0])
            setattr(tree, _TAG, copying[1])
            return tree
    return copy.deepcopy(value, memo)


def _validate(self: UpdateExpressionValidator) -> Any:
    node = self.node_to_validate
    text = node.__dict__.pop(_TAG, None)  # the tree moto validates is stock's again
    key = _key(self, text) if text is not None else None
    skip = key is not None and key in _passed
    for processor in self.processors:
        if skip and isinstance(processor, STATIC_CHECKS):
            continue
        node = processor.traverse(node)
        if key is not None and not skip and isinstance(processor, UpdateHashRangeKeyValidator):
            if len(_passed) >= expressions.MAX_ENTRIES:
                _passed.clear()
            _passed.add(key)  # all three have passed (they run first, in this order)
    return node


def _key(validator: UpdateExpressionValidator, text: str) -> tuple | None:
    order = [type(p) for p in validator.processors[: len(STATIC_CHECKS)]]
    if order != list(STATIC_CHECKS):
        return None  # moto changed its checks: validate everything
    names = validator.expression_attribute_names or {}
    if not isinstance(names, dict):
        return None
    used = tuple(sorted((k, v) for k, v in names.items() if isinstance(k, str) and k in text))
    if not all(isinstance(v, str) for _, v in used):
        return None
    return text, used, tuple(validator.table.table_key_attrs)
