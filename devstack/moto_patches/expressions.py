"""DynamoDB expressions parsed once, not three times per write and again for every event.

An event's transaction holds 16 Updates and a conditional Put, and moto parses
each expression again and again: an UpdateExpression once when the request is
checked and once when it is applied, a ConditionExpression three times (request
check, transaction check, the write itself), each time with a hand-written
tokenizer and parser, although the same few expressions come with every event.
Here:

- `UpdateExpressionParser.make` remembers the tree per expression string: it
  depends on the string alone, and nothing changes the tree moto gets (the
  validator works on its own deep copy, the request check only reads it);
- `ConditionExpressionParser.parse` remembers its answer (and the names and
  values it found) per expression and the names and values the expression's
  text mentions; the tree is built from copies of those, so later changes to a
  request's dicts cannot reach it, and evaluating it reads the item only;
- the validator's tree walk (ten walks per update) works out which nodes it
  processes once per node type and walk, not twice at every node.

`validation` (next to this module) uses the remembered trees to validate less.

Parse errors are not remembered: a bad expression fails every time, as stock.
Upstream, memoizing the two parsers (e.g. `functools.lru_cache` on a pure
`parse(expression)`) and hoisting `nodes_to_be_processed()` out of
`traverse_node_recursively` would make this module unnecessary.
"""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from devstack.moto_patches.patching import Patches

patches = Patches()
MAX_ENTRIES = 4096  # distinct expressions remembered (then the cache starts over)
_updates: dict[str, Any] = {}
_pickled: dict[int, tuple[Any, bytes, str]] = {}  # id(tree) -> tree, its pickle, its text
_conditions: dict[tuple, tuple[Any, list[str], list[str]]] = {}
_lock = threading.Lock()


def install() -> None:
    patches.apply(
        {
            (UpdateExpressionParser, "make"): classmethod(_make_update),
            (ConditionExpressionParser, "parse"): _parse_condition,
            (DepthFirstTraverser, "traverse"): _traverse,
        }
    )


def clear() -> None:
    with _lock:
        _updates.clear()
        _pickled.clear()
        _conditions.clear()


def _remember(cache: dict, key: Any, value: Any) -> None:
    with _lock:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = value


def _make_update(cls: type, expression_str: str) -> Any:
    make = patches.original(UpdateExpressionParser, "make").__func__
    if cls is not UpdateExpressionParser or not isinstance(expression_str, str):
        return make(cls, expression_str)
    tree = _updates.get(expression_str)
    if tree is None:
        tree = make(cls, expression_str)
        copied = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
        with _lock:
            if len(_updates) >= MAX_ENTRIES:
                _updates.clear()
                _pickled.clear()
            _updates[expression_str] = tree
            _pickled[id(tree)] = (tree, copied, expression_str)
    return tree


def remembered(tree: Any) -> tuple[bytes, str] | None:
    """A tree `UpdateExpressionParser.make` returned from this cache: its pickle and text."""
    found = _pickled.get(id(tree))
    return (found[1], found[2]) if found is not None and found[0] is tree else None


def _parse_condition(self: ConditionExpressionParser) -> Any:
    parse = patches.original(ConditionExpressionParser, "parse")
    expression = self.condition_expression
    key = _condition_key(self) if type(self) is ConditionExpressionParser else None
    if key is None:
        return parse(self)
    found = _conditions.get(key)
    if found is None:
        # Parsed from copies: the remembered tree shares nothing with this request.
        private = ConditionExpressionParser(
            expression,
            copy.deepcopy(self.expression_attribute_names),
            copy.deepcopy(self.expression_attribute_values),
        )
        op = parse(private)
        found = (op, list(private.expr_attr_names_found), list(private.expr_attr_values_found))
        _remember(_conditions, key, found)
    op, names_found, values_found = found
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return op


def _condition_key(parser: ConditionExpressionParser) -> tuple | None:
    """The expression and every name and value its text could refer to (None: don't cache)."""
    expression = parser.condition_expression
    if not isinstance(expression, str) or not expression:
        return None
    names = parser.expression_attribute_names or {}
    values = parser.expression_attribute_values or {}
    if not isinstance(names, dict) or not isinstance(values, dict):
        return None
    # A placeholder the parser reads appears in the text; more entries only cost hits.
    used_names = _freeze({k: v for k, v in names.items() if isinstance(k, str) and k in expression})
    used_values = _freeze(
        {k: v for k, v in values.items() if isinstance(k, str) and k in expression}
    )
    if used_names is None or used_values is None:
        return None
    return expression, used_names, used_values


_SCALARS = (str, bytes, int, float, bool, type(None))


def _freeze(value: Any) -> Any:
    """A hashable, order-independent copy of JSON-like request data (None if it is not)."""
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            frozen = _freeze(v)
            if frozen is None and v is not None:
                return None
            items.append((k, type(v).__name__, frozen))
        return ("dict", tuple(sorted(items, key=lambda entry: str(entry[0]))))
    if isinstance(value, list):
        frozen_items = [(type(v).__name__, _freeze(v)) for v in value]
        if any(f is None and v is not None for (_, f), v in zip(frozen_items, value, strict=True)):
            return None
        return ("list", tuple(frozen_items))
    if isinstance(value, _SCALARS):
        return value
    return None


_is_node: dict[type, bool] = {}  # isinstance(x, Node) by type (Node is an ABC: slow to ask)


def _traverse(self: DepthFirstTraverser, node: Any) -> Any:
    """moto's `traverse_node_recursively`, with the processed node types worked out once."""
    if type(self).traverse_node_recursively is not DepthFirstTraverser.traverse_node_recursively:
        return self.traverse_node_recursively(node)  # a subclass walks its own way
    types = self.nodes_to_be_processed()
    processed: dict[type, bool] = {}

    def walk(node: Any, child_id: int) -> Any:
        kind = type(node)
        is_node = _is_node.get(kind)
        if is_node is None:
            is_node = _is_node[kind] = isinstance(node, Node)
        if is_node:
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    walk(child_node, i)
            wanted = processed.get(kind)
            if wanted is None:
                wanted = processed[kind] = isinstance(node, types)
            if wanted:
                node = self.process(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    return walk(node, -1)
