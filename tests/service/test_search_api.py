"""GET /images filters and sorts, and the /summary facet routes, over HTTP (chalice.test)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from conftest import Uploader
from images import camera_jpeg, multi_frame, png_with_alpha

PHOTOS = {
    "uploads/trip/a.jpg": dict(
        size=(80, 40),
        make="Canon",
        model="Canon EOS R5",
        lens="RF 24-70mm",
        taken="2024:05:01 10:00:00",
        gps=(48.8584, 2.2945),
        keywords=("Paris", "Tower"),
    ),
    "uploads/trip/b.jpg": dict(
        size=(40, 80),
        make="Canon",
        model="Canon EOS R5",
        taken="2024:05:03 18:30:00",
        gps=(51.5007, -0.1246),
        keywords=("London",),
    ),
    "uploads/home/c.jpg": dict(
        size=(50, 50), make="NIKON CORPORATION", model="NIKON Z 6", taken="2023:12:24 20:00:00"
    ),
    "uploads/home/d.jpg": dict(size=(60, 40)),
}


def get_json(client, path: str, **params) -> tuple[int, dict]:
    url = path + ("?" + urlencode(params) if params else "")
    response = client.http.get(url, headers={"Accept": "*/*"})
    return response.status_code, json.loads(response.body)


def keys(client, **params) -> list[str]:
    """Every key a search returns, following next_token page by page."""
    found, token = [], None
    while True:
        status, body = get_json(
            client, "/images", **params, **({"next_token": token} if token else {})
        )
        assert status == 200, body
        found += [record["s3objectkey"] for record in body["images"]]
        token = body["next_token"]
        if token is None:
            return found


@pytest.fixture
def photos(client, uploader: Uploader):
    for key, facts in PHOTOS.items():
        uploader.upload(key, camera_jpeg(**facts))
    uploader.upload("uploads/home/e.gif", multi_frame("GIF", (32, 32)))
    uploader.upload("uploads/home/f.png", png_with_alpha((30, 10)))
    uploader.upload("uploads/home/g.txt", b"not an image")
    return client


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"make": "canon"}, ["uploads/trip/a.jpg", "uploads/trip/b.jpg"]),
        ({"model": "nikon z 6"}, ["uploads/home/c.jpg"]),
        ({"lens": "rf 24-70MM"}, ["uploads/trip/a.jpg"]),
        ({"keyword": "paris"}, ["uploads/trip/a.jpg"]),
        ({"sort": "-taken_at"}, ["uploads/trip/b.jpg", "uploads/trip/a.jpg", "uploads/home/c.jpg"]),
        ({"taken_from": "2024-05-01", "taken_to": "2024-05-02"}, ["uploads/trip/a.jpg"]),
        ({"taken_from": "2024-05-01T10:00:01", "sort": "taken_at"}, ["uploads/trip/b.jpg"]),
        ({"bbox": "48,2,49,3"}, ["uploads/trip/a.jpg"]),
        (
            {"bbox": "40,-10,60,10", "sort": "taken_at"},
            ["uploads/trip/a.jpg", "uploads/trip/b.jpg"],
        ),
        ({"has_gps": "false", "format": "jpeg"}, ["uploads/home/c.jpg", "uploads/home/d.jpg"]),
        ({"orientation": "portrait"}, ["uploads/trip/b.jpg"]),
        ({"orientation": "square"}, ["uploads/home/c.jpg", "uploads/home/e.gif"]),
        ({"animated": "true"}, ["uploads/home/e.gif"]),
        ({"status": "unsupported"}, ["uploads/home/g.txt"]),
        ({"prefix": "trip/", "sort": "-key"}, ["uploads/trip/b.jpg", "uploads/trip/a.jpg"]),
        ({"min_width": "60", "min_height": "40"}, ["uploads/home/d.jpg", "uploads/trip/a.jpg"]),
        (
            {"min_megapixels": "0.0032", "sort": "-uploaded"},
            ["uploads/trip/b.jpg", "uploads/trip/a.jpg"],  # b after a (or a tie: by key)
        ),
    ],
)
def test_filters_and_sorts(photos, params, expected) -> None:
    assert keys(photos, **params, limit="1") == expected


def test_size_order_and_bounds(photos) -> None:
    status, body = get_json(photos, "/images", sort="-size", limit="100")
    sizes = [record["size"] for record in body["images"]]
    assert status == 200 and sizes == sorted(sizes, reverse=True) and len(sizes) == 7
    middle = sorted(sizes)[3]
    assert keys(photos, min_size=str(middle), max_size=str(middle)) == [
        r["s3objectkey"] for r in body["images"] if r["size"] == middle
    ]


def test_a_token_belongs_to_its_search(photos) -> None:
    _, first = get_json(photos, "/images", make="canon", limit="1")
    status, body = get_json(photos, "/images", make="nikon", next_token=first["next_token"])
    assert status == 400 and "another search" in body["Message"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"sort": "name"}, "sort"),
        ({"taken_from": "yesterday"}, "taken_from"),
        ({"taken_from": "2024-13-01"}, "taken_from"),
        ({"taken_to": "2024-05-01T10:00+02:00"}, "taken_to"),
        ({"taken_from": "2024-05-02", "taken_to": "2024-05-01"}, "taken_from"),
        ({"uploaded_from": "2024-05-02T00:00Z", "uploaded_to": "2024-05-01"}, "uploaded_from"),
        ({"bbox": "50,0,40,10"}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "91,0,92,1"}, "bbox"),
        ({"min_size": "1e6"}, "min_size"),
        ({"min_size": "\u00b2"}, "min_size"),
        ({"max_size": "9" * 40}, "max_size"),
        ({"min_megapixels": "lots"}, "min_megapixels"),
        ({"orientation": "tall"}, "orientation"),
        ({"has_gps": "yes"}, "has_gps"),
        ({"status": "deleted"}, "status"),
        ({"make": " "}, "make"),
        ({"keyword": "k" * 201}, "keyword"),
        ({"s3objectKey": "a.jpg"}, "s3objectKey"),
        ({"prefix": "/etc"}, "prefix"),
    ],
)
def test_bad_search_parameters_are_400_naming_the_parameter(client, params, named) -> None:
    status, body = get_json(client, "/images", **params)
    assert status == 400 and body["Code"] == "BadRequestError"
    assert named in body["Message"]


def test_facet_routes(photos) -> None:
    status, cameras = get_json(photos, "/summary/cameras", limit="1")
    assert status == 200 and cameras["values"] == [
        {
            "value": "canon eos r5",
            "label": "Canon EOS R5",
            "count": 2,
            "bytes": cameras["values"][0]["bytes"],
        }
    ]
    _, rest = get_json(photos, "/summary/cameras", next_token=cameras["next_token"])
    assert [v["label"] for v in rest["values"]] == ["NIKON CORPORATION NIKON Z 6"]
    assert rest["next_token"] is None
    _, keywords = get_json(photos, "/summary/keywords")
    assert [(v["label"], v["count"]) for v in keywords["values"]] == [
        ("London", 1),
        ("Paris", 1),
        ("Tower", 1),
    ]
    _, lenses = get_json(photos, "/summary/lenses")
    assert [(v["label"], v["count"]) for v in lenses["values"]] == [("RF 24-70mm", 1)]
    _, days = get_json(photos, "/summary/timeline", by="day")
    assert [(d["period"], d["count"]) for d in days["entries"]] == [
        ("2023-12-24", 1),
        ("2024-05-01", 1),
        ("2024-05-03", 1),
    ]
    _, months = get_json(photos, "/summary/timeline")
    assert [(m["period"], m["count"]) for m in months["entries"]] == [
        ("2023-12", 1),
        ("2024-05", 2),
    ]
    _, years = get_json(photos, "/summary/timeline", by="year")
    assert years["entries"] == [{"period": "2023", "count": 1}, {"period": "2024", "count": 2}]


def test_summary_facets(photos) -> None:
    _, summary = get_json(photos, "/summary")
    assert summary["cameras"]["distinct"] == 2
    assert summary["cameras"]["top"][0]["label"] == "Canon EOS R5"
    assert summary["keywords"]["distinct"] == 3
    assert summary["orientations"] == {"landscape": 3, "portrait": 1, "square": 2}
    assert (summary["with_gps"], summary["with_animation"], summary["with_alpha"]) == (2, 1, 1)
    assert summary["years"] == [{"year": 2023, "count": 1}, {"year": 2024, "count": 2}]
    assert summary["taken_range"] == {
        "earliest": {"s3objectkey": "uploads/home/c.jpg", "taken_at": "2023-12-24T20:00:00"},
        "latest": {"s3objectkey": "uploads/trip/b.jpg", "taken_at": "2024-05-03T18:30:00"},
    }
    assert sum(b["count"] for b in summary["resolution"]) == summary["total_images"]
    assert sum(b["count"] for b in summary["size"]) == summary["total_images"]


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/summary/timeline", {"by": "week"}, "by"),
        ("/summary/cameras", {"limit": "0"}, "limit"),
        ("/summary/lenses", {"sort": "count"}, "sort"),
        ("/summary/keywords", {"next_token": "garbage"}, "next_token"),
    ],
)
def test_bad_facet_parameters_are_400(client, path, params, named) -> None:
    status, body = get_json(client, path, **params)
    assert status == 400 and named in body["Message"]


def test_no_search_or_facet_request_scans(photos, deps, monkeypatch) -> None:
    def no_scan(*args, **kwargs):
        raise AssertionError("a request scanned the table")

    monkeypatch.setattr(deps.dynamodb, "scan", no_scan)
    for params in (
        {"make": "canon"},
        {"sort": "-taken_at"},
        {"bbox": "0,0,60,60"},
        {"sort": "size"},
    ):
        assert keys(photos, **params, limit="1")
    for path in ("/summary", "/summary/cameras", "/summary/keywords", "/summary/timeline"):
        assert get_json(photos, path)[0] == 200
