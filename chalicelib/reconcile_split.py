"""Splitting the key space under the prefix into ranges, for a reconcile job.

S3 cannot say how many keys lie between two strings, but one `ListObjectsV2`
with `StartAfter=s, MaxKeys=1` says which key comes first after `s`. So the
coordinator starts from the folders under the prefix (common prefixes, one
listing with a delimiter) and bisects ranges in rounds: the midpoint string
between a range's first key and its upper end is probed, and when a key lies
above it the range splits there. Each round is one probe per range, run in
parallel, so 2,000 ranges cost about 11 rounds (~2 s on AWS). A range is
`(after, upto]` as strings (`upto` empty: to the end), so ranges cover every
key, including those written while the job runs.

Dense key spaces split evenly; lopsided ones are evened out at run time: a
worker that runs out of time on a range splits its remainder the same way.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Midpoints are computed over printable ASCII: keys are mostly made of it, a
# midpoint among a million code points would take twenty probes to come back
# down to them, and S3 echoes StartAfter in XML, where control characters are
# not allowed. Other keys are still covered, in coarser ranges.
LOWEST, BASE = 0x20, 95
TOP = "\x7f"
PROBE_THREADS = 16
WIDTH_DIGITS = 24
MAX_PROBES = 40  # per range and round, when keys are sparse


@dataclass
class KeyRange:
    after: str  # exclusive; "" from the start of the prefix
    upto: str  # inclusive; "" to the end
    first: str | None = None  # the first key found in it (None: not probed yet)
    high: str = ""  # no key found between `high` and `upto`: bisect below it
    second: str | None = None  # the key after `first` in it ("": none)


def midpoint(low: str, high: str) -> str:
    """A string m with low <= m < high, about halfway between them in key order
    (S3 orders keys by UTF-8 bytes, which is code point order); `low` when
    there is none that this arithmetic finds."""
    if not low < high:
        return low
    width = max(len(low), len(high)) + 1
    a = b = 0
    for n in range(width):
        a = a * BASE + (_digit(low[n]) if n < len(low) else 0)
        b = b * BASE + (_digit(high[n]) if n < len(high) else 0)
    middle, chars = (a + b) // 2, []
    for _ in range(width):
        middle, digit = divmod(middle, BASE)
        chars.append(chr(LOWEST + digit))
    found = "".join(reversed(chars)).rstrip(" ")
    return found if low <= found < high else low


def _digit(char: str) -> int:
    return min(max(ord(char) - LOWEST, 0), BASE - 1)


def first_key_after(s3: Any, bucket: str, prefix: str, after: str) -> str | None:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, StartAfter=after, MaxKeys=1)
    contents = listed.get("Contents", [])
    return contents[0]["Key"] if contents else None


def plan_ranges(
    s3: Any, bucket: str, prefix: str, want: int, seconds: float = 20.0
) -> list[KeyRange]:
    """About `want` ranges (fewer when there are fewer keys, or when `seconds`
    run out) that together cover every key under `prefix`, now and later."""
    deadline = time.monotonic() + seconds
    ranges, after = [], ""
    for folder in sorted(_folders(s3, bucket, prefix, want - 1)):
        # Each folder opens a range: the one before ends just below it.
        ranges.append(KeyRange(after, _just_below(folder)))
        after = _just_below(folder)
    ranges.append(KeyRange(after, ""))
    with ThreadPoolExecutor(PROBE_THREADS) as pool:
        while len(ranges) < want and time.monotonic() < deadline:
            open_ = [r for r in ranges if r.first is None or _splittable(r, prefix)]
            if not open_:
                break
            room = want - len(ranges)
            # Widest first: where most keys may be (S3 does not say how many).
            open_.sort(key=lambda r: _width(r, prefix), reverse=True)
            done = {
                id(r): pieces
                for r, pieces in zip(
                    open_[:room],
                    pool.map(lambda r: _split(s3, bucket, prefix, r), open_[:room]),
                    strict=True,
                )
            }
            ranges = [piece for r in ranges for piece in done.get(id(r), [r])]
            ranges = [r for r in ranges if r.first != ""]  # probed and empty
    keep = [r for r in ranges if r.first != ""]
    return _joined(keep) if keep else [KeyRange("", "")]


def split_remainder(s3: Any, bucket: str, prefix: str, piece: KeyRange) -> list[KeyRange]:
    """What is left of a range, in two at a key above its middle when it holds
    more than one key (a few probes), else as it is."""
    for _ in range(3):  # the first key, the second, then the bisection
        pieces = _split(s3, bucket, prefix, piece)
        if len(pieces) == 2 or not _splittable(piece, prefix):
            return pieces
    return [piece]


def _split(s3: Any, bucket: str, prefix: str, piece: KeyRange) -> list[KeyRange]:
    def inside(key: str | None) -> bool:
        return key is not None and not (piece.upto and key > piece.upto)

    if piece.first is None:
        found = first_key_after(s3, bucket, prefix, piece.after)
        piece.first = found if inside(found) else ""
        return [piece]
    if piece.second is None:
        found = first_key_after(s3, bucket, prefix, piece.first)
        piece.second = found if inside(found) else ""
        if not piece.second:
            piece.high = piece.first  # one key: nothing to split
        return [piece]
    # Bisect above the second key (so both halves hold a key), lowering the
    # upper end each time nothing lies above the middle.
    high = _high(piece, prefix)
    for _ in range(MAX_PROBES):
        middle = midpoint(piece.second, high)
        if middle == piece.second:
            break
        found = first_key_after(s3, bucket, prefix, middle)
        if inside(found):
            left = KeyRange(piece.after, middle, piece.first, middle, piece.second)
            return [left, KeyRange(middle, piece.upto, found, piece.high)]
        high = middle
    piece.high = piece.first  # no key above the second one that we can find
    return [piece]


def _high(piece: KeyRange, prefix: str) -> str:
    return piece.high or piece.upto or prefix + TOP


def _width(piece: KeyRange, prefix: str) -> int:
    """How far apart the range's first key and upper end are, in key order."""
    return _number(_high(piece, prefix)) - _number(piece.first or piece.after)


def _number(text: str) -> int:
    value = 0
    for n in range(WIDTH_DIGITS):
        value = value * BASE + (_digit(text[n]) if n < len(text) else 0)
    return value


def _splittable(piece: KeyRange, prefix: str) -> bool:
    return bool(piece.first) and midpoint(piece.first, _high(piece, prefix)) != piece.first


def _joined(ranges: list[KeyRange]) -> list[KeyRange]:
    """Ranges with no gaps: an empty range dropped leaves its keys (written
    later) to the range before it, the first one starts at the beginning."""
    joined = []
    for n, piece in enumerate(ranges):
        upto = ranges[n + 1].after if n + 1 < len(ranges) else ""
        joined.append(KeyRange(joined[-1].upto if joined else "", upto, piece.first))
    return joined


def _folders(s3: Any, bucket: str, prefix: str, want: int) -> list[str]:
    """The common prefixes right under `prefix` (at most `want` of them)."""
    if want < 1:
        return []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig={"MaxItems": want}
    )
    found: list[str] = []
    for page in pages:
        found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return found[:want]


def _just_below(folder: str) -> str:
    """The upper end (inclusive) of the range before `folder`: every string that
    sorts below the folder's keys. Folders end with `/`, so that is `.` and then
    the highest character."""
    return folder[:-1] + chr(ord(folder[-1]) - 1) + chr(0x10FFFF)
