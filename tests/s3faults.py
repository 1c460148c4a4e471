"""S3 refusing requests the way AWS does, on a real (moto) client: the error
response goes through botocore's own parsing, so codes and messages arrive as
the handlers would see them from S3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from botocore.awsrequest import AWSResponse

# What S3 answers a GetObject without the customer key of an SSE-C object.
SSE_C_MESSAGE = (
    "The object was stored using a form of Server Side Encryption. "
    "The correct parameters must be provided to retrieve the object."
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def refuse(
    client: Any,
    key: str,
    status: int,
    code: str,
    message: str,
    operations: tuple[str, ...] = ("GetObject", "HeadObject"),
) -> None:
    """Make `client` receive an S3 error for `key` on `operations` (HEAD: no body)."""
    path = "/" + quote(key, safe="/~")

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if not request.url.split("?")[0].endswith(path):
            return None
        body = (
            b""
            if request.method == "HEAD"
            else (
                f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>"
            ).encode()
        )
        return AWSResponse(request.url, status, {"content-type": "application/xml"}, _Raw(body))

    for operation in operations:
        client.meta.events.register(f"before-send.s3.{operation}", answer)
