"""`make upload FILES="a.jpg 'my photo.jpg'"` / `python -m devstack upload FILE...`

Uploads each file to the running local stack as a browser or any client does:
`POST /uploads` with the file's name and type returns a presigned S3 form,
the file is posted to S3 with it (the bytes never pass through the API),
then `GET /images?s3objectkey=` is polled until the record is there (202
while pending). One line per file: its key, status and main fields, or why
it failed. The exit code is 1 if any file failed.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import requests

from chalicelib.extraction.sniff import sniff_mime
from devstack import state

WAIT_SECONDS = 60


class UploadError(Exception):
    """This file could not be uploaded; the message is the line to show."""


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: make upload FILES=\"photo.jpg 'my photo.jpg'\"", file=sys.stderr)
        return 2
    try:
        stack = state.find()
    except state.NoStackError as error:
        print(f"upload: {error}", file=sys.stderr)
        return 2
    session = requests.Session()
    failed = 0
    for name in argv:
        try:
            print(f"{name}: {describe(upload(session, stack.api, Path(name)))}", flush=True)
        except UploadError as error:
            failed += 1
            print(f"{name}: {error}", file=sys.stderr, flush=True)
    return 1 if failed else 0


def upload(session: requests.Session, api: str, path: Path) -> dict[str, Any]:
    """Upload one file through the API's presigned form; returns its record."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UploadError(f"cannot read it ({error.strerror})") from None
    content_type = content_type_of(path, data)
    if not content_type.startswith("image/"):
        raise UploadError(f"not an image ({content_type}): only image files are indexed")
    request = {"filename": path.name, "content_type": content_type}
    form = _call(session.post, f"{api}/uploads", json=request)
    limit = _size_limit(form["fields"])
    if limit is not None and len(data) > limit:
        raise UploadError(f"too big: {len(data):,} bytes, the limit is {limit:,}")
    try:
        sent = session.post(
            form["url"], data=form["fields"], files={"file": (path.name, data)}, timeout=120
        )
    except requests.RequestException:
        raise UploadError(f"cannot reach the bucket at {form['url']}") from None
    if sent.status_code >= 300:
        raise UploadError(f"the bucket refused it: {_s3_error(sent)}")
    return _wait_for_record(session, api, form["s3objectkey"])


def content_type_of(path: Path, data: bytes) -> str:
    """What the bytes say (a photo without its extension is still a JPEG), else the name."""
    guessed = sniff_mime(data[:4096]) or mimetypes.guess_type(path.name)[0]
    return guessed or "application/octet-stream"


def describe(record: dict[str, Any]) -> str:
    """One line: key, status and the fields a person looks at first."""
    parts = [record["s3objectkey"], record.get("status", "?")]
    if record.get("status") == "ok":
        parts.append(f"{record.get('format')} {record.get('width')}x{record.get('height')}")
        camera = record.get("camera") or {}
        model = " ".join(v for v in (camera.get("make"), camera.get("model")) if v)
        if model:
            parts.append(model)
        if record.get("taken_at"):
            parts.append(f"taken {record['taken_at']}")
        if record.get("gps"):
            parts.append(f"at {record['gps']['latitude']}, {record['gps']['longitude']}")
    elif record.get("reason") or record.get("error"):
        parts.append(str(record.get("reason") or record.get("error")))
    return "  ".join(str(p) for p in parts)


def _call(method: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = method(url, timeout=30, **kwargs)
    except requests.RequestException:
        raise UploadError(f"the service does not answer at {url}") from None
    if response.status_code >= 400:
        try:
            message = response.json().get("Message") or response.text
        except ValueError:
            message = response.text.strip()[:200]
        raise UploadError(f"refused: {message}")
    return response.json()


def _size_limit(fields: dict[str, str]) -> int | None:
    """The `content-length-range` the presigned policy allows (S3 enforces it too)."""
    try:
        policy = json.loads(base64.b64decode(fields["policy"]))
    except (KeyError, ValueError):
        return None
    for condition in policy.get("conditions", []):
        if isinstance(condition, list) and condition[:1] == ["content-length-range"]:
            return int(condition[2])
    return None


def _s3_error(response: requests.Response) -> str:
    try:
        root = ElementTree.fromstring(response.content)
        return f"{root.findtext('Code')}: {root.findtext('Message')}"
    except ElementTree.ParseError:
        return f"HTTP {response.status_code}"


def _wait_for_record(session: requests.Session, api: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            response = session.get(f"{api}/images", params={"s3objectkey": key}, timeout=30)
        except requests.RequestException:
            raise UploadError(f"uploaded as {key}, then the service stopped answering") from None
        if response.status_code == 200:
            return response.json()
        if response.status_code != 202 or time.monotonic() > deadline:
            raise UploadError(f"uploaded as {key}, but no record after {WAIT_SECONDS}s")
        time.sleep(0.2)
