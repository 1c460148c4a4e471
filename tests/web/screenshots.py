"""`make screenshots`: the gallery, the details panel and the dashboard, at desktop
and phone width, into docs/images/ (a fresh local stack seeded with sample images)."""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: images, stackrunner
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browsing import SEED, seed_bytes, wait_for_pixels
from chromium import launch
from PIL import Image, ImageOps
from playwright.sync_api import sync_playwright
from stackrunner import BUCKET, running_stack

OUT = Path(__file__).resolve().parents[2] / "docs" / "images"
SIZES = {"desktop": (1280, 800), "phone": (375, 740)}
CAMERAS = [("Canon", "Canon EOS R5"), ("SONY", "ILCE-7M3"), ("FUJIFILM", "X-T5")]


def sample_photos() -> list[tuple[str, bytes]]:
    """Colourful gradients with a camera and a capture time (nicer previews than noise)."""
    photos = []
    for n in range(9):
        make, model = CAMERAS[n % 3]
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = make, model
        exif.get_ifd(0x8769)[0x9003] = f"202{n % 4}:0{1 + n % 9}:1{n} 12:00:00"
        dark = (20 * n, 60 + 10 * n, 120 - 10 * n)
        light = (255 - 15 * n, 200 + 5 * n, 120 + 12 * n)
        picture = ImageOps.colorize(Image.linear_gradient("L").resize((320, 240)), dark, light)
        out = io.BytesIO()
        picture.rotate(30 * n, expand=False, fillcolor=light).save(out, "JPEG", exif=exif.tobytes())
        photos.append((f"uploads/trip/photo-{n:02}.jpg", out.getvalue()))
    return photos


def small_png(png: bytes, path: Path) -> None:
    """Quantized to 64 colours: the screenshots stay a few tens of kB each."""
    with Image.open(io.BytesIO(png)) as shot:
        shot.convert("RGB").quantize(64).save(path, optimize=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, running_stack(Path(folder)) as stack:
        items = [(item.key, seed_bytes(item)) for item in SEED[:3]] + sample_photos()
        for key, data in items:
            stack.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        for key, _ in items:
            wait_for_pixels(stack, key)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for name, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(stack.api + "/")
                page.locator("#grid .tile").nth(len(items) - 1).wait_for()
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#grid .tile')].every("
                    "(t) => t.getBoundingClientRect().top > innerHeight"
                    " || t.querySelector('.picture.loaded'))"
                )
                page.wait_for_timeout(300)
                small_png(page.screenshot(), OUT / f"gallery-{name}.png")
                page.locator("#grid .tile", has_text="westminster.jpg").click()
                page.locator("#details dd", has_text="Canon EOS R5").wait_for()
                page.wait_for_timeout(500)
                small_png(page.screenshot(), OUT / f"details-{name}.png")
                page.goto(stack.api + "/#view=dashboard")
                page.locator('[data-total="Images"] dd').wait_for()
                page.wait_for_timeout(300)
                small_png(page.screenshot(full_page=True), OUT / f"dashboard-{name}.png")
                page.close()
            browser.close()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size // 1024} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
