"""The OpenAPI document: in sync with app.py, and the running API honours it (schemathesis)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.test import Client
from test_e2e import running_stack

import app as app_module

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "chalicelib" / "openapi.json").read_text())
FUZZ_SECONDS = 30


def documented_operations() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item}


def test_every_route_is_documented_and_nothing_else() -> None:
    routes = {(path, method) for path, entry in app_module.app.routes.items() for method in entry}
    assert documented_operations() == routes


def test_operation_ids_name_the_view_functions() -> None:
    for path, entry in app_module.app.routes.items():
        for method, route in entry.items():
            operation = DOCUMENT["paths"][path][method.lower()]
            assert operation["operationId"] == route.view_name


def _query_parameters_read_by_views() -> dict[str, set[str]]:
    """For each view in app.py: the names it (or a helper it calls) passes to `_param`."""
    tree = ast.parse((ROOT / "app.py").read_text())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    def reads(name: str, seen: set[str]) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                callee = node.func.id
                if callee == "_param" and isinstance(node.args[0], ast.Constant):
                    found.add(node.args[0].value)
                elif callee == "_params":  # a tuple of names, or a constant naming one
                    argument = node.args[0]
                    if isinstance(argument, ast.Name):
                        found |= set(getattr(app_module, argument.id))
                    else:
                        found |= {element.value for element in argument.elts}
                elif callee in functions and callee not in seen:
                    found |= reads(callee, seen | {callee})
        return found

    return {name: reads(name, {name}) for name in functions}


def test_documented_query_parameters_are_the_ones_the_views_read() -> None:
    read = _query_parameters_read_by_views()
    for path, entry in app_module.app.routes.items():
        for method, route in entry.items():
            operation = DOCUMENT["paths"][path][method.lower()]
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert documented == read[route.view_name], (path, method)


def test_the_document_is_served(deps) -> None:
    with Client(app_module.app) as client:
        response = client.http.get("/openapi.json", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert json.loads(response.body) == DOCUMENT


@pytest.mark.e2e
def test_fuzzing_the_running_api_finds_no_server_error_or_schema_violation(tmp_path) -> None:
    with running_stack(tmp_path) as stack:
        stack.s3.put_object(Bucket="images-local", Key="uploads/seed.png", Body=b"x")
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{stack.api}/openapi.json",
                "--url",
                stack.api,
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance,response_headers_conformance",
                # Coverage also sends TRACE, which `chalice local`'s http.server
                # answers 501 itself (API Gateway answers 403): not the app's doing.
                "--phases",
                "examples,fuzzing",
                "--max-time",
                str(FUZZ_SECONDS),
                "--seed",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=FUZZ_SECONDS + 120,
        )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " generated" in result.stdout  # it really ran
