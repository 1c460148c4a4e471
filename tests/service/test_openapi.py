"""The OpenAPI document: in sync with app.py, and the running API honours it (schemathesis)."""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from chalice.test import Client
from stackrunner import running_stack

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


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("openapi")) as running:
        running.s3.put_object(Bucket="images-local", Key="uploads/seed.png", Body=b"x")
        yield running


@pytest.mark.e2e
@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "PROPFIND", "PUT", "DELETE"])
def test_the_local_stack_answers_undeclared_methods_with_json_405(stack, method: str) -> None:
    response = requests.request(method, f"{stack.api}/summary", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json() == {
        "Code": "MethodNotAllowedError",
        "Message": f"Unsupported method: {method}",
    }


@pytest.mark.e2e
def test_the_local_stack_answers_protocol_errors_with_json(stack) -> None:
    unknown = requests.request("TRACE", f"{stack.api}/no/such/route", timeout=5)
    assert unknown.status_code == 403  # as API Gateway answers a route it does not have
    assert unknown.json() == {"message": "Missing Authentication Token"}
    too_many_headers = b"".join(b"X-%d: 1\r\n" % n for n in range(200))
    for raw, status in (
        (b"GET /summary HTTP/1.1\r\nContent-Length: x\r\n\r\n", b" 400 "),
        (b"GET /summary HTTP/1.1\r\n" + too_many_headers + b"\r\n", b" 431 "),
    ):
        with socket.create_connection(("127.0.0.1", stack.api_port), timeout=5) as connection:
            connection.sendall(raw)
            reply = connection.makefile("rb").read()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.") and status in head.split(b"\r\n")[0], reply
        assert b"application/json" in head and json.loads(body)["message"]


@pytest.mark.e2e
def test_a_zero_byte_object_downloads_from_the_local_stack(stack) -> None:
    stack.s3.put_object(Bucket="images-local", Key="uploads/empty.bin", Body=b"")
    stack.wait_for_record("uploads/empty.bin")
    response = requests.get(stack.url("/images/download", "uploads/empty.bin"), timeout=5)
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["Content-Length"] == "0"


@pytest.mark.e2e
def test_fuzzing_the_running_api_finds_no_server_error_or_schema_violation(stack) -> None:
    """Every phase that applies, every check: no server error, no network error, no
    response outside the document (tests/service/schemathesis.toml says where a 400
    for schema-valid data is right)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(ROOT / "tests" / "service" / "schemathesis.toml"),
            "run",
            f"{stack.api}/openapi.json",
            "--url",
            stack.api,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-time",
            str(FUZZ_SECONDS),
            # A loaded CI machine may answer slowly; slow is not "stopped responding".
            "--request-timeout",
            "30",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 120,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " generated" in result.stdout  # it really ran
    for phase in ("Examples", "Coverage", "Fuzzing"):
        assert f"\u2705 {phase}" in result.stdout, phase  # each phase ran and passed
