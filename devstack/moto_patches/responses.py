"""DynamoDB item requests read and answered as JSON directly, not by moto's generic (de)serializer.

moto 5.2 turns every answer into the wire format by walking the operation's
output shape from botocore's service model, member by member, trying several
spellings of each key; for an item-heavy answer (BatchGetItem, Query, GetItem)
that walk costs more than finding the items. DynamoDB's JSON protocol needs
almost nothing of it: the answer moto builds is already the response body
(AttributeValue maps and plain structures), except that binary values are
base64 text on the wire. Here the answers of the item reads and writes below
are dumped with `json.dumps`, binary values encoded; only the top level is
filtered by the output shape, as the serializer does, and the headers are the
serializer's. Anything unusual (an error, a value that is not plain JSON data,
binary data held as text) goes to moto's own serializer.

The requests of the same operations are read the same way: `json.loads`,
binary values decoded from base64, the top level filtered by the input shape
(moto's `RequestParser` walks the shape member by member, ~10% of an
event's time in the emulator); anything else goes to moto's parser.

Upstream, a JSON-protocol shortcut in moto's `BaseJSONSerializer` and
`JSONParser` for data that is already plain JSON would make this module
unnecessary.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import moto.core.responses as moto_responses
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from devstack.moto_patches.patching import Patches

patches = Patches()
CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's jsonVersion
FAST = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_members: dict[tuple[str, str], frozenset[str]] = {}  # (operation, input/output) -> members


class _NotPlain(Exception):
    """The answer holds something only moto's serializer knows how to write."""


def install() -> None:
    patches.apply(
        {
            (DynamoHandler, "serialized"): _serialized,
            (DynamoHandler, "parse_parameters"): _parse_parameters,
        }
    )


def _parse_parameters(self: DynamoHandler, request: Any) -> None:
    stock = patches.original(DynamoHandler, "parse_parameters")
    action = self._get_action()
    if action not in FAST:
        return stock(self, request)
    try:
        body = json.loads(request.data or b"{}")
        if not isinstance(body, dict):
            raise _NotPlain("not an object")
        members = _shape_members(self, action, "input")
        self.params = {k: _read(v) for k, v in body.items() if k in members and v is not None}
    except (ValueError, _NotPlain):  # includes bad JSON and bad base64
        return stock(self, request)
    return None


def _shape_members(self: DynamoHandler, action: str, which: str) -> frozenset[str]:
    members = _members.get((action, which))
    if members is None:
        model = moto_responses.get_service_model(self.boto3_service_name).operation_model(action)
        shape = model.input_shape if which == "input" else model.output_shape
        members = _members[action, which] = frozenset(shape.members)
    return members


def _read(value: Any) -> Any:
    """Request JSON as moto's parser leaves it: binary values decoded from base64."""
    if isinstance(value, dict):
        if len(value) == 1:
            kind = next(iter(value))
            if kind == "B":
                return {"B": _unblob(value["B"])}
            if kind == "BS" and isinstance(value["BS"], list):
                return {"BS": [_unblob(b) for b in value["BS"]]}
        return {k: _read(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_read(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return value
    raise _NotPlain(type(value).__name__)


def _unblob(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _NotPlain("binary value that is not base64 text")
    return base64.b64decode(value, validate=True)


def _serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
    stock = patches.original(DynamoHandler, "serialized")
    action = self._get_action()
    if action not in FAST or type(action_result) not in (ActionResult, DynamoResult):
        return stock(self, action_result)
    result = action_result.result
    if not isinstance(result, dict):
        return stock(self, action_result)
    members = _shape_members(self, action, "output")
    try:
        body = {k: _plain(v) for k, v in result.items() if k in members and v is not None}
    except _NotPlain:
        return stock(self, action_result)
    headers = {"Content-Type": CONTENT_TYPE}
    headers.update(self.response_headers)
    return 200, headers, json.dumps(body)


def _plain(value: Any) -> Any:
    """`value` as JSON-ready data, binary values base64-encoded as the wire has them."""
    if isinstance(value, dict):
        if len(value) == 1:
            kind = next(iter(value))
            if kind == "B":
                return {"B": _blob(value["B"])}
            if kind == "BS":
                return {"BS": [_blob(b) for b in value["BS"]]}
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return value
    raise _NotPlain(type(value).__name__)


def _blob(value: Any) -> str:
    if not isinstance(value, bytes):
        raise _NotPlain("binary data held as text")
    return base64.b64encode(value).decode("ascii")
