"""DynamoDB at constant cost: transactions, index queries and scans that do not walk the table.

Stock moto deep-copies every table a `TransactWriteItems` touches (to roll
back), and answers an index `Query` (even with `Limit=1`) or a `Scan` page by
walking and sorting every item. Here transactions snapshot only the items
they touch; queries and scans are handed just the items their page can hold,
from sorted per-partition lists kept current on every write; moto's own code
does everything else. Writes also take one lock: DynamoDB never interleaves
two conditional writes or transactions, moto's threaded server can.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any

import moto.dynamodb.models as backend_module
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

from devstack.moto_patches.patching import Patches

_lock = threading.RLock()
_local = threading.local()
_STATE = "_devstack_sorted"  # attribute on each Table holding its sorted lists
patches = Patches()


def install() -> None:
    patches.apply(
        {
            (DynamoDBBackend, "transact_write_items"): _transact_write_items,
            (DynamoDBBackend, "put_item"): _locked(DynamoDBBackend.put_item),
            (DynamoDBBackend, "update_item"): _locked(DynamoDBBackend.update_item, resync=True),
            (DynamoDBBackend, "delete_item"): _locked(DynamoDBBackend.delete_item),
            (Table, "put_item"): _table_put_item,
            (Table, "delete_item"): _table_delete_item,
            (Table, "query"): _query,
            (Table, "scan"): _scan,
            (Table, "all_items"): _all_items,
            (backend_module, "copy"): _CopyShim(),
        }
    )


def _original(owner: Any, name: str) -> Callable[..., Any]:
    return patches.original(owner, name)


# --- transactions: roll back only what was touched --------------------------
class _CopyShim:
    """moto's module-level `copy`, except for two copies nothing reads: the whole
    table a transaction copies, and the item `update_item` copies for a stream."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table) and getattr(_local, "in_transaction", False):
            return value  # the wrapper below snapshots the touched items instead
        if isinstance(value, Item) and getattr(_local, "streamless_update", False):
            return value  # only a table with a stream reads the copy (stream_shard.add)
        return copy.deepcopy(value, memo)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _lock:  # DynamoDB transactions are serializable
        saved = list(_snapshot(self, transact_items))
        _local.in_transaction = True
        try:
            _original(DynamoDBBackend, "transact_write_items")(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in saved:
                _put_back(table, hash_key, range_key, item)
            raise
        finally:
            _local.in_transaction = False


def _snapshot(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[tuple]:
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", "")) if isinstance(op, dict) else None
            key = (op.get("Item") if op_type == "Put" else op.get("Key")) if table else None
            if not table or not isinstance(key, dict) or table.hash_key_attr not in key:
                continue  # moto rejects it before writing anything
            hash_key = DynamoType(key[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_key = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
            if range_attr and range_key is None:
                continue
            current = table.get_item(hash_key, range_key)
            yield table, hash_key, range_key, copy.deepcopy(current)


def _put_back(table: Table, hash_key: DynamoType, range_key: Any, item: Item | None) -> None:
    if item is None:
        _original(Table, "delete_item")(table, hash_key, range_key)
    elif range_key is not None:
        table.items[hash_key][range_key] = item
    else:
        table.items[hash_key] = item
    _resync(table, hash_key, range_key)


# --- writes: one at a time, and the sorted lists follow ----------------------
def _locked(original: Callable[..., Any], resync: bool = False) -> Callable[..., Any]:
    def write(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            if resync:  # update_item: its copy of the old item only feeds a stream
                table = self.tables.get(table_name)
                _local.streamless_update = table is not None and table.stream_shard is None
            try:
                result = original(self, table_name, *args, **kwargs)
            finally:
                _local.streamless_update = False
            if resync and isinstance(result, Item):  # update_item changes items in place
                _resync(self.get_table(table_name), result.hash_key, result.range_key)
            return result

    write.__name__ = original.__name__
    return write


def _table_put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
    with _lock:
        item = _original(Table, "put_item")(self, *args, **kwargs)
        _resync(self, item.hash_key, item.range_key)
        return item


def _table_delete_item(self: Table, hash_key: DynamoType, range_key: Any) -> Item | None:
    with _lock:
        item = _original(Table, "delete_item")(self, hash_key, range_key)
        _resync(self, hash_key, range_key)
        return item


# --- sorted lists: per index partition, and the table's own keys -------------
class _Sorted:
    """One sorted view of a table: entries `(range value, table key values, key)` per partition."""

    def __init__(self, hash_attr: str | None, range_attr: str | None) -> None:
        self.hash_attr, self.range_attr = hash_attr, range_attr
        self.parts: dict[Any, list[tuple]] = {}
        self.where: dict[tuple, tuple[Any, tuple]] = {}  # table key -> (partition, entry)

    def entry_of(self, table: Table, item: Item) -> tuple[Any, tuple] | None:
        attrs = item.attrs
        if self.hash_attr is None:  # the table itself, in key order
            part = None
        elif self.hash_attr in attrs and self.range_attr in attrs:
            part = attrs[self.hash_attr].cast_value
        else:
            return None  # not in this (sparse) index
        order = attrs[self.range_attr].cast_value if self.hash_attr else None
        return part, (order, _table_key(table, item), (item.hash_key, item.range_key))

    def set(self, key: tuple, placed: tuple[Any, tuple] | None) -> None:
        old = self.where.pop(key, None)
        if old is not None:
            entries = self.parts[old[0]]
            del entries[bisect.bisect_left(entries, old[1][:2], key=_order)]
        if placed is not None:
            bisect.insort(self.parts.setdefault(placed[0], []), placed[1], key=_order)
            self.where[key] = placed


def _order(entry: tuple) -> tuple:
    return entry[:2]


def _table_key(table: Table, item: Item) -> tuple:
    hash_value = item.hash_key.cast_value
    return (hash_value, item.range_key.cast_value) if item.range_key is not None else (hash_value,)


def _views(table: Table) -> dict[str | None, _Sorted]:
    state = table.__dict__.get(_STATE)
    if state is None or state[0] is not table.items:  # new table, or items replaced wholesale
        state = (table.items, {})
        setattr(table, _STATE, state)
    return state[1]


def _view(table: Table, index_name: str | None) -> _Sorted | None:
    """The sorted view for an index (None: the table itself), built on first use."""
    views = _views(table)
    if index_name in views:
        return views[index_name]
    if index_name is None:
        view = _Sorted(None, None)
    else:
        index = table.get_index(index_name)
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) != 1 or len(ranges) != 1:
            return None  # multi-attribute or hash-only indexes: moto's own code
        view = _Sorted(hashes[0], ranges[0])
    for item in _original(Table, "all_items")(table):
        view.set(_table_key(table, item), view.entry_of(table, item))
    views[index_name] = view
    return view


def _resync(table: Table, hash_key: DynamoType, range_key: Any) -> None:
    views = table.__dict__.get(_STATE)
    if not views or views[0] is not table.items or not views[1]:
        return
    item = table.get_item(hash_key, range_key) if range_key or not table.range_key_attr else None
    key = (
        (hash_key.cast_value,) if range_key is None else (hash_key.cast_value, range_key.cast_value)
    )
    for view in views[1].values():
        view.set(key, view.entry_of(table, item) if item is not None else None)


# --- queries and scans: hand moto only the items the answer can hold ---------
def _all_items(self: Table) -> list[Item]:
    override = getattr(_local, "items", None)
    if override is not None and override[0] is self:
        return override[1]
    return _original(Table, "all_items")(self)


def _with_items(table: Table, items: list[Item] | None, run: Callable[[], Any]) -> Any:
    if items is None:
        return run()
    _local.items = (table, items)
    try:
        return run()
    finally:
        _local.items = None


def _query(
    self: Table,
    hash_key: Any,
    range_comparison: Any,
    range_objs: Any,
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    *args: Any,
    **kwargs: Any,
) -> Any:
    index_name = args[1] if len(args) > 1 else kwargs.get("index_name")
    items = None
    simple = not set(kwargs) - {
        "index_name",
        "consistent_read",
        "filter_expression",
        "hash_key_conditions",
        "range_key_conditions",
    }
    if index_name and hash_key is not None and simple and len(args) <= 4:
        with _lock:
            view = _view(self, index_name)
            if view is not None:
                items = _query_candidates(
                    self,
                    view,
                    hash_key,
                    range_comparison,
                    range_objs,
                    limit,
                    exclusive_start_key,
                    scan_index_forward,
                )
    original = _original(Table, "query")
    return _with_items(
        self,
        items,
        lambda: original(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            *args,
            **kwargs,
        ),
    )


def _query_candidates(
    table: Table,
    view: _Sorted,
    hash_key: DynamoType,
    comparison: Any,
    objs: list,
    limit: Any,
    start: Any,
    forward: bool,
) -> list[Item] | None:
    entries = view.parts.get(hash_key.cast_value, [])
    region = _region(entries, comparison, [o.cast_value for o in objs or []])
    if region is None:
        return None
    lo, hi = region
    if start:
        if view.range_attr not in start or table.hash_key_attr not in start:
            return None
        at = (DynamoType(start[view.range_attr]).cast_value, _start_key(table, start))
        if forward:
            lo = max(lo, bisect.bisect_right(entries, at, key=_order))
        else:
            hi = min(hi, bisect.bisect_left(entries, at, key=_order))
    # Plus the partition's next item past the condition, if any: moto (like
    # DynamoDB) returns a LastEvaluatedKey when a full page has an item after it.
    if forward is not False:
        positions = [*range(lo, hi), *([hi] if hi < len(entries) else [])]
    else:
        positions = [*range(hi - 1, lo - 1, -1), *([lo - 1] if lo > 0 else [])]
    return _take(table, (entries[i][2] for i in positions), limit, lambda item: True)


def _region(entries: list[tuple], comparison: Any, values: list) -> tuple[int, int] | None:
    """Positions [lo, hi) of the entries whose range value meets the key condition."""

    def left(value: Any) -> int:
        return bisect.bisect_left(entries, value, key=lambda e: e[0])

    def right(value: Any) -> int:
        return bisect.bisect_right(entries, value, key=lambda e: e[0])

    op = (comparison or "").upper()
    try:
        if not op:
            return 0, len(entries)
        if op in ("=", "EQ"):
            return left(values[0]), right(values[0])
        if op in ("<", "LT", "<=", "LE"):
            return 0, (left if op in ("<", "LT") else right)(values[0])
        if op in (">", "GT", ">=", "GE"):
            return (right if op in (">", "GT") else left)(values[0]), len(entries)
        if op == "BETWEEN":
            return left(values[0]), right(values[1])
        if op == "BEGINS_WITH" and isinstance(values[0], str) and values[0]:
            prefix = values[0]
            if ord(prefix[-1]) < 0x10FFFF:
                return left(prefix), left(prefix[:-1] + chr(ord(prefix[-1]) + 1))
    except (IndexError, TypeError):
        pass
    return None  # anything else: moto's own code


def _start_key(table: Table, start: dict[str, Any]) -> tuple:
    hash_value = DynamoType(start[table.hash_key_attr]).cast_value
    if table.range_key_attr and table.range_key_attr in start:
        return hash_value, DynamoType(start[table.range_key_attr]).cast_value
    return (hash_value,)


def _take(table: Table, keys: Iterator[tuple], limit: Any, counts: Callable[[Item], bool]) -> list:
    """Items in order until moto has one more than a page (by count or by size)."""
    found: list[Item] = []
    counted = size = 0
    for hash_key, range_key in keys:
        item = table.get_item(hash_key, range_key)
        if item is None:
            continue
        found.append(item)
        if counts(item):
            counted += 1
            size += item.size()
            if (limit and counted > limit) or size > RESULT_SIZE_LIMIT:
                break
    return found


def _scan(
    self: Table, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any
) -> Any:
    index_name = args[1] if len(args) > 1 else kwargs.get("index_name")
    segments = kwargs.get("segments", (None, None))
    items = None
    if not index_name and not filters and len(args) <= 4:
        with _lock:
            view = _view(self, None)
            entries = view.parts.get(None, []) if view else []
            lo = 0
            if exclusive_start_key:
                at = (None, _start_key(self, exclusive_start_key))
                lo = bisect.bisect_right(entries, at, key=_order)
            keys = (entries[i][2] for i in range(lo, len(entries)))
            items = _take(self, keys, limit, lambda item: item.is_within_segment(segments))
    original = _original(Table, "scan")
    return _with_items(
        self, items, lambda: original(self, filters, limit, exclusive_start_key, *args, **kwargs)
    )
