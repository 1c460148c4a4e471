"""Search results and facet counts recomputed from records alone, by brute force.

Written from the API's documented meaning of each parameter, independently of
chalicelib's search code, so that the property tests compare two implementations.
"""

from __future__ import annotations

from typing import Any

from chalicelib.explore import parse_search


def _fold(text: Any) -> str | None:
    return " ".join(text.split()).casefold() or None if isinstance(text, str) else None


def _keywords(record: dict) -> list[str]:
    found: list[str] = []
    for block in ("xmp", "iptc"):
        for word in (record.get(block) or {}).get("keywords") or []:
            if _fold(word) and _fold(word) not in found and len(found) < 10:
                found.append(_fold(word))
    return found


def _local(taken: Any) -> str | None:
    """The capture time as YYYY-MM-DDTHH:MM:SS, offset dropped, midnight for a date."""
    if not isinstance(taken, str) or len(taken) < 10:
        return None
    if len(taken) < 16:
        return taken[:10] + "T00:00:00"
    seconds = taken[17:19] if len(taken) >= 19 and taken[16] == ":" else "00"
    return f"{taken[:16]}:{seconds}"


def _bound(value: str, end: bool) -> str:
    """A query date or date-time as a comparable YYYY-MM-DDTHH:MM:SS."""
    if len(value) == 10:
        return value + ("T23:59:59" if end else "T00:00:00")
    return value[:19] if len(value) >= 19 else value + ":00"


def _orientation(record: dict) -> str | None:
    w, h = record.get("display_width"), record.get("display_height")
    if w is None or h is None:
        return None
    return "landscape" if w > h else "portrait" if w < h else "square"


def matches(record: dict, params: dict[str, str], prefix: str) -> bool:
    camera = record.get("camera") or {}
    gps = record.get("gps")
    taken = _local(record.get("taken_at"))
    checks = []
    p = params.get
    if p("format"):
        checks.append(record.get("format") == p("format").upper())
    if p("status"):
        checks.append(record["status"] == p("status"))
    for field in ("make", "model", "lens"):
        if p(field):
            checks.append(_fold(camera.get(field)) == _fold(p(field)))
    if p("keyword"):
        checks.append(_fold(p("keyword")) in _keywords(record))
    if p("taken_from"):
        checks.append(taken is not None and taken >= _bound(p("taken_from"), False))
    if p("taken_to"):
        checks.append(taken is not None and taken <= _bound(p("taken_to"), True))
    if p("min_size"):
        checks.append(record["size"] >= int(p("min_size")))
    if p("max_size"):
        checks.append(record["size"] <= int(p("max_size")))
    if p("min_width"):
        checks.append((record.get("display_width") or -1) >= int(p("min_width")))
    if p("orientation"):
        checks.append(_orientation(record) == p("orientation"))
    if p("has_gps"):
        checks.append(bool(gps) == (p("has_gps") == "true"))
    if p("animated"):
        checks.append(bool(record.get("animated")) == (p("animated") == "true"))
    if p("bbox"):
        south, west, north, east = (float(x) for x in p("bbox").split(","))
        inside = bool(gps) and south <= gps["latitude"] <= north
        if west <= east:
            inside = inside and west <= gps["longitude"] <= east
        else:
            inside = inside and (gps["longitude"] >= west or gps["longitude"] <= east)
        checks.append(inside)
    if p("prefix"):
        wanted = p("prefix") if p("prefix").startswith(prefix) else prefix + p("prefix")
        checks.append(record["s3objectkey"].startswith(wanted))
    return all(checks)


def expected_keys(records: dict[str, dict], params: dict[str, str], prefix: str) -> list[str]:
    """The keys `GET /images` should return for `params`, in order, over all pages."""
    sort = params.get("sort", "key")
    order = sort.lstrip("-")
    found = [r for r in records.values() if matches(r, params, prefix)]

    def position(record: dict) -> tuple:
        key = record["s3objectkey"].encode()
        return {
            "key": (key,),
            "taken_at": (_local(record.get("taken_at")) or "", key),
            "size": (record["size"], key),
            "uploaded": (record.get("last_modified") or "", key),
        }[order]

    if order == "taken_at":
        found = [r for r in found if _local(r.get("taken_at"))]  # undated: not in this order
    found.sort(key=position, reverse=sort.startswith("-"))
    return [r["s3objectkey"] for r in found]


