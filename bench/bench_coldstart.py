"""Cold start: `import app` and the first event in a fresh process, against boto3 + Pillow's import.

Each sample is a new interpreter, as a new Lambda container is: it imports
(the baseline: `import boto3, PIL.Image`, what any such service pays; then
`import app`), and for the app also handles its first S3 event (a camera
JPEG: new boto3 clients, ranged GET, GetItem, transaction) against the local
emulator (`python -m devstack.emulator`, started once). Interpreter start-up
is not counted (Lambda pays it either way). Prints medians, and the Pillow
plugins each process ended up importing.

With --bundle it also builds the Lambda bundle (bench/bench_bundle.py's
way, needs the package index) with requirements.txt as it is and without
boto3 (the Lambda runtime ships its own), for the decision in
docs/deploy.md.

Run: .venv/bin/python bench/bench_coldstart.py [--runs 15] [--bundle]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from devstack.stages import stage_environment  # noqa: E402

ENV = {
    **stage_environment("local"),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

BASELINE = """
import time; started = time.perf_counter()
import boto3, PIL.Image
imported = time.perf_counter()
"""

APP = """
import time; started = time.perf_counter()
import app
imported = time.perf_counter()
"""

FIRST_EVENT = """
event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
  "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": BUCKET}, "object": {"key": KEY,
  "sequencer": "0A"}}}]}
class Context: aws_request_id = "cold"
app.on_object_created(event, Context())
"""

REPORT = """
import json, sys
done = time.perf_counter()
plugins = sorted(m[4:] for m in sys.modules if m.startswith("PIL.") and m.endswith("ImagePlugin"))
print(json.dumps({"import_ms": (imported - started) * 1000, "total_ms": (done - started) * 1000,
                  "plugins": plugins}))
"""


def sample(code: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bundle", action="store_true", help="also size the bundle w/o boto3")
    args = parser.parse_args()
    if args.bundle:
        bundle_sizes()

    import boto3
    from images import rich_jpeg

    from devstack import children
    from devstack.provision import provision

    os.environ.update(ENV)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emulator = children.start_emulator(port, ENV["IMAGES_BUCKET"], "us-east-1", None)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        from chalicelib.settings import Settings

        provision(boto3.session.Session(), Settings.from_env())
        s3 = boto3.client("s3")
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
        rows = {"boto3 + PIL.Image": [], "import app": [], "import app + first event": []}
        for run in range(args.runs):
            key = f"uploads/cold-{run}.jpg"
            s3.put_object(Bucket=ENV["IMAGES_BUCKET"], Key=key, Body=rich_jpeg((640, 480)))
            rows["boto3 + PIL.Image"].append(sample(BASELINE + REPORT, env))
            rows["import app"].append(sample(APP + REPORT, env))
            first = f"BUCKET, KEY = {ENV['IMAGES_BUCKET']!r}, {key!r}\n" + FIRST_EVENT
            rows["import app + first event"].append(sample(APP + first + REPORT, env))
    finally:
        children.stop(emulator)

    print(f"\nmedians of {args.runs} fresh processes (ms; interpreter start-up not counted)")
    print("| | import | import + first event | Pillow plugins imported |")
    print("|---|---:|---:|---|")
    for name, samples in rows.items():
        imported = statistics.median(s["import_ms"] for s in samples)
        total = statistics.median(s["total_ms"] for s in samples)
        plugins = ", ".join(samples[-1]["plugins"])
        count = len(samples[-1]["plugins"])
        print(f"| {name} | {imported:.0f} | {total:.0f} | {count}: {plugins} |")
    return 0


def bundle_sizes() -> None:
    """deployment.zip with requirements.txt as it is, and without boto3."""
    import shutil
    import tempfile

    import bench_bundle

    rows = []
    for label, drop_boto3 in (("requirements.txt", False), ("without boto3", True)):
        with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as folder:
            copy = Path(folder) / "root"
            shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", ".data"))
            if drop_boto3:
                lines = (copy / "requirements.txt").read_text().splitlines()
                kept = [line for line in lines if not line.startswith("boto3")]
                (copy / "requirements.txt").write_text("\n".join(kept) + "\n")
            bench_bundle.ROOT = copy
            print(f"packaging: {label} ...", flush=True)
            archive = bench_bundle.build([], Path(folder), "prod")
            rows.append((label, bench_bundle.measure(archive), _unzip_ms(archive)))
    print("| bundle | zipped MB | unzipped MB | files | unzip ms (median of 5) | distributions |")
    print("|---|---:|---:|---:|---:|---|")
    for label, m, unzip in rows:
        sizes = f"{m['zipped'] / 1e6:.1f} | {m['unzipped'] / 1e6:.1f} | {m['files']:,}"
        print(f"| {label} | {sizes} | {unzip:.0f} | {', '.join(m['dists'])} |")


def _unzip_ms(archive: Path) -> float:
    """Extracting the bundle, as Lambda does on a cold start (a proxy: local disk)."""
    import tempfile
    import time
    import zipfile

    times = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as target:
            started = time.perf_counter()
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(target)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
