"""Previews benchmark: the pixels stage's analyse() against the naive way, per format.

For each input (generated into a temporary directory, never the repository)
both ways run in forked children, alternating, `--repeat` times each:

- ours: `chalicelib.pixels.analyse` on the open file: spool + SHA-256, JPEG
  draft mode / reduce, WebP previews at 256 and 1024, colours, ThumbHash, pHash;
- naive: read the file, `Image.open().load()` (full decode), orientation,
  `thumbnail` to 1024 and to 256, the same two WebP encodings (no hashes,
  no colours: the naive side does less work).

Per child: bytes read, CPU ms (process time), peak MB (the child's peak
resident set, VmHWM, over its resident set at the start; the absolute peak is
in the JSON output), output bytes per preview size. The table gives medians
and naive/ours ratios (CPU and peak: > 1 means ours is cheaper).

Run: .venv/bin/python bench/bench_previews.py [--repeat 5] [--only jpeg-24mp-photo ...]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "extraction")]
sys.path.insert(0, str(ROOT / "tests" / "pixels"))

from hostile_resources import _status_bytes, measure  # noqa: E402
from PIL import Image, ImageChops, ImageOps  # noqa: E402
from scenes import encode, scene  # noqa: E402

from chalicelib.pixels import PREVIEW_SIZES, analyse  # noqa: E402
from chalicelib.pixels.analyse import WEBP_METHOD, WEBP_QUALITY  # noqa: E402

MB = 1024 * 1024


def photo(size: tuple[int, int], noise: float = 8) -> Image.Image:
    """A photo-like picture with sensor-like grain, so that it compresses like a photo."""
    grain = Image.effect_noise(size, noise).convert("RGB")
    return ImageChops.add(scene(1, size), grain, 1.0, -128)


def camera_noise(size: tuple[int, int]) -> bytes:
    from images import camera_jpeg

    return camera_jpeg(size, make="Bench", model="Noise")


INPUTS = {
    # name: (what, builder)
    "jpeg-24mp-photo": (
        "24 MP JPEG, photo-like, q90",
        lambda: encode(photo((6000, 4000)), "JPEG", quality=90),
    ),
    "jpeg-24mp-noise": (
        "24 MP JPEG, random noise (tests/images camera_jpeg)",
        lambda: camera_noise((6000, 4000)),
    ),
    "png-100mp": (
        "100 MP PNG, smooth (with grain it passes the 100 MB limit)",
        lambda: encode(scene(1, (12500, 8000)), "PNG"),
    ),
    "tiff-50mb": ("~50 MB TIFF, uncompressed RGB", lambda: encode(photo((4096, 4096)), "TIFF")),
    "heic-12mp": ("12 MP HEIC", lambda: encode(photo((4032, 3024)), "HEIF", quality=80)),
    "avif-12mp": ("12 MP AVIF", lambda: encode(photo((4032, 3024)), "AVIF", quality=70, speed=8)),
}


class Counting(io.RawIOBase):
    """A file that counts the bytes read through it."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("rb")
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.file.readinto(buffer)
        self.read_bytes += n
        return n


def ours(path: Path) -> dict:
    stream = Counting(path)
    facts = analyse(io.BufferedReader(stream, 1024 * 1024), size_hint=path.stat().st_size)
    assert facts.error is None and facts.skipped is None, (facts.error, facts.skipped)
    return {"read": stream.read_bytes, "out": {p.size: len(p.data) for p in facts.previews}}


def naive(path: Path) -> dict:
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    out = {}
    for size in sorted(PREVIEW_SIZES, reverse=True):
        image.thumbnail((size, size))
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
        out[size] = len(buffer.getvalue())
    return {"read": len(data), "out": out}


def child(way, path: Path):
    def run() -> str:
        row = way(path)
        row["absolute_peak"] = _status_bytes("VmHWM")
        return json.dumps(row)

    result = measure(run)
    if "error" in result:
        sys.exit(f"{way.__name__} on {path.name}: {result['error']}")
    return {
        **json.loads(result["status"]),
        "cpu": result["cpu_seconds"],
        "peak": result["peak_bytes"],
    }


def build(name: str, folder: Path) -> Path:
    path = folder / name

    def make() -> str:
        path.write_bytes(INPUTS[name][1]())
        return "built"

    result = measure(make)  # in a child, so the parent stays small for the measured ones
    if "error" in result:
        sys.exit(f"building {name}: {result['error']}")
    return path


def warm_up(folder: Path) -> None:
    path = folder / "warm"
    for fmt in ("JPEG", "PNG", "TIFF", "HEIF", "AVIF"):
        path.write_bytes(encode(scene(0, (300, 200)), fmt))
        ours(path)
        naive(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=sorted(INPUTS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warm_up(folder)
        for name in args.only or INPUTS:
            path = build(name, folder)
            runs = {"ours": [], "naive": []}
            for _ in range(args.repeat):
                for way in (ours, naive):
                    runs[way.__name__].append(child(way, path))
            path.unlink()
            row = {"input": name, "what": INPUTS[name][0], "bytes": runs["ours"][0]["read"]}
            for way, results in runs.items():
                row[way] = {
                    "read": results[0]["read"],
                    "cpu_ms": statistics.median(r["cpu"] for r in results) * 1000,
                    "peak_mb": statistics.median(r["peak"] for r in results) / MB,
                    "absolute_peak_mb": statistics.median(r["absolute_peak"] for r in results) / MB,
                    "out": results[0]["out"],
                }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"medians of {args.repeat} runs per way; ratio = naive / ours\n")
    print(
        "| input | bytes read | ours CPU ms | naive CPU ms | CPU ratio | ours peak MB "
        "| naive peak MB | peak ratio | ours 256 / 1024 bytes | naive 256 / 1024 bytes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        o, n = row["ours"], row["naive"]
        print(
            f"| {row['what']} | {o['read']:,} | {o['cpu_ms']:.0f} | {n['cpu_ms']:.0f} "
            f"| {n['cpu_ms'] / o['cpu_ms']:.1f}x | {o['peak_mb']:.0f} | {n['peak_mb']:.0f} "
            f"| {n['peak_mb'] / max(o['peak_mb'], 1):.1f}x "
            f"| {o['out']['256']:,} / {o['out']['1024']:,} "
            f"| {n['out']['256']:,} / {n['out']['1024']:,} |"
        )


if __name__ == "__main__":
    main()
