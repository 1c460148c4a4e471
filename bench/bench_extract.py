"""Extraction benchmark: header-only ranged reads vs. the naive whole-object GET + Pillow.

Generates a corpus of big, noise-heavy images (5-70 MB; smaller with --quick)
with rich metadata, starts a local S3 emulator (moto server on a free
loopback port), uploads the corpus and measures, side by side in one process:

1. per format, extract_metadata through S3RangeFile (requests, bytes read,
   median wall time) against GET of the whole object + Pillow (or
   pillow-heif) parsing it in memory;
2. the CPU time per image of the extraction itself against exifread and
   ExifTool (`-stay_open`, and one process per file).

Two more modes, each alone:
- `--big-headers`: requests and bytes for JPEGs whose header outgrows the
  first 64 KiB block (a big EXIF, Photoshop and ICC segments);
- `--request-cost`: the emulator's time per 64 KiB ranged GET by object size.

Run: .venv/bin/python bench/bench_extract.py [--quick | --big-headers | --request-cost]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "extraction")]

import boto3  # noqa: E402
import exifread  # noqa: E402
import pillow_heif  # noqa: E402
from images import (  # noqa: E402
    big_header_jpegs,
    noisy_jpeg,
    rich_exif,
    rich_jpeg,
    srgb_icc,
    xmp_packet,
)
from moto.server import ThreadedMotoServer  # noqa: E402
from PIL import Image, PngImagePlugin  # noqa: E402
from raw_files import RAW  # noqa: E402

from chalicelib import s3file  # noqa: E402
from chalicelib.extraction.extract import extract_metadata  # noqa: E402
from chalicelib.s3file import S3RangeFile  # noqa: E402

BUCKET = "bench"
MB = 1024 * 1024


@dataclass
class Sample:
    name: str
    format: str
    data: bytes


# --- corpus -------------------------------------------------------------------
def _noise(mode: str, side: int) -> Image.Image:
    return Image.frombytes(mode, (side, side), os.urandom(side * side * len(mode)))


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _metadata(fmt: str) -> dict:
    """EXIF (with GPS), XMP and an ICC profile, for the formats that carry them."""
    return {"exif": rich_exif().tobytes(), "xmp": xmp_packet(), "icc_profile": srgb_icc()}


def _png(side: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode())
    meta = _metadata("PNG")
    return _save(_noise("RGB", side), "PNG", compress_level=1, pnginfo=info, exif=meta["exif"])


def _camera_jpeg(min_bytes: int) -> bytes:
    exif = b"Exif\x00\x00" + rich_exif().tobytes()[6:]
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return b"\xff\xd8" + app1 + noisy_jpeg(min_bytes)[2:]


def _heic(side: int) -> bytes:
    out = io.BytesIO()
    heif = pillow_heif.from_pillow(_noise("RGB", side))
    heif.save(
        out,
        quality=100,
        enc_params={"preset": "ultrafast"},
        exif=rich_exif().tobytes(),
        xmp=xmp_packet(),
    )
    return out.getvalue()


def corpus(quick: bool) -> list[Sample]:
    """One big file per format; sides chosen for 5-70 MB (about 5-10 MB with --quick)."""
    s = 0.45 if quick else 1.0
    meta = _metadata
    makers: list[tuple[str, str, Callable[[], bytes]]] = [
        # A camera's EXIF (with GPS), then a big noisy image; and the same with
        # XMP, IPTC and an ICC profile added, as an editor leaves it.
        ("jpeg", "JPEG", lambda: _camera_jpeg(int((6 if quick else 20) * MB))),
        (
            "jpeg-edited",
            "JPEG",
            lambda: rich_jpeg()[:-2] + noisy_jpeg(int((6 if quick else 20) * MB))[2:],
        ),
        ("png", "PNG", lambda: _png(int(3000 * s))),
        (
            "tiff",
            "TIFF",
            lambda: _save(
                _noise("RGB", int(4800 * (0.35 if quick else 1))), "TIFF", exif=meta("TIFF")["exif"]
            ),
        ),
        ("bmp", "BMP", lambda: _save(_noise("RGB", int(4000 * s)), "BMP")),
        (
            "webp",
            "WEBP",
            lambda: _save(
                _noise("RGB", int(2500 * s)), "WEBP", lossless=True, method=0, **meta("WEBP")
            ),
        ),
        ("gif", "GIF", lambda: _save(_noise("L", int(3000 * s)), "GIF")),
        ("heic", "HEIF", lambda: _heic(int(1700 * (0.6 if quick else 1)))),
        (
            "avif",
            "AVIF",
            lambda: _save(
                _noise("RGB", int(1700 * (0.6 if quick else 1))),
                "AVIF",
                quality=100,
                speed=10,
                exif=rich_exif().tobytes(),
                xmp=xmp_packet(),
            ),
        ),
    ]
    # Camera raws, built from their published layouts (tests/extraction/raw_files.py),
    # followed by as much pixel data as a camera writes.
    pixels = int((6 if quick else 24) * MB)
    for kind, (make_raw, _, _) in sorted(RAW.items()):
        makers.append(
            (kind.lower(), kind, lambda make_raw=make_raw: make_raw() + os.urandom(pixels))
        )
    samples = []
    for name, fmt, make in makers:
        started = time.perf_counter()
        data = make()
        print(
            f"  made {name:11s} {len(data) / MB:6.1f} MB in {time.perf_counter() - started:4.1f} s",
            flush=True,
        )
        samples.append(Sample(name, fmt, data))
    return samples


# --- S3: ranged reads vs. whole object -------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _naive(client, key: str, fmt: str) -> None:
    """What one would write first: download everything, let the library parse it."""
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    if fmt in RAW:  # no library reads them all: our extraction, on the whole object
        extract_metadata(io.BytesIO(body))
        return
    if fmt == "HEIF":
        heif = pillow_heif.open_heif(io.BytesIO(body))
        _ = heif.size, heif.mode, heif.info.get("exif"), heif.info.get("xmp")
        return
    with Image.open(io.BytesIO(body)) as image:
        _ = image.size, image.mode, image.getexif(), image.info.get("xmp")


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextlib.contextmanager
def s3_emulator() -> Iterator[object]:
    """An S3 client on a moto server on a free loopback port, with the bucket made."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        client.create_bucket(Bucket=BUCKET)
        yield client
    finally:
        server.stop()