def expected_facets(records: dict[str, dict]) -> dict[str, Any]:
    """Facet counts over the `ok` records."""
    ok = [r for r in records.values() if r["status"] == "ok"]
    cameras: dict[str, int] = {}
    lenses: dict[str, int] = {}
    keywords: dict[str, int] = {}
    months: dict[str, int] = {}
    days: dict[str, int] = {}
    years: dict[int, int] = {}
    for r in ok:
        camera = r.get("camera") or {}
        make, model = (camera.get("make") or "").strip(), (camera.get("model") or "").strip()
        label = (
            model if make and model.casefold().startswith(make.casefold()) else f"{make} {model}"
        )
        if _fold(label):
            cameras[_fold(label)] = cameras.get(_fold(label), 0) + 1
        if _fold(camera.get("lens")):
            lenses[_fold(camera["lens"])] = lenses.get(_fold(camera["lens"]), 0) + 1
        for word in _keywords(r):
            keywords[word] = keywords.get(word, 0) + 1
        taken = _local(r.get("taken_at"))
        if taken:
            months[taken[:7]] = months.get(taken[:7], 0) + 1
            days[taken[:10]] = days.get(taken[:10], 0) + 1
            years[int(taken[:4])] = years.get(int(taken[:4]), 0) + 1
    return {
        "camera": cameras,
        "lens": lenses,
        "keyword": keywords,
        "month": months,
        "day": days,
        "years": years,
        "with_gps": sum(bool(r.get("gps")) for r in ok),
        "orientations": {
            o: sum(_orientation(r) == o for r in ok) for o in ("landscape", "portrait", "square")
        },
    }


def assert_facets(catalog, state: dict[str, dict]) -> None:
    """Every facet read of the catalog equals counting the records `state` holds."""
    truth = expected_facets(state)
    for facet in ("camera", "lens", "keyword"):
        values, after = [], None
        while True:
            page, after = catalog.facet_values(facet, 2, after)
            values += page
            if after is None:
                break
        assert {v["value"]: v["count"] for v in values} == truth[facet], facet
    summary = catalog.summary()
    for name, facet in (("cameras", "camera"), ("lenses", "lens"), ("keywords", "keyword")):
        assert summary[name]["distinct"] == len(truth[facet])
        top = sorted(truth[facet].items(), key=lambda item: (-item[1], item[0]))[:10]
        assert [(v["value"], v["count"]) for v in summary[name]["top"]] == top
    assert {y["year"]: y["count"] for y in summary["years"]} == truth["years"]
    assert summary["with_gps"] == truth["with_gps"]
    assert summary["orientations"] == truth["orientations"]
    months, _ = catalog.timeline("month", 100)
    assert {m["period"]: m["count"] for m in months} == truth["month"]
    days, _ = catalog.timeline("day", 100)
    assert {d["period"]: d["count"] for d in days} == truth["day"]


SEARCHES = [
    {},
    {"make": "canon"},
    {"sort": "-taken_at"},
    {"keyword": "beach", "sort": "taken_at"},
    {"has_gps": "true", "sort": "-size"},
    {"orientation": "portrait"},
    {"bbox": "40,-10,60,10"},
    {"format": "png", "sort": "-key"},
]


def assert_searches(catalog, state: dict[str, dict], prefix: str = "uploads/") -> None:
    """A few searches, each read in pages of 2, equal their brute-force results."""
    for params in SEARCHES:
        search = parse_search(params, prefix)
        found, after = [], None
        while True:
            page, after = catalog.search_images(search, 2, after)
            found += [record["s3objectkey"] for record in page]
            if after is None:
                break
        assert found == expected_keys(state, params, prefix), params
