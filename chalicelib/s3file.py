"""A seekable, read-only file over S3 ranged GETs.

Image metadata lives in the first kilobytes of a file, so the extractor reads
through this object instead of downloading the whole image: it fetches aligned
blocks on demand, keeps them cached, and counts requests and bytes for logging
and benchmarks.
"""

from __future__ import annotations

import io
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

BLOCK_SIZE = 64 * 1024
MAX_CACHED_BLOCKS = 256  # bounds memory at 16 MiB whatever a parser asks for
# A parser walking on past the cached blocks (a third read in a row, each where the last
# ended) gets, in the same request, as much again as it had come before this read (at
# most this much): a header that outgrows the first block costs a few requests, not one
# per block, and at most about twice its size.
MAX_READ_AHEAD = 1024 * 1024
WALKING_READS = 2  # reads in a row, each where the last ended, before reading ahead

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ObjectChangedError(Exception):
    """The object no longer matches the expected ETag, or is gone."""


class UnreadableObjectError(Exception):
    """The object is there but its bytes cannot be read, and retrying will not help.

    `archived`: it must be restored first (GLACIER, DEEP_ARCHIVE, the archive
    tiers of INTELLIGENT_TIERING); otherwise the service may not read it (a KMS
    key it may not use, a customer-provided key it does not have).
    """

    def __init__(self, reason: str, archived: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.archived = archived


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    last_modified: datetime | None
    content_type: str | None


class S3RangeFile(io.RawIOBase):
    """File-like view of one S3 object; only the blocks that are read get fetched.

    With `if_match`, every GET carries `IfMatch` so that all bytes come from the
    same object version; a newer upload makes reads raise ObjectChangedError.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        if_match: str | None = None,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        # S3 compares entity tags in their quoted HTTP form.
        self._if_match = f'"{if_match.strip(chr(34))}"' if if_match else None
        self._block_size = block_size
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self._last_end = -1  # where the last read ended: a read from there reads on
        self._sequential_reads = 0
        self.requests = 0
        self.bytes_read = 0
        # Parsers may swallow read errors and report a "corrupt" file; callers
        # check this after parsing so that S3 trouble is never mistaken for
        # a bad image.
        self.failure: Exception | None = None
        self.info = self._fetch_first_block()

    # --- io.RawIOBase interface -------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.info.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self.info.size)
        if end <= self._pos:
            return 0
        data = self._read_range(self._pos, end)
        view[: len(data)] = data
        self._advance(len(data))
        return len(data)

    def read(self, size: int = -1) -> bytes:
        end = self.info.size if size is None or size < 0 else min(self._pos + size, self.info.size)
        if end <= self._pos:
            return b""
        data = self._read_range(self._pos, end)
        self._advance(len(data))
        return data

    def _advance(self, size: int) -> None:
        """Move on after a read, counting reads that each start where the last one ended."""
        self._sequential_reads = self._sequential_reads + 1 if self._pos == self._last_end else 0
        self._pos += size
        self._last_end = self._pos

    def prefetch(self, offset: int, size: int) -> None:
        """Fetch the missing blocks of [offset, offset + size) in one request, for a parser
        that knows what it will read next (a run of ICC chunks, Photoshop segments)."""
        end = min(offset + size, self.info.size)
        first, last = offset // self._block_size, (end - 1) // self._block_size
        missing = [i for i in range(first, last + 1) if i not in self._blocks]
        if offset < end and missing and len(missing) <= MAX_CACHED_BLOCKS // 2:
            for i, chunk in self._fetch_blocks(missing[0], missing[-1]).items():
                self._blocks.setdefault(i, chunk)
            while len(self._blocks) > MAX_CACHED_BLOCKS:
                self._blocks.popitem(last=False)

    # --- block cache --------------------------------------------------------
    def _read_range(self, start: int, end: int) -> bytes:
        first, last = start // self._block_size, (end - 1) // self._block_size
        missing = [i for i in range(first, last + 1) if i not in self._blocks]
        fetched: dict[int, bytes] = {}
        if missing:
            # One request for the whole missing span: fewer round trips beat
            # refetching the few cached blocks inside it. Metadata often sits at
            # the very end (WebP EXIF/XMP, PNG text): take the last block along
            # when the span stops just short of it.
            final = (self.info.size - 1) // self._block_size
            stop = final if missing[-1] == final - 1 and final not in self._blocks else missing[-1]
            walking = start == self._last_end and self._sequential_reads >= WALKING_READS
            if walking and missing[0] - 1 in self._blocks:
                # A parser walking on through the object (a JPEG's segments): read ahead as
                # far again as it had come.
                reach = end + min(start, MAX_READ_AHEAD)
                stop = max(stop, min(final, -(-reach // self._block_size) - 1))
            fetched = self._fetch_blocks(missing[0], stop)
        chunks = [fetched[i] if i in fetched else self._blocks[i] for i in range(first, last + 1)]
        for i, chunk in enumerate(chunks, start=first):
            self._blocks[i] = chunk
            self._blocks.move_to_end(i)
        for i in fetched.keys() - range(first, last + 1):
            self._blocks[i] = fetched[i]
        while len(self._blocks) > MAX_CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        data = b"".join(chunks)
        offset = start - first * self._block_size
        return data[offset : offset + (end - start)]

    def _fetch_blocks(self, first: int, last: int) -> dict[int, bytes]:
        start = first * self._block_size
        end = min((last + 1) * self._block_size, self.info.size) - 1
        body, _ = self._get(start, end)
        size = self._block_size
        return {
            i: body[(i - first) * size : (i - first + 1) * size] for i in range(first, last + 1)
        }

    def _fetch_first_block(self) -> ObjectInfo:
        try:
            body, response = self._get(0, self._block_size - 1)
        except ClientError as error:
            if _error_code(error) != "InvalidRange":
                raise
            # Only an empty object has no byte 0 to range over.
            return self._head_empty_object()
        match = _CONTENT_RANGE.match(response.get("ContentRange", ""))
        size = int(match.group(3)) if match and match.group(3) != "*" else len(body)
        self._blocks[0] = body
        return _object_info(response, size)

    def _head_empty_object(self) -> ObjectInfo:
        kwargs = {"Bucket": self._bucket, "Key": self._key}
        if self._if_match:
            kwargs["IfMatch"] = self._if_match
        self.requests += 1
        try:
            response = self._client.head_object(**kwargs)
        except ClientError as error:
            raise _translate(error) from error
        return _object_info(response, int(response.get("ContentLength", 0)))

    def _get(self, start: int, end: int) -> tuple[bytes, dict]:
        kwargs = {"Bucket": self._bucket, "Key": self._key, "Range": f"bytes={start}-{end}"}
        if self._if_match:
            kwargs["IfMatch"] = self._if_match
        self.requests += 1
        try:
            response = self._client.get_object(**kwargs)
            body = response["Body"].read()
        except ClientError as error:
            if _error_code(error) == "InvalidRange" and start == 0:
                raise
            self.failure = _translate(error)
            raise self.failure from error
        except Exception as error:
            self.failure = error
            raise
        self.bytes_read += len(body)
        return body, response


def _object_info(response: dict, size: int) -> ObjectInfo:
    return ObjectInfo(
        size=size,
        etag=response.get("ETag", "").strip('"'),
        last_modified=response.get("LastModified"),
        content_type=response.get("ContentType"),
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _translate(error: ClientError) -> Exception:
    code = _error_code(error)
    if code in ("PreconditionFailed", "412", "NoSuchKey", "404", "NotFound"):
        return ObjectChangedError(f"{code}: the object changed or was deleted")
    return unreadable(error) or error


def unreadable(error: ClientError) -> UnreadableObjectError | None:
    """What a GET's error says about an object that cannot be read, or None.

    None for everything else (throttling, 5xx, timeouts, ...): those are
    transient, and the caller raises so that Lambda retries.
    """
    code = _error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code == "InvalidObjectState":
        # S3 names the storage class (and the Intelligent-Tiering tier) in the error.
        details = error.response.get("Error", {})
        where = " ".join(
            str(details[name]) for name in ("StorageClass", "AccessTier") if details.get(name)
        )
        return UnreadableObjectError(
            f"the object is archived ({where or 'archive storage class'}) and must be "
            "restored before it can be read",
            archived=True,
        )
    if code.startswith("KMS.") or (code in ("AccessDenied", "403") and "kms" in message.lower()):
        return UnreadableObjectError(
            f"the object is encrypted with a KMS key the service may not use ({code})"
        )
    if code in ("AccessDenied", "403"):
        return UnreadableObjectError(
            "the service is not allowed to read the object (access denied: its KMS key "
            "or a bucket policy refuses this function's role)"
        )
    if code == "InvalidRequest" and "encryption" in message.lower():
        return UnreadableObjectError(
            "the object is encrypted with a customer-provided key (SSE-C), which the "
            "service does not have"
        )
    return None