def bench_s3(samples: list[Sample], repeat: int) -> list[dict]:
    with s3_emulator() as client:
        rows = []
        for sample in samples:
            client.put_object(Bucket=BUCKET, Key=sample.name, Body=sample.data)
            readers = []

            def ranged(sample=sample, readers=readers):
                reader = S3RangeFile(client, BUCKET, sample.name)
                result = extract_metadata(reader)
                assert result["status"] == "ok", result
                readers.append(reader)

            ours_ms = _median_ms(ranged, repeat)
            naive_ms = _median_ms(
                lambda s=sample: _naive(client, s.name, s.format), max(2, repeat // 2)
            )
            reader = readers[-1]
            rows.append(
                {
                    "name": sample.name,
                    "size": len(sample.data),
                    "requests": reader.requests,
                    "bytes_read": reader.bytes_read,
                    "ours_ms": ours_ms,
                    "naive_ms": naive_ms,
                }
            )
        return rows


# --- headers past the first block -----------------------------------------------
def big_header_corpus() -> list[tuple[str, bytes, int]]:
    """Camera JPEGs (6 MB of noise) with headers of growing size, as editors leave them:
    (name, bytes, header size); tests/images.big_header_jpegs builds them."""
    return big_header_jpegs(noisy_jpeg(6 * MB))


class BlockByBlock(S3RangeFile):
    """The baseline: S3RangeFile without read-ahead or prefetching (one request per block
    a header reaches past the cached ones), as before the big-header work."""

    def prefetch(self, offset: int, size: int) -> None:
        return None


def _ranged_run(client, name: str, reader_class: type, repeat: int) -> tuple[S3RangeFile, float]:
    readers = []

    def run():
        reader = reader_class(client, BUCKET, name)
        assert extract_metadata(reader)["status"] == "ok"
        readers.append(reader)

    if reader_class is BlockByBlock:
        limit, s3file.MAX_READ_AHEAD = s3file.MAX_READ_AHEAD, 0
        try:
            ms = _median_ms(run, repeat)
        finally:
            s3file.MAX_READ_AHEAD = limit
    else:
        ms = _median_ms(run, repeat)
    return readers[-1], ms


def bench_big_headers(repeat: int) -> str:
    """Requests, bytes and time per JPEG as its header grows past the first block, with
    read-ahead and prefetching, and without (the baseline)."""
    rows = []
    with s3_emulator() as client:
        for name, data, header in big_header_corpus():
            client.put_object(Bucket=BUCKET, Key=name, Body=data)
            ours, ms = _ranged_run(client, name, S3RangeFile, repeat)
            base, base_ms = _ranged_run(client, name, BlockByBlock, repeat)
            rows.append(
                [
                    name,
                    f"{len(data) / MB:.1f}",
                    f"{header:,}",
                    f"{ours.requests} / {base.requests}",
                    f"{ours.bytes_read / 1024:.0f} / {base.bytes_read / 1024:.0f}",
                    f"{ours.bytes_read / header:.2f}",
                    f"{ms:.1f} / {base_ms:.1f}",
                ]
            )
    return _table(
        [
            "file",
            "size MB",
            "header bytes",
            "requests (ours / block by block)",
            "KiB read (ours / block by block)",
            "read / header",
            "ms (ours / block by block)",
        ],
        rows,
    )


def bench_request_cost(sizes_mb: list[int], repeat: int) -> str:
    """The emulator's median time for one 64 KiB ranged GET, by object size."""
    rows = []
    with s3_emulator() as client:
        for size in sizes_mb:
            key = f"noise-{size}"
            client.put_object(Bucket=BUCKET, Key=key, Body=os.urandom(size * MB))

            def one_block(key=key):
                client.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-65535")["Body"].read()

            one_block()
            rows.append([f"{size}", f"{_median_ms(one_block, repeat):.1f}"])
            client.delete_object(Bucket=BUCKET, Key=key)
    return _table(["object MB", "ms per 64 KiB ranged GET (median)"], rows)


# --- CPU per image ----------------------------------------------------------------
def _cpu_us(run: Callable[[], object], budget_s: float) -> float:
    """Median CPU microseconds per call over batches filling about budget_s."""
    run()
    started = time.process_time()
    run()
    once = max(time.process_time() - started, 1e-6)
    calls = max(1, min(2000, int(budget_s / 5 / once)))
    batches = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            run()
        batches.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(batches)


def _exifread(data: bytes) -> dict:
    return exifread.process_file(io.BytesIO(data), details=False)


class StayOpenExifTool:
    """`exiftool -stay_open`: one process, one request per file."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["exiftool", "-stay_open", "True", "-@", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def run(self, path: str) -> bytes:
        self.process.stdin.write(f"-n\n-j\n{path}\n-execute\n".encode())
        self.process.stdin.flush()
        out = b""
        while not out.endswith(b"{ready}\n"):
            out += self.process.stdout.readline()
        return out

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.process.stdin.write(b"-stay_open\nFalse\n")
        self.process.stdin.flush()
        self.process.wait(timeout=10)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def bench_cpu(samples: list[Sample], folder: Path, quick: bool) -> list[dict]:
    budget = 0.5 if quick else 2.0
    per_process_runs = 5 if quick else 20
    stay_open_runs = 50 if quick else 200
    tool = StayOpenExifTool()
    rows = []
    try:
        for sample in samples:
            path = folder / f"{sample.name}.{sample.format.lower()}"
            path.write_bytes(sample.data)
            ours = _cpu_us(lambda s=sample: extract_metadata(io.BytesIO(s.data)), budget)
            try:
                # Compared only on files with EXIF that exifread finds too.
                has_exif = bool(extract_metadata(io.BytesIO(sample.data))["exif"])
                found = has_exif and bool(_exifread(sample.data))
                reference = _cpu_us(lambda s=sample: _exifread(s.data), budget) if found else None
            except Exception:  # noqa: BLE001 - a format exifread cannot read
                reference = None
            tool.run(str(path))
            cpu, wall = tool.cpu_seconds(), time.perf_counter()
            for _ in range(stay_open_runs):
                tool.run(str(path))
            stay_cpu = (tool.cpu_seconds() - cpu) / stay_open_runs * 1e6
            stay_wall = (time.perf_counter() - wall) / stay_open_runs * 1e6
            cpu, wall = _children_cpu(), time.perf_counter()
            for _ in range(per_process_runs):
                subprocess.run(["exiftool", "-n", "-j", str(path)], check=True, capture_output=True)
            spawn_cpu = (_children_cpu() - cpu) / per_process_runs * 1e6
            spawn_wall = (time.perf_counter() - wall) / per_process_runs * 1e6
            rows.append(
                {
                    "name": sample.name,
                    "ours_us": ours,
                    "exifread_us": reference,
                    "stay_cpu_us": stay_cpu,
                    "stay_wall_us": stay_wall,
                    "spawn_cpu_us": spawn_cpu,
                    "spawn_wall_us": spawn_wall,
                }
            )
    finally:
        tool.close()
    return rows


# --- report ---------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])


def _modeled_ms(requests: int, size: int, latency_ms: float, mb_per_s: float) -> float:
    """Transfer time on a real link: a first-byte latency per request plus bandwidth."""
    return requests * latency_ms + size / (mb_per_s * MB) * 1000


def report(s3_rows: list[dict], cpu_rows: list[dict], latency_ms: float, mb_per_s: float) -> str:
    s3_table = _table(
        [
            "file",
            "size MB",
            "requests",
            "KiB read",
            "ours ms",
            "naive ms",
            "bytes ratio",
            "speedup",
            f"modeled S3 ms, {latency_ms:g} ms + {mb_per_s:g} MB/s (ours / naive)",
        ],
        [
            [
                r["name"],
                f"{r['size'] / MB:.1f}",
                str(r["requests"]),
                f"{r['bytes_read'] / 1024:.0f}",
                f"{r['ours_ms']:.1f}",
                f"{r['naive_ms']:.1f}",
                f"{r['size'] / r['bytes_read']:.0f}x",
                f"{r['naive_ms'] / r['ours_ms']:.1f}x",
                f"{_modeled_ms(r['requests'], r['bytes_read'], latency_ms, mb_per_s):.0f} / "
                f"{_modeled_ms(1, r['size'], latency_ms, mb_per_s):.0f}",
            ]
            for r in s3_rows
        ],
    )

    def us(value):
        return "n/a" if value is None else f"{value:,.0f}"

    cpu_table = _table(
        [
            "file",
            "ours µs",
            "exifread µs",
            "exiftool stay_open µs (cpu / wall)",
            "exiftool per file µs (cpu / wall)",
            "vs exifread",
            "vs stay_open cpu",
        ],
        [
            [
                r["name"],
                us(r["ours_us"]),
                us(r["exifread_us"]),
                f"{us(r['stay_cpu_us'])} / {us(r['stay_wall_us'])}",
                f"{us(r['spawn_cpu_us'])} / {us(r['spawn_wall_us'])}",
                "n/a" if r["exifread_us"] is None else f"{r['exifread_us'] / r['ours_us']:.1f}x",
                f"{r['stay_cpu_us'] / r['ours_us']:.1f}x",
            ]
            for r in cpu_rows
        ],
    )
    return f"{s3_table}\n\n{cpu_table}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller corpus, fewer runs (about a minute)"
    )
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per file (median)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=30.0,
        help="first-byte latency per S3 request, for the modeled column",
    )
    parser.add_argument(
        "--mbps", type=float, default=80.0, help="S3 bandwidth in MB/s, for the modeled column"
    )
    parser.add_argument(
        "--big-headers",
        action="store_true",
        help="only: requests and bytes for JPEG headers larger than one 64 KiB block",
    )
    parser.add_argument(
        "--request-cost",
        type=int,
        nargs="*",
        metavar="MB",
        help="only: the emulator's time per ranged GET for objects of these sizes (MB)",
    )
    args = parser.parse_args()
    if args.big_headers or args.request_cost is not None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
            os.environ.pop(name, None)
        if args.big_headers:
            print(bench_big_headers(args.repeat or 7))
        if args.request_cost is not None:
            sizes = args.request_cost or [1, 5, 10, 20, 40, 66]
            print(bench_request_cost(sizes, args.repeat or 15))
        return
    logging.getLogger("exifread").setLevel(logging.CRITICAL)  # "File format not recognized"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's request log
    if not shutil.which("exiftool"):
        sys.exit("the benchmark compares with ExifTool: apt-get install libimage-exiftool-perl")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(name, None)
    repeat = args.repeat or (3 if args.quick else 7)
    started = time.process_time()
    sum(range(10**7))
    calibration = time.process_time() - started
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs;"
        f" calibration: sum(range(10**7)) takes {calibration:.2f} s CPU"
    )
    print("corpus:")
    samples = corpus(args.quick)
    print("ranged reads through a local S3 emulator ...", flush=True)
    s3_rows = bench_s3(samples, repeat)
    print("CPU per image ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as folder:
        cpu_rows = bench_cpu(samples, Path(folder), args.quick)
    print()
    print(report(s3_rows, cpu_rows, args.latency_ms, args.mbps))


if __name__ == "__main__":
    main()
