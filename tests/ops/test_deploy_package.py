"""What `make deploy` would upload, checked offline: `chalice package --pkg-format
terraform --stage prod` (through ops.chalice_cli, as `make deploy` runs Chalice).

One packaging run for the whole module (it downloads Linux wheels from PyPI,
about 15 s with a warm pip cache); it runs on a copy of the project so the
repository's `.chalice/deployments` cache is neither used nor written.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chalice.config import Config
from chalice.deploy.packager import PipRunner

import app as app_module
from ops.chalice_cli import LAMBDA_RUNTIME, pin_runtime
from ops.package import build_package
from ops.policy import load_config

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"
MAX_ZIPPED = 50 * 1024 * 1024  # direct upload limit
MAX_UNZIPPED = 250 * 1024 * 1024  # function code and layers, unzipped
ELF_X86_64 = 0x3E


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = build_package(tmp_path_factory.mktemp("package"), STAGE)
    terraform = json.loads((out / "chalice.tf.json").read_text())
    return {
        "terraform": terraform,
        "zip": out / "deployment.zip",
        "project": out.parent / "project",
    }


def _event_source(package: dict[str, Any], function: str) -> dict[str, Any]:
    """The one SQS event source mapping that feeds `function`."""
    (mapping,) = [
        m
        for m in _resources(package, "aws_lambda_event_source_mapping").values()
        if m["function_name"] == f"${{aws_lambda_function.{function}.arn}}"
    ]
    return mapping


def _resources(package: dict[str, Any], kind: str) -> dict[str, Any]:
    return package["terraform"]["resource"].get(kind, {})


def test_functions_run_the_pinned_runtime_with_their_memory_and_timeout(package: dict) -> None:
    config = load_config(ROOT)
    functions = _resources(package, "aws_lambda_function")
    assert set(functions) == set(config["lambda_functions"])
    env = config["stages"][STAGE]["environment_variables"]
    for name, function in functions.items():
        settings = config["lambda_functions"][name]
        assert function["runtime"] == LAMBDA_RUNTIME, name
        assert function["architectures"] == ["x86_64"], name
        assert function["memory_size"] == settings["lambda_memory_size"], name
        assert function["timeout"] == settings["lambda_timeout"], name
        variables = function["environment"]["variables"]
        assert variables["IMAGES_BUCKET"] == env["IMAGES_BUCKET"], name
        assert variables["IMAGES_TABLE"] == env["IMAGES_TABLE"], name
        assert variables["IMAGES_PREFIX"] == "uploads/", name


def test_both_s3_notifications_are_filtered_to_the_prefix(package: dict) -> None:
    bucket = load_config(ROOT)["stages"][STAGE]["environment_variables"]["IMAGES_BUCKET"]
    (notification,) = _resources(package, "aws_s3_bucket_notification").values()
    assert notification["bucket"] == bucket
    targets = {
        (tuple(n["events"]), n["lambda_function_arn"], n.get("filter_prefix"))
        for n in notification["lambda_function"]
    }
    assert targets == {
        (("s3:ObjectCreated:*",), "${aws_lambda_function.on_object_created.arn}", "uploads/"),
        (("s3:ObjectRemoved:*",), "${aws_lambda_function.on_object_removed.arn}", "uploads/"),
    }


def test_the_pixel_stage_is_fed_by_its_queue_one_message_at_a_time(package: dict) -> None:
    env = load_config(ROOT)["stages"][STAGE]["environment_variables"]
    mapping = _event_source(package, "pixels_stage")
    assert mapping["event_source_arn"].endswith(":" + env["IMAGES_PIXELS_QUEUE"])
    assert mapping["batch_size"] == 1


def test_every_route_is_in_the_api(package: dict) -> None:
    swagger = json.loads(package["terraform"]["locals"]["chalice_api_swagger"])
    routes = {path: set(methods) for path, methods in swagger["paths"].items()}
    expected = {
        path: {method.lower() for method in entries}
        for path, entries in app_module.app.routes.items()
    }
    assert routes == expected
    assert {"/images", "/images/download", "/summary"} <= set(routes)
    assert "*/*" in swagger["x-amazon-apigateway-binary-media-types"]


def test_every_function_has_its_own_role_with_exactly_its_policy(package: dict) -> None:
    functions = _resources(package, "aws_lambda_function")
    policies = _resources(package, "aws_iam_role_policy")
    assert len(policies) == len(functions)
    for name, function in functions.items():
        role = function["role"].removeprefix("${aws_iam_role.").removesuffix(".arn}")
        (policy,) = [p for p in policies.values() if p["role"] == f"${{aws_iam_role.{role}.id}}"]
        expected = json.loads((ROOT / ".chalice" / f"policy-{STAGE}-{name}.json").read_text())
        assert json.loads(policy["policy"]) == expected, name
    assert len({f["role"] for f in functions.values()}) == len(functions)
    # No managed policy (AWSLambdaBasicExecutionRole & co.) sneaks in beside it.
    assert not _resources(package, "aws_iam_role_policy_attachment")


def test_zip_has_a_linux_x86_64_pillow_build_within_lambda_limits(package: dict) -> None:
    path: Path = package["zip"]
    assert path.stat().st_size < MAX_ZIPPED
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        names = {e.filename for e in entries}
        assert sum(e.file_size for e in entries) < MAX_UNZIPPED
        assert "app.py" in names and "chalicelib/catalog/catalog.py" in names
        assert "chalicelib/extraction/extract.py" in names
        # The web page ships with the code it is served by.
        assert {"chalicelib/web/index.html", "chalicelib/web/app.js"} <= names
        assert "chalicelib/web/vendor/leaflet/leaflet-src.esm.js" in names
        assert not any(n.startswith(("tests/", "ops/", "devstack/", ".chalice/")) for n in names)
        # The runtime's boto3 is used (docs/deploy.md, "boto3 is not bundled").
        assert not any(n.startswith(("boto3/", "botocore/", "s3transfer/")) for n in names)
        abi = f"cpython-{LAMBDA_RUNTIME.removeprefix('python').replace('.', '')}"
        # Extension modules (PIL/_imaging..., _pillow_heif) and the libraries
        # auditwheel bundled next to them (libjpeg, libheif, ...): the pixel
        # stage decodes HEIC with pillow-heif, so its Linux build ships too.
        assert "chalicelib/previews.py" in names and "chalicelib/pixels/analyse.py" in names
        for modules_prefix, libs_prefix in (
            ("PIL/", "pillow.libs/"),
            ("_pillow_heif", "pillow_heif.libs/"),
        ):
            modules = [n for n in names if n.startswith(modules_prefix) and n.endswith(".so")]
            libraries = [n for n in names if n.startswith(libs_prefix) and ".so" in n]
            assert modules and libraries, f"no Linux build of {modules_prefix}"
            for name in modules:
                assert name.endswith(f".{abi}-x86_64-linux-gnu.so"), name
            for name in modules + libraries:
                _assert_elf_x86_64(archive.read(name), name)
        for dist in ("pillow", "pillow_heif"):
            (wheel,) = [
                n
                for n in names
                if n.lower().startswith(dist + "-") and n.endswith(".dist-info/WHEEL")
            ]
            tags = [line for line in archive.read(wheel).decode().splitlines() if "Tag:" in line]
            assert tags and all("manylinux" in t and t.endswith("x86_64") for t in tags), tags
            assert all(f"-{abi.replace('cpython-', 'cp')}-" in t for t in tags), tags


def _assert_elf_x86_64(data: bytes, name: str) -> None:
    assert data[:4] == b"\x7fELF", f"{name} is not an ELF shared object"
    assert data[4] == 2 and data[5] == 1, f"{name} is not 64-bit little-endian"
    (machine,) = struct.unpack_from("<H", data, 18)
    assert machine == ELF_X86_64, f"{name} is built for machine {machine:#x}"


def test_pinning_sets_the_runtime_and_asks_pip_for_its_wheels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Offline and in-process; monkeypatch restores Chalice afterwards.
    monkeypatch.setattr(Config, "lambda_python_version", Config.lambda_python_version)
    monkeypatch.setattr(PipRunner, "_execute", PipRunner._execute)
    pin_runtime()
    calls: list[list[str]] = []

    class Pip:
        def main(self, args: list[str], env_vars: Any = None, shim: Any = None) -> tuple:
            calls.append(args)
            return 0, b"", b""

    PipRunner(Pip()).download_manylinux_wheels("cp312", ["pillow==13.0.0"], "/nowhere")
    PipRunner(Pip()).download_sdists(["pillow==13.0.0"], "/nowhere")

    assert Config.create().lambda_python_version == LAMBDA_RUNTIME
    assert calls[0][:3] == ["download", "--python-version", "3.12"]
    assert "--abi" in calls[0] and "pillow==13.0.0" in calls[0]
    assert "--python-version" not in calls[1]  # sdists are not for a platform


def test_reconcile_runs_on_the_configured_schedule(package: dict) -> None:
    rules = _resources(package, "aws_cloudwatch_event_rule")
    assert [rule["schedule_expression"] for rule in rules.values()] == ["rate(1 day)"]
    targets = _resources(package, "aws_cloudwatch_event_target")
    assert [t["arn"] for t in targets.values()] == [
        "${aws_lambda_function.scheduled_reconcile.arn}"
    ]


def test_the_reconcile_worker_reads_the_work_queue_one_item_at_a_time_capped(
    package: dict,
) -> None:
    env = load_config(ROOT)["stages"][STAGE]["environment_variables"]
    mapping = _event_source(package, "reconcile_worker")
    assert mapping["event_source_arn"].endswith(f":{env['IMAGES_RECONCILE_QUEUE']}")
    assert mapping["batch_size"] == 1
    ceiling = app_module.deps.settings.reconcile_workers
    assert mapping["scaling_config"]["maximum_concurrency"] == ceiling
    assert 2 <= ceiling <= 1000  # what Lambda accepts
