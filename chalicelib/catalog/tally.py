"""Reconcile's recount in parts: counters and facet items recomputed from a Scan. Pure.

The items of any slice of the table (records and stored facet items alike, in
any order) are added to a `Tally`, which keeps one part per counter shard and
one global part:

- part `<N>` (counter shard N): `c`, the counters its records add up to (as
  the live writes count them); `t`, the value items `fv#<facet>#N#<value>`
  they add up to; `s`, the value items of shard N as stored;
- part `g`: the presence items (`fp#`) and the distinct counters as stored,
  and value items of shards that no longer exist (to be deleted);
- the duplicate items (catalog/duplicates.py: groups `dg#`, members `dx#`,
  bands `pb#`) in buckets by a hash of their pk (bucket N in part `d<N>`, so
  an item as it should be and as stored meet in one part): `dt` as the
  records make them, `ds` as stored.

Parts of any number of slices add up (`add_part`) to the parts of one Scan of
the whole table: a job's workers each tally a piece of a Scan segment and one
merge per shard sums them; the single process tallies the whole table at once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from chalicelib.catalog import duplicates, repair
from chalicelib.catalog.layout import (
    DISTINCT_PK,
    IMAGE_PREFIX,
    INDEX_VERSION,
    STATUS_DELETED,
    public_record,
    shard_of,
)
from chalicelib.catalog.summary import COUNTER_PREFIXES, FACET_PREFIXES, counter_changes

GLOBAL = "g"
FACET_ITEM_PREFIXES = ("fv#", "fp#")
DUPLICATE_PREFIXES = (duplicates.GROUP_PREFIX, duplicates.MEMBER_PREFIX, duplicates.BAND_PREFIX)

# {"c": counters, "t": value items wanted, "s": as stored, "dt"/"ds": duplicate items}
Part = dict[str, dict[str, Any]]


def empty_part() -> Part:
    return {"c": {}, "t": {}, "s": {}, "dt": {}, "ds": {}}


def count_record(counts: dict[str, Any], record: dict[str, Any] | None, indexed: bool) -> None:
    """Add what one record adds to its counter shard's counters (and its MIME label)."""
    increments, labels = counter_changes(None, record)
    if not indexed:  # stored before facets were counted: it adds none yet
        increments = {k: v for k, v in increments.items() if not k.startswith(FACET_PREFIXES)}
    for name, value in increments.items():
        counts[name] = counts.get(name, 0) + value
    counts.update(labels)


def counter_numbers(counters: dict[str, Any] | None) -> dict[str, int]:
    """The counts in a counter item, zeros dropped (labels and version ignored)."""
    return {
        name: int(value)
        for name, value in (counters or {}).items()
        if name.startswith(COUNTER_PREFIXES) and int(value) != 0
    }


def is_tallied(pk: str) -> bool:
    """Whether a Scan must hand this item to a tally (a record or a stored facet item)."""
    prefixes = (IMAGE_PREFIX, *FACET_ITEM_PREFIXES, *DUPLICATE_PREFIXES)
    return pk.startswith(prefixes) or pk == DISTINCT_PK


class Tally:
    """Parts accumulated from items as a Scan returns them (decoded)."""

    def __init__(self, shards: int, buckets: int | None = None) -> None:
        self.shards = shards
        self.buckets = buckets or shards
        self.parts: dict[str, Part] = {}

    def part(self, name: str) -> Part:
        return self.parts.setdefault(name, empty_part())

    def add(self, item: dict[str, Any]) -> None:
        pk = item["pk"]
        if pk.startswith(IMAGE_PREFIX):
            if item.get("status") == STATUS_DELETED:
                return
            shard = shard_of(item["s3objectkey"], self.shards)
            part, record = self.part(str(shard)), public_record(item)
            indexed = item.get("iv") == INDEX_VERSION
            count_record(part["c"], record, indexed)
            if indexed:
                repair.add_values(part["t"], shard, record)
            self._add_duplicates(item["s3objectkey"], record)
        elif pk.startswith(DUPLICATE_PREFIXES):
            self._bucket(pk)["ds"][pk] = plain({k: v for k, v in item.items() if k != "pk"})
        elif is_tallied(pk):
            shard = repair.shard_of_item(pk)
            name = str(shard) if shard is not None and shard < self.shards else GLOBAL
            self.part(name)["s"][pk] = plain(item)

    def _add_duplicates(self, key: str, record: dict[str, Any]) -> None:
        found = duplicates.hashes(record)
        if found is None:
            return
        group = duplicates.group_pk(found.sha)
        items = {group: {"n": 1, "size": found.size}, **duplicates.index_items(key, found)}
        for pk, item in items.items():
            _add_duplicate(self._bucket(pk)["dt"], pk, item)

    def _bucket(self, pk: str) -> Part:
        return self.part(f"d{shard_of(pk, self.buckets)}")


def _add_duplicate(into: dict[str, Any], pk: str, item: dict[str, Any]) -> None:
    have = into.get(pk)
    if have is not None and pk.startswith(duplicates.GROUP_PREFIX):
        have["n"] += item["n"]
    else:
        into[pk] = dict(item)


def add_part(into: Part, part: Part) -> None:
    """Add `part` (of another slice) to `into`: counts sum, stored items join."""
    for name, value in part["c"].items():
        if isinstance(value, str):
            into["c"][name] = value
        else:
            into["c"][name] = into["c"].get(name, 0) + value
    for pk, item in part["t"].items():
        have = into["t"].get(pk)
        if have is None:
            into["t"][pk] = dict(item)
            continue
        for name, value in item.items():
            if not isinstance(value, str):
                have[name] = have.get(name, 0) + value
    into["s"].update(part["s"])
    for pk, item in part["dt"].items():
        _add_duplicate(into["dt"], pk, item)
    into["ds"].update(part["ds"])


def value_writes(part: Part) -> list[tuple[str, dict[str, Any] | None]]:
    """The value item writes that make one shard's stored items equal its truth."""
    return repair.differences(part["s"], part["t"])


def presence_writes(
    stored: dict[str, dict[str, Any]], value_pks: Iterable[str]
) -> list[tuple[str, dict[str, Any] | None]]:
    """The presence and distinct writes (and deletes of value items of shards that no
    longer exist), given the global part's stored items and every wanted value pk."""
    return repair.differences(stored, repair.presence_truth(value_pks))


def encode_part(part: Any) -> bytes:
    return zlib.compress(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())


def decode_part(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item in JSON's types (numbers as int, sets as sorted lists)."""
    return {name: _plain(value) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    return value
