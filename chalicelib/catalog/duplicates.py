"""Duplicate index items and counters, derived from the pixel stage's hashes. Pure.

An `ok` record with a `content_sha256` (written by the pixel stage) has, in the
same transaction as the record itself:

- `dx#<sha>#<key>`: a member item (ix `sha=<sha>`), so the exact duplicates of a
  key are one Query on the `ix_key` index;
- `pb#<band>#<phash>#<key>` for each of the 4 16-bit bands of its `phash`
  (`<position>:<4 hex digits>`, ix `phash=<band>`): the pigeonhole index for
  near duplicates.
  The full hash is in the pk (always projected), so comparing a candidate
  needs no second read;
- `dg#<sha>`: the group item, `n` members of `size` bytes. Changed with a
  condition on the `n` read before the transaction (optimistic: a concurrent
  change cancels the transaction and the write is retried with fresh reads);
- `dups#<shard>`: the summary's duplicate counters, `dup_groups` (groups of 2
  or more) and `dup_wasted` ((n - 1) * size per group), added to in the key's
  shard. Every transaction that touches a group item bumps the `version` of
  that shard, which guards reconcile's rebuild (`rebuild_writes`).

The index items reuse `ix_key` (hash `ix`, range `s3objectkey`): their `ix`
values (`sha=`, `phash=`) are never search terms, and no table change was needed.
The catalog never imports the pixel code: the bands are the 4 consecutive
16-bit slices of the 64-bit hash (`bands`), the same split as
`chalicelib.pixels.phash_bands` (a test holds both to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from chalicelib.catalog.records import STATUS_OK

BANDS = 4
GROUP_PREFIX = "dg#"
MEMBER_PREFIX = "dx#"
BAND_PREFIX = "pb#"
COUNTER_PREFIX = "dups#"
COUNTERS = ("dup_groups", "dup_wasted")


class Hashes(NamedTuple):
    sha: str
    size: int
    phash: str | None


def hashes(record: dict[str, Any] | None) -> Hashes | None:
    """What a record contributes to the duplicate items (None: nothing)."""
    if not record or record.get("status") != STATUS_OK:
        return None
    sha = record.get("content_sha256")
    if not isinstance(sha, str) or not sha:
        return None
    phash = record.get("phash")
    return Hashes(sha, int(record.get("size") or 0), phash if isinstance(phash, str) else None)


def bands(phash: str) -> tuple[str, ...]:
    """The 4 band values (`0:89ab`...) of a 16-hex-digit hash: every pair of hashes
    within Hamming distance 3 agrees on at least one (3 bits touch at most 3 bands)."""
    width = len(phash) // BANDS
    return tuple(f"{i}:{phash[i * width : (i + 1) * width].lower()}" for i in range(BANDS))


def group_pk(sha: str) -> str:
    return f"{GROUP_PREFIX}{sha}"


def counter_pk(shard: int) -> str:
    return f"{COUNTER_PREFIX}{shard}"


def member_partition(sha: str) -> str:
    return f"sha={sha}"


def band_partition(band: str) -> str:
    return f"phash={band}"


def band_pk(band: str, phash: str, key: str) -> str:
    return f"{BAND_PREFIX}{band}#{phash}#{key}"


def phash_of_band_pk(pk: str) -> str:
    return pk.split("#", 3)[2]


def index_items(key: str, found: Hashes | None) -> dict[str, dict[str, str]]:
    """The member and band items of one record, by pk (plain values)."""
    if found is None:
        return {}
    items = {
        f"{MEMBER_PREFIX}{found.sha}#{key}": {
            "ix": member_partition(found.sha),
            "s3objectkey": key,
        }
    }
    if found.phash:
        for band in bands(found.phash):
            items[band_pk(band, found.phash, key)] = {
                "ix": band_partition(band),
                "s3objectkey": key,
            }
    return items


def group_keys(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """The group items a write from `old` to `new` depends on: read them first."""
    before, after = hashes(old), hashes(new)
    if (before and before.sha) == (after and after.sha):
        return []
    return sorted({group_pk(h.sha) for h in (before, after) if h})


def wasted(members: int, size: int) -> tuple[int, int]:
    """(groups, wasted bytes) of one group of `members` copies of `size` bytes."""
    return (1, (members - 1) * size) if members >= 2 else (0, 0)


def operations(
    table: str,
    key: str,
    shard: int,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    groups: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Transaction operations turning `old`'s duplicate items into `new`'s, given the
    group items as read (`groups`, by pk). Empty when nothing changes."""
    before, after = hashes(old), hashes(new)
    old_items, new_items = index_items(key, before), index_items(key, after)
    ops: list[dict[str, Any]] = [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": pk}}}}
        for pk in sorted(set(old_items) - set(new_items))
    ]
    for pk in sorted(set(new_items) - set(old_items)):
        item = {"pk": {"S": pk}, **{k: {"S": v} for k, v in new_items[pk].items()}}
        ops.append({"Put": {"TableName": table, "Item": item}})
    if (before and before.sha) == (after and after.sha):
        return ops
    totals = {"dup_groups": 0, "dup_wasted": 0}
    for found, change in ((before, -1), (after, +1)):
        if found is None:
            continue
        op, groups_delta, wasted_delta = _group(table, found, change, groups)
        ops.append(op)
        totals["dup_groups"] += groups_delta
        totals["dup_wasted"] += wasted_delta
    ops.append({"Update": _counter_update(table, shard, totals)})
    return ops


