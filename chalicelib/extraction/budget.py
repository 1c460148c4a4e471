"""A read budget around a binary file: parsers may read at most N bytes.

Every header parser (Pillow's and ours) reads through this wrapper, so that no
input, however hostile (a TIFF tag claiming the whole file, a JPEG made of a
million markers, a box size pointing past the end), can make extraction read
more than a fixed number of bytes from S3 or hold them in memory.
"""

from __future__ import annotations

import io
from typing import BinaryIO

# Real headers are far smaller (a camera JPEG's is about 70 KiB; a heavily
# edited Photoshop JPEG's XMP and ICC reach a few MiB).
MAX_HEADER_BYTES = 8 * 1024 * 1024
# Parsers that read byte by byte (Pillow's JPEG marker scan) cost CPU per call,
# not per byte: a file of a million empty markers must not take a minute.
# Real headers need well under a thousand reads.
MAX_READ_CALLS = 100_000


class HeaderTooLargeError(Exception):
    """The parsers wanted more bytes than the budget allows.

    Deliberately not an OSError: Pillow swallows OSError in places (TIFF tag
    loading) and would go on reading.
    """


class BudgetedReader:
    """Read-only, seekable view of `fp` that refuses to read past a byte budget."""

    def __init__(
        self, fp: BinaryIO, budget: int = MAX_HEADER_BYTES, max_calls: int = MAX_READ_CALLS
    ) -> None:
        self._fp = fp
        self.remaining = budget
        self.budget = budget
        self.calls_left = max_calls
        self._size: int | None = None

    @property
    def size(self) -> int:
        """Total size of the file (seeking to the end reads nothing)."""
        if self._size is None:
            here = self._fp.tell()
            self._size = self._fp.seek(0, io.SEEK_END)
            self._fp.seek(here)
        return self._size

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(self.size - self._fp.tell(), 0)
        if size > self.remaining:
            raise HeaderTooLargeError(f"the header needs more than {self.budget} bytes")
        self.calls_left -= 1
        if self.calls_left < 0:
            raise HeaderTooLargeError("the header needs too many reads")
        data = self._fp.read(size)
        self.remaining -= len(data)
        return data

    def read_at(self, offset: int, size: int) -> bytes:
        """`size` bytes at `offset` (fewer at the end of the file)."""
        self._fp.seek(offset)
        return self.read(size)

    def prefetch(self, offset: int, size: int) -> None:
        """Tell a remote file what will be read next, so it can fetch it in one request.

        Only as much as the budget still allows; files without the hint ignore it.
        """
        hint = getattr(self._fp, "prefetch", None)
        if hint is not None and 0 < size <= self.remaining:
            hint(offset, size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return False

    def close(self) -> None:
        """The caller owns the underlying file; closing the view does nothing."""


class Window:
    """The part of a BudgetedReader from `offset` on, seen as a file of its own.

    For images embedded in others (the JPEG preview of a Fujifilm RAF): the
    embedded image's reader sees offsets from its own start, and every read
    still counts against the outer budget.
    """

    def __init__(self, reader: BudgetedReader, offset: int, size: int) -> None:
        self._reader = reader
        self._offset = offset
        self.size = max(0, min(size, reader.size - offset))
        self._pos = 0

    @property
    def remaining(self) -> int:
        return self._reader.remaining

    def read(self, size: int | None = -1) -> bytes:
        left = max(self.size - self._pos, 0)
        size = left if size is None or size < 0 else min(size, left)
        data = self._reader.read_at(self._offset + self._pos, size)
        self._pos += len(data)
        return data

    def read_at(self, offset: int, size: int) -> bytes:
        self._pos = offset
        return self.read(size)

    def prefetch(self, offset: int, size: int) -> None:
        self._reader.prefetch(self._offset + offset, min(size, max(self.size - offset, 0)))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos
