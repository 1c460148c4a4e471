"""The web page end to end: Chromium against the real local stack (tests/web/conftest.py)."""

from __future__ import annotations

import re

import pytest
import requests
from browsing import HOSTILE, SEED, open_page
from images import camera_jpeg
from playwright.sync_api import expect
from stackrunner import BUCKET

pytestmark = pytest.mark.e2e


def test_the_page_loads_with_every_image_and_no_console_error(tab, web_stack) -> None:
    page = tab.page
    response = page.goto(web_stack.api + "/")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    expect(page.locator("#count")).to_have_text(f"{len(SEED)} matching images ({len(SEED)} shown)")
    names = page.locator("#grid .tile .name").all_text_contents()
    assert sorted(names) == sorted(item.key.removeprefix("uploads/") for item in SEED)
    # Every tile shows its 256 px preview (made by the pixel stage) over its placeholder,
    # with the file name as its text alternative (these images have no title).
    expect(page.locator("#grid .picture.loaded")).to_have_count(len(SEED))
    for tile in page.locator("#grid .tile").all():
        preview = tile.locator("img.preview")
        assert "images/preview?s3objectkey=" in preview.get_attribute("src")
        assert "size=256" in preview.get_attribute("src")
        assert preview.evaluate("img => img.naturalWidth") > 0
        assert preview.get_attribute("alt") == tile.locator(".name").inner_text()
        record = web_stack.wait_for_record(tile.get_attribute("data-key"))
        # The URL names the version (cached as immutable, never stale after an overwrite).
        assert f"etag={record['etag']}" in preview.get_attribute("src")
        placeholder = tile.locator("img.placeholder")
        if record.get("placeholder"):  # the ThumbHash, decoded in the page
            assert placeholder.get_attribute("src").startswith("data:image/png")
        else:
            expect(placeholder).to_have_count(0)
    assert tab.errors == []


def test_a_thumbhash_placeholder_decodes_to_an_image(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    url = page.evaluate(
        """async () => {
          const { rgbaToThumbHash } = await import('./web/vendor/thumbhash/thumbhash.js');
          const { placeholderUrl } = await import('./web/thumbs.js');
          const red = new Uint8Array(16 * 4).map((_, i) => (i % 4 === 1 || i % 4 === 2 ? 0 : 255));
          const hash = btoa(String.fromCharCode(...rgbaToThumbHash(4, 4, red)));
          return [placeholderUrl(hash), placeholderUrl('not base64!'), placeholderUrl(null)];
        }"""
    )
    assert url[0].startswith("data:image/png;base64,")
    assert url[1:] == [None, None]


def test_the_grid_follows_next_token_until_the_screen_is_full(tab, web_stack) -> None:
    page = tab.page
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/images?" in r.url else None)
    page.goto(web_stack.api + "/#limit=2")  # pages of two: three pages for five images
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    expect(page.locator("#count")).to_have_text(f"{len(SEED)} matching images ({len(SEED)} shown)")
    expect(page.locator("#more")).to_be_hidden()
    assert len(pages) == 3 and ["next_token=" in url for url in pages] == [False, True, True]
    names = page.locator("#grid .tile .name").all_text_contents()
    assert len(set(names)) == len(SEED)  # each image once, none repeated across pages
    assert tab.errors == []


def test_a_facet_and_a_date_range_narrow_the_grid_and_the_url_and_back_undoes(
    tab, web_stack
) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    # NIKON + "Z 6" is the camera "NIKON Z 6": the page finds it by make and model.
    page.get_by_role("button", name=re.compile(r"^NIKON Z 6")).click()
    expect(page.locator("#grid .tile")).to_have_count(1)
    expect(page.locator("#grid .tile .name")).to_have_text("family.jpg")
    assert "camera=NIKON+Z+6" in page.url
    page.get_by_role("button", name=re.compile(r"^NIKON Z 6")).click()  # off again
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    page.fill("#taken_from", "2024-01-01")
    page.dispatch_event("#taken_from", "change")
    expect(page.locator("#grid .tile")).to_have_count(1)
    expect(page.locator("#grid .tile .name")).to_have_text("westminster.jpg")
    assert "taken_from=2024-01-01" in page.url
    page.go_back()  # before the date: everything again, and the field is empty
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    expect(page.locator("#taken_from")).to_have_value("")
    page.go_forward()
    expect(page.locator("#grid .tile")).to_have_count(1)
    expect(page.locator("#taken_from")).to_have_value("2024-01-01")


def test_the_details_panel_shows_camera_gps_and_exif_and_the_keyboard_works(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    tile = page.locator("#grid .tile", has_text="westminster.jpg")
    tile.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#details")
    expect(panel).to_be_visible()
    expect(page.locator("#details-title")).to_be_focused()
    expect(panel.locator("dd", has_text="Canon EOS R5")).to_have_count(1)
    expect(panel.locator("dd", has_text="51.5007")).to_have_count(1)
    expect(panel.locator("dd", has_text="-0.1246")).to_have_count(1)
    expect(panel.locator("dd", has_text="2024-05-03T18:30:00")).to_have_count(1)
    expect(panel.get_by_role("link", name="Open in OpenStreetMap")).to_have_attribute(
        "href", re.compile(r"mlat=51\.5007&mlon=-0\.1246")
    )
    assert not re.search(r"\b(null|undefined|NaN)\b", panel.inner_text())  # absent means unsaid
    expect(panel.locator(".picture.loaded img.preview")).to_have_count(1)
    expect(panel.locator(".swatches li").first).to_contain_text("average #")
    expect(panel.locator(".map")).to_be_visible()  # tiles cannot load here; the map still does
    panel.locator("summary", has_text="EXIF").click()
    expect(panel.locator(".exif tr", has_text="Model")).to_contain_text("Canon EOS R5")
    download = panel.get_by_role("link", name="Download original")
    assert "images/download?s3objectkey=uploads%2Fwestminster.jpg" in download.get_attribute("href")
    assert "image=uploads%2Fwestminster.jpg" in page.url
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(tile).to_be_focused()
    assert "image=" not in page.url
    assert tab.errors == []


def test_the_details_panel_lists_exact_duplicates(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/#image=uploads%2Fflat.png")
    duplicates = page.locator("#details section", has_text="Duplicates")
    expect(duplicates.locator("li")).to_have_text(["flat-copy.png — identical bytes"])
    duplicates.get_by_role("button", name="flat-copy.png").click()
    expect(page.locator("#details-title")).to_have_text("flat-copy.png")
    assert tab.errors == []


def test_an_upload_through_the_drop_zone_shows_progress_pending_then_indexed(
    tab, web_stack
) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    expect(page.locator("#grid .tile")).to_have_count(len(SEED))
    page.click("#upload-toggle")
    expect(page.locator("#drop-zone")).to_be_visible()
    # Watch every state and progress value a row goes through.
    page.evaluate(
        """() => {
          window.seen = [];
          new MutationObserver((changes) => {
            for (const c of changes) {
              window.seen.push(c.attributeName + '=' + c.target.getAttribute(c.attributeName));
            }
          }).observe(document.getElementById('upload-list'),
                     {subtree: true, attributes: true, attributeFilter: ['data-state', 'value']});
        }"""
    )
    photo = camera_jpeg((120, 80), make="Fuji", model="X-T5")
    page.set_input_files(
        "#file-input", [{"name": "dropped photo.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    # And a file dropped on the zone (a synthetic drop event carrying it).
    dropped = page.evaluate_handle(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
          return data;
        }"""
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    photo_row = page.locator(".upload", has_text="dropped photo.jpg")
    expect(photo_row.locator(".status")).to_have_text("indexed", timeout=20_000)
    text_row = page.locator(".upload", has_text="notes.txt")
    expect(text_row.locator(".status")).to_have_text("Not an image type this service reads.")
    seen = page.evaluate("window.seen")
    states = [s for s in seen if s.startswith("data-state=")]
    assert states.index("data-state=uploading") < states.index("data-state=pending")
    assert states.index("data-state=pending") < states.index("data-state=indexed")
    assert "value=100" in seen
    expect(photo_row.locator(".picture.loaded img.preview")).to_have_count(1, timeout=20_000)
    expect(page.locator("#grid .tile", has_text="dropped photo.jpg")).to_have_count(1)
    records = requests.get(f"{web_stack.api}/images", params={"model": "X-T5"}, timeout=5).json()
    assert [r["s3objectkey"].endswith("-dropped photo.jpg") for r in records["images"]] == [True]
    # Leave the shared stack as seeded: the other tests count its images.
    (key,) = [r["s3objectkey"] for r in records["images"]]
    web_stack.s3.delete_object(Bucket=BUCKET, Key=key)
    web_stack.wait_until_gone(key)


def test_an_upload_says_so_in_plain_words_when_the_service_is_down(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    expect(page.locator("#grid .tile")).not_to_have_count(0)
    page.route(re.compile(r".*/uploads$"), lambda route: route.abort("connectionrefused"))
    page.click("#upload-toggle")
    photo = camera_jpeg((40, 30))
    page.set_input_files(
        "#file-input", [{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    row = page.locator(".upload", has_text="a.jpg")
    expect(row.locator(".status")).to_have_text("The service cannot be reached: is it running?")
    expect(row).to_have_attribute("data-state", "failed")


def test_the_dashboard_shows_the_summary_counts(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/#view=dashboard")
    summary = requests.get(f"{web_stack.api}/summary", timeout=5).json()
    total = page.locator('[data-total="Images"] dd')
    expect(total).to_have_text(str(summary["total_images"]))
    assert summary["total_images"] >= len(SEED)
    expect(page.locator('[data-total="With GPS"] dd')).to_have_text(
        f"{summary['with_gps']} ({round(100 * summary['with_gps'] / summary['total_images'])}%)"
    )
    expect(page.locator('[data-total="Duplicate groups"] dd')).to_have_text(
        str(summary["duplicates"]["groups"])
    )
    assert summary["duplicates"]["groups"] == 1
    cameras = page.locator("figure.chart", has_text="Cameras")
    expect(cameras.locator("li", has_text="Canon EOS R5").locator(".value")).to_have_text("1")
    types = page.locator("figure.chart", has_text="Types")
    for entry in summary["types"]:
        row = types.locator("li", has=page.locator(".label", has_text=entry["format"]))
        expect(row.locator(".value")).to_have_text(str(entry["count"]))
    years = page.locator("figure.chart", has_text="Images per year")
    expect(years.locator("li", has_text="2023").locator(".value")).to_have_text("1")
    assert tab.errors == []


def test_hostile_metadata_and_file_name_render_as_text(tab, web_stack) -> None:
    page = tab.page
    page.goto(web_stack.api + "/")
    tile = page.locator("#grid .tile", has_text=HOSTILE)
    expect(tile).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(re.escape(HOSTILE)))).not_to_have_count(0)
    tile.click()
    panel = page.locator("#details")
    expect(page.locator("#details-title")).to_have_text(HOSTILE)
    expect(panel.locator("dd", has_text=HOSTILE)).not_to_have_count(0)
    panel.locator("summary", has_text="EXIF").click()
    expect(panel.locator(".exif td", has_text=HOSTILE)).to_have_count(1)
    assert page.locator('img[src="x"]').count() == 0
    assert tab.dialogs == []
    assert tab.errors == []


def test_the_key_prompt_appears_when_the_api_demands_a_key(browser, web_stack) -> None:
    """`chalice local` does not check keys: the browser plays API Gateway here,
    answering every API call without the right `x-api-key` as it does (403)."""
    opened = open_page(browser)
    page = opened.page

    def gateway(route) -> None:
        if route.request.headers.get("x-api-key") == "right-key":
            route.continue_()
        else:
            route.fulfill(status=403, json={"message": "Forbidden"})

    page.route(re.compile(r".*/(images|summary|uploads)(/.*)?(\?.*)?$"), gateway)
    try:
        page.goto(web_stack.api + "/")
        expect(page.locator("#key-prompt")).to_be_visible()
        expect(page.locator("#key-message")).to_have_text("This service needs an API key.")
        page.fill("#key-input", "wrong-key")
        page.click("#key-form button")
        expect(page.locator("#key-message")).to_have_text(
            "The service refused this API key. Check it and enter it again."
        )
        page.fill("#key-input", "right-key")
        page.click("#key-form button")
        expect(page.locator("#grid .tile")).not_to_have_count(0)
        expect(page.locator("#key-prompt")).to_be_hidden()
        stored = page.evaluate("localStorage.getItem('image-metadata.api-key')")
        assert stored == "right-key"
    finally:
        page.context.close()


def test_the_page_fits_a_phone(browser, web_stack) -> None:
    opened = open_page(browser, width=375, height=740)
    page = opened.page
    try:
        page.goto(web_stack.api + "/")
        expect(page.locator("#grid .tile")).not_to_have_count(0)
        expect(page.locator("#sidebar")).to_be_hidden()
        page.click("#filters-toggle")
        expect(page.locator("#sidebar")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert opened.errors == []
    finally:
        page.context.close()