def _group(
    table: str, found: Hashes, change: int, groups: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], int, int]:
    pk = group_pk(found.sha)
    item = groups.get(pk)
    count = int(item["n"]) if item else 0
    size = int(item["size"]) if item else found.size
    after = max(count + change, 0)  # below zero only if damaged: reconcile repairs
    request: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": pk}}}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if count:
        request["ConditionExpression"] = "#n = :was"
        names["#n"], values[":was"] = "n", {"N": str(count)}
    else:
        request["ConditionExpression"] = "attribute_not_exists(pk)"
    if after:
        names.update({"#n": "n", "#size": "size"})  # SIZE is a reserved word
        values.update({":n": {"N": str(after)}, ":size": {"N": str(size)}})
        request["UpdateExpression"] = "SET #n = :n, #size = :size"
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    op = {"Update": request} if after else {"Delete": request}
    (groups_before, wasted_before), (groups_after, wasted_after) = (
        wasted(count, size),
        wasted(after, size),
    )
    return op, groups_after - groups_before, wasted_after - wasted_before


def _counter_update(table: str, shard: int, totals: dict[str, int]) -> dict[str, Any]:
    """ADD the changes (possibly zero) and bump the version: reconcile's guard."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": counter_pk(shard)}},
        "UpdateExpression": "ADD dup_groups :g, dup_wasted :w, version :one",
        "ExpressionAttributeValues": {
            ":g": {"N": str(totals["dup_groups"])},
            ":w": {"N": str(totals["dup_wasted"])},
            ":one": {"N": "1"},
        },
    }


def counted(shards: Iterable[dict[str, Any] | None]) -> dict[str, int]:
    """`GET /summary`'s `duplicates` from the counter items of every shard."""
    found = [s for s in shards if s]
    return {
        "groups": sum(int(s.get("dup_groups", 0)) for s in found),
        "wasted_bytes": sum(int(s.get("dup_wasted", 0)) for s in found),
    }


def truth(records: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every group and index item as it should be, by pk, from (key, record) pairs."""
    items: dict[str, dict[str, Any]] = {}
    for key, record in records:
        found = hashes(record)
        if found is None:
            continue
        group = items.setdefault(group_pk(found.sha), {"n": 0, "size": found.size})
        group["n"] += 1
        items.update(index_items(key, found))
    return items


def totals(items: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The duplicate counters the group items add up to."""
    groups = wasted_bytes = 0
    for pk, item in items.items():
        if pk.startswith(GROUP_PREFIX):
            g, w = wasted(int(item["n"]), int(item["size"]))
            groups, wasted_bytes = groups + g, wasted_bytes + w
    return {"dup_groups": groups, "dup_wasted": wasted_bytes}
