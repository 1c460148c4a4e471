"""Search and facets against DynamoDB (moto), compared with a brute-force recomputation.

Random collections are written through the catalog (puts, overwrites that move
an image between cameras, keywords and months, deletes), then every search
(any filter with any order, read page by page) and every facet count must equal
what `search_truth` computes from the final records alone.
"""

from __future__ import annotations

import random

import boto3
import pytest
from conftest import TABLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_truth import assert_facets, expected_keys

from chalicelib.catalog.catalog import Catalog
from chalicelib.catalog.layout import table_definition
from chalicelib.catalog.writes import MAX_TRANSACTION_ITEMS, facet_keys, operations
from chalicelib.explore import parse_position, parse_search, search_scope, token
from chalicelib.params import InvalidParameterError
from devstack import moto_patches

PREFIX = "uploads/"
CAMERAS = [("Canon", "Canon EOS R5"), ("canon ", "EOS R5"), ("NIKON", "Z 6"), (None, None)]
LENSES = ["RF 24-70mm", "rf 24-70MM", "50mm f/1.8", None]
WORDS = ["Beach", "beach", "Sun", "Paris", "Family", "x" * 40, "Été"]
TAKEN = [
    "2024-05-01T10:00:00",
    "2024-05-01T10:00:00.25+02:00",
    "2024-05-17T23:59:59",
    "2023-12-31",
    "2024-06-02T08:15",
    None,
]
PLACES = [(48.85, 2.35), (-33.9, 151.2), (64.1, -179.9), (64.2, 179.8), (0.0, 0.0), None]


def random_record(rng: random.Random, key: str) -> dict:
    status = rng.choice(["ok"] * 6 + ["corrupt", "unsupported"])
    size = rng.choice([500, 20_000, 150_000, 3_000_000, rng.randrange(1, 10**8)])
    record = {
        "s3objectkey": key,
        "size": size,
        "etag": f"e{rng.randrange(1000)}",
        "last_modified": f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T12:00:00Z",
        "status": status,
    }
    if status != "ok":
        return {**record, "format": None, "error": "bad"}
    make, model = rng.choice(CAMERAS)
    width, height = rng.choice([(4000, 3000), (3000, 4000), (100, 100), (640, 480)])
    place = rng.choice(PLACES)
    record.update(
        format=rng.choice(["JPEG", "PNG", "HEIC"]),
        width=width,
        height=height,
        display_width=width,
        display_height=height,
        megapixels=width * height / 1e6,
        animated=rng.random() < 0.2,
        has_alpha=rng.random() < 0.3,
        camera={"make": make, "model": model, "lens": rng.choice(LENSES)},
        taken_at=rng.choice(TAKEN),
        gps={"latitude": place[0], "longitude": place[1], "altitude": None} if place else None,
        xmp={"keywords": rng.sample(WORDS, rng.randrange(0, 4))},
        iptc={"keywords": [rng.choice(WORDS)]} if rng.random() < 0.3 else None,
    )
    return record


@pytest.fixture
def table(aws):
    # The local stack's moto patches (index queries read only what a page can hold,
    # transactions copy only their items): stock moto sorts a whole index per Query,
    # which made these tests take minutes. tests/devstack/test_moto_patches.py holds
    # the patches equal to stock moto.
    with moto_patches.installed():
        client = boto3.client("dynamodb")
        client.create_table(**table_definition(TABLE))
        yield client


def write_history(catalog: Catalog, rng: random.Random, steps: int) -> dict[str, dict]:
    keys = [f"{PREFIX}{folder}/{name}.jpg" for folder in ("a", "b c", "é") for name in "vwxyz"]
    state: dict[str, dict] = {}
    for _ in range(steps):
        key = rng.choice(keys)
        if key in state and rng.random() < 0.25:
            catalog.delete(key, "")
            del state[key]
        else:
            state[key] = random_record(rng, key)
            catalog.put(state[key], "")
    return state


def read_all(catalog: Catalog, params: dict[str, str], limit: int) -> list[str]:
    search = parse_search(params, PREFIX)
    scope = search_scope(search)
    keys, after = [], None
    for _ in range(200):
        page, last = catalog.search_images(search, limit, after)
        keys += [r["s3objectkey"] for r in page]
        if last is None:
            return keys
        after = parse_position(token(last, scope), scope)
    raise AssertionError("the search did not end")


PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "sort": st.sampled_from(["key", "-key", "taken_at", "-taken_at", "size", "-size"])
        | st.sampled_from(["uploaded", "-uploaded"]),
        "format": st.sampled_from(["jpeg", "PNG"]),
        "status": st.sampled_from(["ok", "corrupt"]),
        "make": st.sampled_from(["canon", "NIKON", "nobody"]),
        "model": st.sampled_from(["eos r5", "Canon EOS R5"]),
        "lens": st.sampled_from(["RF 24-70MM", "50mm f/1.8"]),
        "keyword": st.sampled_from(["beach", "ÉTÉ", "sun"]),
        "taken_from": st.sampled_from(["2024-05-01", "2024-05-01T10:00", "2023-01-01"]),
        "taken_to": st.sampled_from(["2024-05-01", "2024-05-17T23:59:59", "2025-01-01"]),
        "min_size": st.sampled_from(["600", "150000"]),
        "max_size": st.sampled_from(["3000000", "99999999"]),
        "orientation": st.sampled_from(["landscape", "portrait", "square"]),
        "has_gps": st.sampled_from(["true", "false"]),
        "animated": st.sampled_from(["true", "false"]),
        "bbox": st.sampled_from(["40,0,50,10", "60,170,70,-170", "-90,-180,90,180", "-1,-1,1,1"]),
        "prefix": st.sampled_from(["a/", "b c/", "uploads/é/"]),
    },
)


