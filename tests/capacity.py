"""DynamoDB write units of an item, by the documented item-size rules.

moto reports a constant `ConsumedCapacity`, so the tests and the benchmark
compute what DynamoDB would bill instead: an item's size is the sum of its
attribute names and values (strings and binaries by length, numbers about one
byte per two significant digits plus one, 1 byte for booleans and nulls,
lists and maps 3 bytes plus 1 per element); a write costs one unit per
started KB of the item (the larger of old and new for an update), twice in a
transaction.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def attribute_value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "B":
        return len(inner)
    if kind == "N":
        digits = Decimal(inner).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(
            1 + len(k.encode("utf-8")) + attribute_value_size(v) for k, v in inner.items()
        )
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes DynamoDB counts for an item in wire format ({"name": {"S": ...}})."""
    return sum(len(name.encode("utf-8")) + attribute_value_size(v) for name, v in item.items())


def write_units(size: int, transactional: bool = False) -> int:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)
