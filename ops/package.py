"""The deployment package, built offline: what `make deploy` would upload.

`chalice package --pkg-format terraform` (through ops.chalice_cli, so for the
pinned Lambda runtime) on a copy of the project, so the repository's
`.chalice/deployments` cache is neither used nor written. Packaging needs a
region but no account: nothing here may reach AWS (pip downloads Linux wheels
from the package index). Used by the package tests and bench/bench_bundle.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class PackageError(Exception):
    """`chalice package` failed, or could not get Linux builds of a dependency."""


def build_package(
    workdir: Path, stage: str, extra_requirements: Sequence[str] = (), timeout: float = 280
) -> Path:
    """Package a copy of the project into `workdir`; returns the folder with
    `deployment.zip` and `chalice.tf.json` (the copy is `workdir / "project"`)."""
    project = workdir / "project"
    project.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", project)
    requirements = (ROOT / "requirements.txt").read_text()
    (project / "requirements.txt").write_text(
        requirements + "".join(f"{r}\n" for r in extra_requirements)
    )
    shutil.copytree(
        ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / ".chalice").mkdir()
    for path in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(path, project / ".chalice")
    out = workdir / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    command = [sys.executable, "-m", "ops.chalice_cli", "--project-dir", str(project)]
    command += ["package", "--pkg-format", "terraform", "--stage", stage, str(out)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    # Chalice only warns, and goes on, when it cannot get Linux builds of a dependency.
    if result.returncode != 0 or "Could not install dependencies" in output:
        raise PackageError(f"chalice package failed:\n{output}")
    return out
