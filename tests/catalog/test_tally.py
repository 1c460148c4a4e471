"""The recount in parts (chalicelib/catalog/tally.py): slices of a Scan add up to
one Scan of everything, whatever the split, through the stored (encoded) form."""

from __future__ import annotations

import random
from decimal import Decimal

from chalicelib.catalog import repair
from chalicelib.catalog.layout import shard_of
from chalicelib.catalog.tally import (
    GLOBAL,
    Tally,
    add_part,
    decode_part,
    empty_part,
    encode_part,
    presence_writes,
    value_writes,
)

SHARDS = 3


def record_item(n: int, indexed: bool = True) -> dict:
    key = f"uploads/{n:03d}.jpg"
    item = {
        "pk": f"image#{key}",
        "s3objectkey": key,
        "status": "ok",
        "format": "JPEG",
        "mime_type": "image/jpeg",
        "size": Decimal(100 + n % 5),  # copies (same content_sha256) have one size
        "revision": Decimal(1),
        "camera": {"make": "Canon", "model": f"EOS {n % 4}", "lens": f"L{n % 2}"},
        "taken_at": f"202{n % 3}-0{n % 9 + 1}-1{n % 7}T10:00:00",
        "xmp": {"keywords": ["beach", "dog"][: n % 3]},
        "content_sha256": f"{n % 5:064x}",  # 5 groups of 8 copies
        "phash": f"{n:016x}",
    }
    if indexed:
        item["iv"] = Decimal(1)
    return item


def items() -> list[dict]:
    found = [record_item(n) for n in range(40)]
    found.append(record_item(99, indexed=False))  # stored before facets were counted
    found.append({"pk": "image#uploads/gone.jpg", "s3objectkey": "uploads/gone.jpg",
                  "status": "deleted", "revision": Decimal(3)})  # fmt: skip
    found += [
        {"pk": "fv#camera#1#canon eos 1", "fk": "camera#1", "v": "canon eos 1", "n": Decimal(99)},
        {"pk": "fv#lens#9#gone", "fk": "lens#9", "v": "gone", "n": Decimal(1)},  # no shard 9
        {"pk": "fp#camera#ghost", "shards": {Decimal(2)}, "ver": Decimal(4)},
        {"pk": "counters#distinct", "distinct_camera": Decimal(7)},
        {"pk": "ix#term#uploads/001.jpg", "ix": "make=canon"},  # not tallied
    ]
    return found


def whole() -> Tally:
    tally = Tally(SHARDS)
    for item in items():
        tally.add(item)
    return tally


def test_slices_in_any_split_add_up_to_one_tally_of_everything() -> None:
    expected = {name: decode_part(encode_part(part)) for name, part in whole().parts.items()}
    for seed in range(5):
        shuffled = items()
        random.Random(seed).shuffle(shuffled)
        cuts = sorted(random.Random(seed).sample(range(1, len(shuffled)), 3))
        merged: dict = {}
        for start, end in zip([0, *cuts], [*cuts, len(shuffled)], strict=True):
            tally = Tally(SHARDS)
            for item in shuffled[start:end]:
                tally.add(item)
            for name, part in tally.parts.items():
                add_part(merged.setdefault(name, empty_part()), decode_part(encode_part(part)))
        assert merged == expected, seed


def test_the_writes_from_a_tally_equal_the_recomputation_from_the_records() -> None:
    tally = whole()
    records = [
        (shard_of(i["s3objectkey"], SHARDS), {k: v for k, v in i.items() if k != "pk"})
        for i in items()[:40]
    ]
    truth = repair.facet_truth(records)
    written: dict = {}
    for n in range(SHARDS):
        part = decode_part(encode_part(tally.part(str(n))))
        written.update(value_writes(part))
    wanted = [pk for pk, item in written.items() if item is not None]
    stored = decode_part(encode_part(tally.part(GLOBAL)))["s"]
    written.update(presence_writes(stored, wanted))
    assert {pk for pk, item in written.items() if item is not None} == set(truth)
    assert written["fv#lens#9#gone"] is None  # a value item of a shard that is no more
    assert written["fp#camera#ghost"] is None
    assert written["counters#distinct"]["distinct_camera"] == 4
    assert written["fv#camera#1#canon eos 1"]["n"] == truth["fv#camera#1#canon eos 1"]["n"]


def test_counters_count_every_live_record_and_facets_only_indexed_ones() -> None:
    parts = whole().parts
    counted = sum(parts[str(n)]["c"].get("count_JPEG", 0) for n in range(SHARDS))
    years = sum(v for n in range(SHARDS) for k, v in parts[str(n)]["c"].items() if "year_" in k)
    assert counted == 41  # 40 indexed + 1 not yet: not the tombstone
    assert years == 40
    assert all(parts[str(n)]["c"]["mime_JPEG"] == "image/jpeg" for n in range(SHARDS))
    groups = [i for part in parts.values() for pk, i in part["dt"].items() if pk.startswith("dg#")]
    assert sorted(group["n"] for group in groups) == [8, 8, 8, 8, 9]  # + the unindexed one
    assert not any(pk.startswith("ix#") for part in parts.values() for pk in part["s"])
