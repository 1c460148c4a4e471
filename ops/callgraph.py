"""Which code each Lambda function can run, found statically (the source is never imported).

Every Lambda function of the app starts at its handlers in app.py: the routes
and HTTP middleware (`api_handler`), each `@app.on_s3_event`, `@app.schedule`
and `@app.lambda_function` (named as Chalice names them). From there, what a
body mentions is followed, by name, through app.py and chalicelib/:

- a plain name (`extract_metadata(...)`, a callback, a dispatch table) to the
  functions, classes and module variables of that name (never to methods: a
  local variable `entries` is not `Catalog.entries`); a module variable to
  what its value mentions, a class to the methods Python calls by itself
  (its constructor and special methods, `readinto`);
- a called attribute (`x.get(...)`) to every function or method of that name;
- an attribute that is not called (`deps.catalog`, a bound method passed as a
  callback) to the methods of that name, unless the name is also a data
  attribute (a dataclass field, `self.name = ...`): `settings.counter_shards`
  is a number, not `Catalog.counter_shards()`.

Matching by name over-approximates (`x.get(...)` reaches `Catalog.get`), so a
function's set of boto3 calls may hold more than it makes, never less; the
one blind spot is a method passed as a callback under the name of a data
attribute.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ops.policycheck import ClientCall, find_calls

API_FUNCTION = "api_handler"  # Chalice's name for the function behind every route
# Methods Python or the io machinery call without naming them in our code.
_IMPLICIT = {"readinto"}


@dataclass(frozen=True)
class Definition:
    path: Path
    name: str
    method: bool
    first: int  # the lines whose boto3 calls are its own
    last: int
    names: frozenset[str]  # plain names it mentions
    called: frozenset[str]  # attributes it calls
    referenced: frozenset[str]  # attributes it mentions without calling


@dataclass
class Code:
    """Every definition of the analysed modules, by name, and the data attribute names."""

    definitions: dict[str, list[Definition]]
    data: frozenset[str]
    # What using a class by name runs: its own constructor and special methods.
    implicit: dict[Definition, list[Definition]]


def analyse(paths: Iterable[Path]) -> Code:
    found: dict[str, list[Definition]] = {}
    data: set[str] = set()
    implicit: dict[Definition, list[Definition]] = {}
    by_node: dict[int, Definition] = {}

    def add(path: Path, node: ast.AST, name: str, method: bool, body: list[ast.AST]) -> None:
        # A class's own lines are its header: its methods' calls belong to them.
        last = node.lineno if isinstance(node, ast.ClassDef) else node.end_lineno
        names, called, referenced = _mentions(body)
        definition = Definition(path, name, method, node.lineno, last, names, called, referenced)
        found.setdefault(name, []).append(definition)
        by_node[id(node)] = definition

    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        methods = {
            id(item)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            for item in node.body
        }
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(path, node, node.name, id(node) in methods, node.body)
            elif isinstance(node, ast.ClassDef):
                add(path, node, node.name, False, [])
                data.update(
                    target.id
                    for item in node.body
                    if isinstance(item, (ast.AnnAssign, ast.Assign))
                    for target in (item.targets if isinstance(item, ast.Assign) else [item.target])
                    if isinstance(target, ast.Name)
                )
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                data.add(node.attr)  # self.name = ...
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                implicit[by_node[id(node)]] = [
                    by_node[id(item)]
                    for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and (item.name.startswith("__") or item.name in _IMPLICIT)
                ]
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        add(path, node, target.id, False, [node.value])
    return Code(found, frozenset(data), implicit)


def entry_points(app_path: Path) -> dict[str, set[str]]:
    """Lambda function name -> the app.py functions Lambda calls for it."""
    entries: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(app_path.read_text(), str(app_path))):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            kind = decorator.func.attr
            named = {k.arg: k.value for k in decorator.keywords}
            name = named.get("name")
            explicit = name.value if isinstance(name, ast.Constant) else None
            if kind in ("route", "middleware"):
                entries.setdefault(API_FUNCTION, set()).add(node.name)
            elif kind in ("on_s3_event", "on_sqs_message", "schedule", "lambda_function"):
                entries.setdefault(explicit or node.name, set()).add(node.name)
    return entries


def reachable(start: Iterable[str], code: Code) -> set[Definition]:
    """The definitions reachable from the named functions (see the module docstring)."""
    seen: set[Definition] = set()
    todo = [d for name in start for d in code.definitions.get(name, [])]
    while todo:
        definition = todo.pop()
        if definition in seen:
            continue
        seen.add(definition)
        todo += code.implicit.get(definition, [])
        for name in definition.names:
            todo += [d for d in code.definitions.get(name, []) if not d.method]
        for name in definition.called:
            todo += code.definitions.get(name, [])
        for name in definition.referenced - code.data:
            todo += [d for d in code.definitions.get(name, []) if d.method]
    return seen


def calls_by_function(app_path: Path, paths: list[Path], root: Path) -> dict[str, list[ClientCall]]:
    """For each Lambda function, the boto3 calls in the code it can reach."""
    code = analyse(paths)
    calls = {path: find_calls(path.read_text(), str(path.relative_to(root))) for path in paths}
    result = {}
    for function, start in entry_points(app_path).items():
        reached = reachable(start, code)
        result[function] = sorted(
            {
                call
                for definition in reached
                for call in calls[definition.path]
                if definition.first <= int(call.where.rsplit(":", 1)[1]) <= definition.last
            },
            key=lambda call: (call.where.rsplit(":", 1)[0], int(call.where.rsplit(":", 1)[1])),
        )
    return result


def _mentions(body: list[ast.AST]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Plain names, called attributes and other attributes some code mentions."""
    names, called, attributes = set(), set(), set()
    for statement in body:
        for child in ast.walk(statement):
            if isinstance(child, ast.Name):
                names.add(child.id)
            elif isinstance(child, ast.Attribute):
                attributes.add(child.attr)
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                called.add(child.func.attr)
    return frozenset(names), frozenset(called), frozenset(attributes - called)
