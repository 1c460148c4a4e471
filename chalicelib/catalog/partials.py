"""A reconcile job's partial tallies, kept in the table between its workers.

A tally piece (Scan segment s, after the item `after`) writes its parts as
data items `rjd#<job>#<run>#<part>#<i>` (the part's bytes in chunks below
DynamoDB's 400 KB item limit; `run` is random per attempt, so two attempts
never mix their chunks), then its head `rjh#<job>#<s>#<after>` naming the run,
the chunks of each part and where the segment goes on (`end`), with a
condition that no head exists yet: the first attempt to finish wins, a
redelivered or duplicated piece finds the head and adds nothing. A merge
follows each segment's heads from `after` = "" (one chain, whatever the
duplicates) and reads the chunks of its part. Everything expires by TTL.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.catalog.batch import get_items
from chalicelib.catalog.layout import decode, encode

HEAD_PREFIX = "rjh#"
DATA_PREFIX = "rjd#"
CHUNK_BYTES = 350_000  # DynamoDB's item limit is 400 KB, key and names included
BATCH = 25  # BatchWriteItem's limit


class MissingPieceError(RuntimeError):
    """A segment's chain of pieces is broken (its items expired, or were removed)."""


class PartialStore:
    def __init__(self, client: Any, table: str, expires_at: int) -> None:
        self._client = client
        self._table = table
        self._expires_at = expires_at

    def head(self, job: str, segment: int, after: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": _head_pk(job, segment, after)}},
            ConsistentRead=True,
        )
        return decode(response["Item"]) if "Item" in response else None

    def write_piece(
        self, job: str, segment: int, after: str, end: str | None, parts: dict[str, bytes]
    ) -> tuple[dict[str, Any], bool]:
        """Store one piece's parts; (the head that counts, whether it is this one's)."""
        run = secrets.token_hex(6)
        chunks = {name: self.write_blob(f"{job}#{run}#{name}", b) for name, b in parts.items()}
        head = {
            "pk": _head_pk(job, segment, after),
            "run": run,
            "end": end or "",
            "done": end is None,
            "chunks": chunks,
            "expires_at": self._expires_at,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=encode(head),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return head, True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        winner = self.head(job, segment, after)
        if winner is None:  # expired in between: cannot happen within a job's life
            raise MissingPieceError(f"piece {segment} after {after!r} vanished")
        return winner, False

    def chain(self, job: str, segment: int, name: str) -> Iterator[bytes]:
        """The bytes of part `name` of every piece of a finished segment, in order."""
        after = ""
        while True:
            head = self.head(job, segment, after)
            if head is None:
                raise MissingPieceError(f"tally segment {segment} has no piece after {after!r}")
            chunks = int(head["chunks"].get(name, 0))
            if chunks:
                yield self.read_blob(f"{job}#{head['run']}#{name}", chunks)
            if head["done"]:
                return
            after = head["end"]

    def write_blob(self, name: str, data: bytes) -> int:
        """Store `data` in chunks under `name`; returns how many."""
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        items = [
            {"pk": f"{DATA_PREFIX}{name}#{i}", "b": piece, "expires_at": self._expires_at}
            for i, piece in enumerate(pieces)
        ]
        for start in range(0, len(items), BATCH):
            request = {
                self._table: [
                    {"PutRequest": {"Item": encode(item)}} for item in items[start : start + BATCH]
                ]
            }
            while request:  # unprocessed items appear only under throttling
                response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or None
        return len(pieces)

    def read_blob(self, name: str, chunks: int) -> bytes:
        pks = [f"{DATA_PREFIX}{name}#{i}" for i in range(chunks)]
        found = get_items(self._client, self._table, pks, consistent=True)
        if len(found) != chunks:
            raise MissingPieceError(f"{name}: {chunks - len(found)} of {chunks} chunks missing")
        return b"".join(bytes(getattr(found[pk]["b"], "value", found[pk]["b"])) for pk in pks)


def _head_pk(job: str, segment: int, after: str) -> str:
    return f"{HEAD_PREFIX}{job}#{segment}#{after}"
