"""Read the object once: spool it (RAM, then /tmp) while hashing it, within a byte limit."""

from __future__ import annotations

import hashlib
import tempfile
from typing import BinaryIO

CHUNK = 1024 * 1024
# Up to this much stays in memory; a bigger object goes to /tmp, so that a
# 100 MB upload is never held in RAM next to its decoded pixels.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class TooBig(Exception):
    """The object is larger than the byte limit (reading stopped there)."""


def spool(stream: BinaryIO, max_bytes: int) -> tuple[tempfile.SpooledTemporaryFile, str]:
    """A seekable copy of `stream` positioned at 0, and the SHA-256 of its bytes (hex).

    Raises TooBig as soon as more than `max_bytes` have been read.
    """
    digest = hashlib.sha256()
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    total = 0
    try:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise TooBig(f"more than {max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, digest.hexdigest()