@pytest.mark.parametrize("shards", [1, 3])
def test_every_search_and_facet_equals_a_recomputation(table, shards) -> None:
    catalog = Catalog(table, TABLE, shards=shards)
    state = write_history(catalog, random.Random(shards), 80)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(params=PARAMS, limit=st.sampled_from([1, 2, 5, 50]))
    def check(params, limit):
        try:
            found = read_all(catalog, params, limit)
        except InvalidParameterError:  # e.g. taken_from after taken_to: refused, not searched
            return
        assert found == expected_keys(state, params, PREFIX), params

    check()
    assert_facets(catalog, state)


SPARSE = [
    {"min_size": "3000000"},
    {"min_size": "3000000", "sort": "-key"},
    {"status": "corrupt", "sort": "size"},
    {"has_gps": "true", "sort": "-uploaded"},
    {"keyword": "beach", "min_size": "20000", "sort": "-taken_at"},
    {"bbox": "-90,-180,90,180", "orientation": "portrait"},
]


def test_sparse_matches_across_many_shards_come_in_order(table) -> None:
    """Each partition holds more than one round reads and few entries match: pages
    must merge the shards' walks up to the frontier, never beyond it."""
    catalog = Catalog(table, TABLE, shards=4)
    rng = random.Random(11)
    state = {}
    for i in range(70):
        key = f"{PREFIX}{i:03d}-{rng.randrange(1000)}.jpg"
        state[key] = random_record(rng, key)
        catalog.put(state[key], "")
    for params in SPARSE:
        for limit in (1, 3):
            found = read_all(catalog, params, limit)
            assert found == expected_keys(state, params, PREFIX), (params, limit)


def test_a_legacy_record_gets_its_index_items_when_stored_again(table) -> None:
    """Records stored before search existed have no index items and add nothing to
    the facets; storing them again (reconcile FORCE=1) adds both, counted once."""
    catalog = Catalog(table, TABLE)
    record = random_record(random.Random(3), "uploads/old.jpg")
    record.update(status="ok", format="JPEG", camera={"make": "Canon", "model": "EOS R5"})
    catalog.put(record, "")
    # What a write of the previous version left: the record without `iv` or sort keys.
    item = table.get_item(TableName=TABLE, Key={"pk": {"S": "image#uploads/old.jpg"}})["Item"]
    for name in ("iv", "taken_sk", "uploaded_sk", "bytes_sk"):
        item.pop(name, None)
    for raw in table.scan(TableName=TABLE)["Items"]:
        if raw["pk"]["S"].startswith(("ix#", "fv#", "fp#", "counters#distinct")):
            table.delete_item(TableName=TABLE, Key={"pk": raw["pk"]})
    table.put_item(TableName=TABLE, Item=item)
    assert catalog.search_images(parse_search({"make": "canon"}, PREFIX), 10) == ([], None)

    catalog.put(record, "")

    found, _ = catalog.search_images(parse_search({"make": "canon"}, PREFIX), 10)
    assert [r["s3objectkey"] for r in found] == ["uploads/old.jpg"]
    assert catalog.summary()["cameras"] == {
        "distinct": 1,
        "top": [
            {"value": "canon eos r5", "label": "Canon EOS R5", "count": 1, "bytes": record["size"]}
        ],
    }


def test_the_largest_change_fits_one_transaction() -> None:
    """A record with every term and the most keywords replaced by one with none of the
    same values: the transaction stays within DynamoDB's 100 items."""

    def full(suffix: str) -> dict:
        return {
            "s3objectkey": "uploads/k.jpg",
            "status": "ok",
            "size": 10,
            "format": "JPEG" + suffix,
            "display_width": 2,
            "display_height": 1 + len(suffix),
            "animated": not suffix,
            "camera": {"make": "m" + suffix, "model": "n" + suffix, "lens": "l" + suffix},
            "taken_at": "2024-05-01T10:00:00" if suffix else "2023-01-01",
            "gps": {"latitude": 1.0, "longitude": 2.0} if suffix else None,
            "xmp": {"keywords": [f"k{i}{suffix}" for i in range(30)]},
        }

    old, new = full(""), full("x")
    # The old version's pixel hashes go too (member, 4 bands, group, counter). A new
    # version never brings other hashes in the same write: the metadata path stores
    # none (or carries over the same ones), the stage adds them to an unchanged record.
    old.update(content_sha256="b" * 64, phash="fedcba9876543210")
    old["iv"] = 1
    current = {**old, "pk": "image#uploads/k.jpg", "revision": 1}
    pks = facet_keys(old, new, 0)
    facet_items = {
        pk: {"pk": pk, "n": 1, "shards": {0}, "ver": 1, "size": 10}
        for pk in pks
        if pk.startswith(("fv#", "fp#", "dg#"))
    }
    facet_items = {pk: item for pk, item in facet_items.items() if "x" not in pk}
    ops = operations(TABLE, "uploads/k.jpg", 0, "", new, current, facet_items, 0)
    assert 80 < len(ops) <= MAX_TRANSACTION_ITEMS
