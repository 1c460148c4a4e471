"""The web page with 1,000 images on the local stack, as Chromium measures it.

Starts the real local stack (`python -m devstack`, as `make dev`) on free ports,
puts N JPEG photos (1600x1200, ~200 kB, each with its own camera and capture
time) into the bucket, waits until each has its record and its previews, then
opens the page in Debian's Chromium RUNS times, each in a fresh browser context
(empty cache), and reads the browser's own timings:

- first preview painted: the earliest Element Timing `renderTime` of a preview;
- first screen complete: the latest `renderTime` among the previews in the
  first viewport (1280x800);
- first-screen bytes: Resource Timing `transferSize` of the previews fetched
  (and of everything the page fetched, its code included);
- dashboard: from the page's navigation start to the dashboard drawn (and the
  dashboard's own requests and drawing alone, a `performance.measure`).

Baseline in the same run: the bytes the same first screen would cost if the
grid showed the originals (their sizes, from the records), as a gallery
without previews would.

    .venv/bin/python bench/bench_page.py            # 1,000 images, 5 runs
    .venv/bin/python bench/bench_page.py --images 200 --runs 3
    .venv/bin/python bench/bench_page.py --data /tmp/page-bench --limits 30 60  # keep, compare
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "web")]

import requests  # noqa: E402
from chromium import launch  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from stackrunner import BUCKET, running_stack  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
DEFAULT_LIMIT = 30  # the page's own page size (gallery.js)
BASES = 20  # distinct pictures; every copy has its own EXIF, so its own bytes


def photo(n: int) -> bytes:
    base = n % BASES
    dark = (11 * base % 256, 40 + 7 * base, 200 - 9 * base)
    light = (255 - 9 * base, 180 + 3 * base, 90 + 8 * base)
    picture = ImageOps.colorize(Image.linear_gradient("L").resize((1600, 1200)), dark, light)
    picture = picture.rotate(18 * base, fillcolor=light)
    noise = Image.effect_noise((1600, 1200), 24).convert("RGB")
    picture = Image.blend(picture, noise, 0.15)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = f"Make{n % 7}", f"Model {n % 30}"
    exif.get_ifd(0x8769)[0x9003] = f"20{10 + n % 15}:{1 + n % 12:02}:{1 + n % 28:02} 12:00:00"
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def fill(stack, count: int) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: stack.s3.put_object(
                    Bucket=BUCKET, Key=f"uploads/bench/{n:04}.jpg", Body=photo(n)
                ),
                range(count),
            )
        )
    deadline = time.monotonic() + 60 + count  # the pixel stage: about 0.1-0.3 s an image
    while time.monotonic() < deadline:
        done = with_previews(stack.api)
        print(f"\r  {done}/{count} images indexed with previews", end="", flush=True)
        if done >= count:
            print()
            return time.monotonic() - started
        time.sleep(2)
    raise SystemExit(f"only {done} of {count} images got previews in time")


def with_previews(api: str) -> int:
    done, token = 0, None
    while True:
        params = {"limit": 100, **({"next_token": token} if token else {})}
        page = requests.get(f"{api}/images", params=params, timeout=30).json()
        done += sum(1 for r in page["images"] if "preview" in r or "preview_error" in r)
        token = page["next_token"]
        if not token:
            return done


FIRST_SCREEN = """async () => {
  const entries = await new Promise((resolve) => {
    new PerformanceObserver((list, observer) => {
      observer.disconnect();
      resolve(list.getEntries());
    }).observe({ type: 'element', buffered: true });
  });
  const visible = (el) => el && el.getBoundingClientRect().top < innerHeight;
  const painted = entries.filter((e) => e.identifier === 'preview-256');
  const onScreen = painted.filter((e) => visible(e.element));
  const all = performance.getEntriesByType('resource');
  const previews = all.filter((r) => r.name.includes('/images/preview'));
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    html: nav.responseEnd,
    modules: nav.domContentLoadedEventEnd,
    gridPage: performance.getEntriesByName('grid-first-page')[0].startTime,
    firstPreviewBytes: Math.min(...previews.map((r) => r.responseEnd)),
    first: Math.min(...painted.map((e) => e.renderTime || e.loadTime)),
    complete: Math.max(...onScreen.map((e) => e.renderTime || e.loadTime)),
    onScreen: onScreen.length,
    previewBytes: previews.reduce((n, r) => n + r.transferSize, 0),
    previews: previews.length,
    allBytes: all.reduce((n, r) => n + r.transferSize, 0),
    keys: [...document.querySelectorAll('#grid .tile')]
      .filter((t) => t.getBoundingClientRect().top < innerHeight).map((t) => t.dataset.key),
  };
}"""

SCREEN_DONE = """() => {
  const tiles = [...document.querySelectorAll('#grid .tile')]
    .filter((t) => t.getBoundingClientRect().top < innerHeight);
  return tiles.length > 0 && tiles.every((t) => t.querySelector('.picture.loaded'));
}"""


def run_once(browser, api: str, sizes: dict[str, int], limit: int) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(api + ("/" if limit == DEFAULT_LIMIT else f"/#limit={limit}"))
    page.wait_for_function(SCREEN_DONE, timeout=30_000)
    page.wait_for_timeout(300)  # let the last paint be recorded
    screen = page.evaluate(FIRST_SCREEN)
    dashboard = context.new_page()
    dashboard.goto(api + "/#view=dashboard")
    dashboard.wait_for_function("() => performance.getEntriesByName('dashboard').length > 0")
    measure = dashboard.evaluate(
        "(() => { const m = performance.getEntriesByName('dashboard')[0];"
        " return [m.startTime + m.duration, m.duration]; })()"
    )
    context.close()
    return {
        "page HTML received (ms)": screen["html"],
        "page code loaded, DOMContentLoaded (ms)": screen["modules"],
        "first page of records drawn (ms)": screen["gridPage"],
        "first preview received (ms)": screen["firstPreviewBytes"],
        "first preview painted (ms)": screen["first"],
        "first screen complete (ms)": screen["complete"],
        "previews on the first screen": screen["onScreen"],
        "preview bytes fetched (kB)": screen["previewBytes"] / 1000,
        "all bytes fetched, page code included (kB)": screen["allBytes"] / 1000,
        "baseline: originals for the same tiles (kB)": sum(sizes[k] for k in screen["keys"]) / 1000,
        "dashboard drawn, from navigation (ms)": measure[0],
        "dashboard requests + drawing (ms)": measure[1],
    }


def all_sizes(api: str) -> dict[str, int]:
    sizes, token = {}, None
    while True:
        params = {"limit": 100, **({"next_token": token} if token else {})}
        page = requests.get(f"{api}/images", params=params, timeout=30).json()
        sizes.update({r["s3objectkey"]: r["size"] for r in page["images"]})
        token = page["next_token"]
        if not token:
            return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--limits", type=int, nargs="+", default=[DEFAULT_LIMIT], help="grid page sizes"
    )
    parser.add_argument("--data", type=Path, help="keep the stack's data here (reused if full)")
    args = parser.parse_args()
    runs: dict[int, list[dict[str, float]]] = {limit: [] for limit in args.limits}
    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack(Path(folder), data_dir=args.data) as stack,
    ):
        if with_previews(stack.api) < args.images:
            print(f"filling the local stack with {args.images} photos...")
            seconds = fill(stack, args.images)
            print(f"  {seconds:.0f} s (upload, metadata and pixel stage)")
        sizes = all_sizes(stack.api)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for _ in range(args.runs):  # the variants alternate: the same machine load
                for limit in args.limits:
                    runs[limit].append(run_once(browser, stack.api, sizes, limit))
            browser.close()
    print(
        f"\n{len(sizes)} images, {args.runs} cold loads each (fresh context), median (min-max):\n"
    )
    print("| measure | " + " | ".join(f"grid pages of {n}" for n in args.limits) + " |")
    print("| --- |" + " --- |" * len(args.limits))
    for name in runs[args.limits[0]][0]:
        cells = []
        for limit in args.limits:
            values = [run[name] for run in runs[limit]]
            cells.append(f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
