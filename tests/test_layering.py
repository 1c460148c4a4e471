"""The package boundaries stated in chalicelib's `__init__.py` files, enforced.

- `chalicelib.extraction` is pure: no AWS SDK, no Chalice, nothing else of chalicelib.
- `chalicelib.catalog` may use the AWS SDK but no other part of chalicelib.
- `chalicelib.pixels` is pure too: Pillow, no AWS SDK, no Chalice, nothing else of chalicelib.
- nothing in chalicelib imports the app, the local stack, ops or the tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chalicelib"
NEVER = ("app", "devstack", "ops", "tests", "bench")
RULES = {
    "chalicelib.extraction": ("boto3", "botocore", "chalice", "chalicelib"),
    "chalicelib.catalog": ("chalice", "chalicelib"),
    "chalicelib.pixels": ("boto3", "botocore", "chalice", "chalicelib"),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT) -> list[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, node.module] if node.module else base))
            else:
                found.append(node.module or "")
    return found


def violations(path: Path, root: Path = ROOT) -> list[str]:
    """The imports of `path` that break the layering rules."""
    name = module_name(path, root)
    broken = []
    for imported in imported_modules(path, root):
        top = imported.split(".")[0]
        if top in NEVER:
            broken.append(f"{name} imports {imported}")
        for package, forbidden in RULES.items():
            if name != package and not name.startswith(package + "."):
                continue
            if imported == package or imported.startswith(package + "."):
                continue  # inside its own package
            if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                broken.append(f"{name} imports {imported}")
    return broken


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_both_layers() -> None:
    names = {module_name(p) for p in modules()}
    assert "chalicelib.extraction.extract" in names
    assert "chalicelib.catalog.catalog" in names
    assert "chalicelib.pixels.analyse" in names


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_module_respects_the_layering(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("extraction/bad.py", "import boto3\n", "imports boto3"),
        ("extraction/bad.py", "from botocore.exceptions import ClientError\n", "botocore"),
        ("extraction/bad.py", "from chalicelib.catalog import records\n", "chalicelib.catalog"),
        ("extraction/bad.py", "from chalicelib.keys import resolve_key\n", "chalicelib.keys"),
        ("extraction/formats/bad.py", "from ...catalog import layout\n", "chalicelib.catalog"),
        ("catalog/bad.py", "from chalicelib.extraction.extract import x\n", "extraction"),
        ("catalog/bad.py", "from chalicelib.s3file import ObjectInfo\n", "chalicelib.s3file"),
        ("pixels/bad.py", "import boto3\n", "imports boto3"),
        ("pixels/bad.py", "from chalicelib.catalog import records\n", "chalicelib.catalog"),
        ("pixels/bad.py", "from chalicelib import settings\n", "chalicelib"),
        ("bad.py", "import app\n", "imports app"),
        ("bad.py", "from devstack import pump\n", "devstack"),
    ],
)
def test_the_checker_catches_a_violation(
    tmp_path: Path, where: str, source: str, expected: str
) -> None:
    path = tmp_path / "chalicelib" / where
    path.parent.mkdir(parents=True)
    path.write_text(source)
    found = violations(path, tmp_path)
    assert found and expected in found[0]


@pytest.mark.parametrize(
    ("where", "source"),
    [
        ("extraction/ok.py", "from chalicelib.extraction.budget import B\nfrom PIL import Image\n"),
        ("extraction/formats/ok.py", "from .. import budget\nfrom . import ImageFacts\n"),
        ("pixels/ok.py", "from chalicelib.pixels.facts import Preview\nimport pillow_heif\n"),
        ("catalog/ok.py", "import boto3\nfrom chalicelib.catalog.records import to_dynamo\n"),
        ("ok.py", "from chalicelib.catalog.catalog import Catalog\nimport boto3\n"),
    ],
)
def test_the_checker_allows_what_the_rules_allow(tmp_path: Path, where: str, source: str) -> None:
    path = tmp_path / "chalicelib" / where
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert violations(path, tmp_path) == []
