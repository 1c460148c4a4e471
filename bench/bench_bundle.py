"""Lambda bundle size: what `make deploy` would upload, with and without extra packages.

Builds the deployment package offline the way `make deploy` and
tests/test_deploy_package.py do (`chalice package --pkg-format terraform
--stage prod` through ops.chalice_cli, so for the pinned Lambda runtime), on
a copy of the project, once with requirements.txt as it is and once more per
`--with` requirement appended to it. Prints the zip's size and the sum of its
entries' sizes (what Lambda's 250 MB unzipped limit counts), and the biggest
top-level entries. Needs network access to the package index (pip downloads
Linux wheels); AWS is never contacted.

Run: .venv/bin/python bench/bench_bundle.py [--with pillow-heif>=0.18]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops.package import PackageError, build_package  # noqa: E402

MB = 1000 * 1000
MIB = 1024 * 1024


def build(extra: list[str], workdir: Path, stage: str) -> Path:
    """The deployment.zip of a copy of the project with `extra` requirements added."""
    try:
        return build_package(workdir, stage, extra) / "deployment.zip"
    except PackageError as error:
        sys.exit(str(error))


def measure(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    top: Counter[str] = Counter()
    for entry in entries:
        top[entry.filename.split("/", 1)[0]] += entry.file_size
    dists = sorted(name.removesuffix(".dist-info") for name in top if name.endswith(".dist-info"))
    return {
        "zipped": path.stat().st_size,
        "unzipped": sum(e.file_size for e in entries),
        "files": len(entries),
        "top": top.most_common(6),
        "dists": dists,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--with",
        dest="extras",
        action="append",
        default=[],
        metavar="REQUIREMENT",
        help="also measure the bundle with this requirement added (repeatable)",
    )
    parser.add_argument("--stage", default="prod")
    args = parser.parse_args()
    variants = [("requirements.txt", [])] + [(f"+ {r}", [r]) for r in args.extras]
    rows = []
    for label, extra in variants:
        with tempfile.TemporaryDirectory(prefix="bench-bundle-") as folder:
            print(f"packaging: {label} ...", flush=True)
            rows.append((label, measure(build(extra, Path(folder), args.stage))))
    print()
    print("| bundle | zipped MB (MiB) | unzipped MB (MiB) | files |")
    print("|---|---:|---:|---:|")
    for label, m in rows:
        print(
            f"| {label} | {m['zipped'] / MB:.1f} ({m['zipped'] / MIB:.1f}) "
            f"| {m['unzipped'] / MB:.1f} ({m['unzipped'] / MIB:.1f}) | {m['files']:,} |"
        )
    for label, m in rows:
        biggest = ", ".join(f"{name} {size / MB:.1f}" for name, size in m["top"])
        print(f"\n{label}, biggest top-level entries (MB unzipped): {biggest}")
        print(f"  distributions: {', '.join(m['dists'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
