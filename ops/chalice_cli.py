"""`python -m ops.chalice_cli ...`: the Chalice CLI with the Lambda runtime pinned.

Chalice picks the Lambda runtime from the Python that runs it (Python 3.11
means `python3.11`, 3.13 means `python3.13`), so the runtime of a deploy, and
the binary wheels it bundles, would depend on whoever ran it. That is not
only untidy: Pillow 13 and pillow-heif publish Linux wheels for glibc 2.27+ only,
which the python3.11 runtime (Amazon Linux 2, glibc 2.26) cannot load, so an
unpinned deploy from a Python 3.11 machine ships without Pillow. `make deploy`
and the packaging test run Chalice through this wrapper instead.

Two patches, both checked by tests/ops/test_deploy_package.py:
- `Config.lambda_python_version` returns LAMBDA_RUNTIME;
- Chalice's `pip download` of manylinux wheels gets `--python-version` for the
  target ABI (Chalice passes `--abi` only, and pip then still matches the
  local interpreter's version, finding nothing for another runtime).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import chalice.cli
from chalice.config import Config
from chalice.deploy.packager import PipRunner

# Python 3.12 runs on Amazon Linux 2023 (glibc 2.34), which current manylinux
# wheels of Pillow and pillow-heif need; AWS supports it until late 2028.
LAMBDA_RUNTIME = "python3.12"

_CPYTHON_ABI = re.compile(r"cp(\d)(\d+)")


def pin_runtime(runtime: str = LAMBDA_RUNTIME) -> None:
    """Make Chalice deploy and package for `runtime`, whatever runs it."""
    Config.lambda_python_version = property(lambda self: runtime)  # type: ignore[assignment]
    if getattr(PipRunner._execute, "_pins_python_version", False):
        return
    execute = PipRunner._execute

    def execute_for_target(self: Any, command: str, args: list[str], *rest: Any) -> Any:
        if command == "download" and "--abi" in args and "--python-version" not in args:
            match = _CPYTHON_ABI.fullmatch(args[args.index("--abi") + 1])
            if match:
                args = ["--python-version", f"{match[1]}.{match[2]}", *args]
        return execute(self, command, args, *rest)

    execute_for_target._pins_python_version = True  # type: ignore[attr-defined]
    PipRunner._execute = execute_for_target  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """Run the Chalice CLI with `argv` (default: this process's arguments)."""
    pin_runtime()
    sys.argv = ["chalice", *(sys.argv[1:] if argv is None else argv)]
    return chalice.cli.main()


if __name__ == "__main__":
    sys.exit(main())
