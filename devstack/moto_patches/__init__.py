"""In-process patches of moto for the local stack's emulator, so it stays fast at 100,000 images.

Stock moto (5.x) makes the local stack slow down with its contents: every
event's DynamoDB transaction copies the whole table, index queries and scans
sort the whole table, and every SQS receive or delete walks the whole queue.
Each module here changes only those code paths and leaves the answers to
moto's own code:

- `dynamodb`: transactions snapshot only the items they touch; index queries
  and scans are handed only the items their page can hold; writes serialized.
- `sqs`: receive looks at the head of the queue, delete at the in-flight
  messages, the retention check reads one attribute.
- `routing`: which service a request is for is worked out once per host.
- `expressions`, `validation`, `responses`: each DynamoDB expression parsed
  and its expression-only checks run once, not per request; item requests and
  answers read and written as JSON instead of through the generic parser and
  serializer.

`install()` runs in the emulator process (`python -m devstack.emulator`),
never in Lambda; the tests' in-process moto stays stock except where a test
installs the patches for its own duration (the search tests, which query
indexes page by page). tests/devstack/test_moto_patches*.py fail if a moto
upgrade makes any patch stop applying or change an answer;
docs/moto-upstream.md is the proposal to fix this upstream.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devstack.moto_patches import dynamodb, expressions, responses, routing, sqs, validation

_MODULES = (dynamodb, expressions, validation, responses, sqs, routing)


def install() -> None:
    """Patch moto in this process (idempotent)."""
    for module in _MODULES:
        module.install()


def uninstall() -> None:
    """Stock moto again (for tests)."""
    for module in reversed(_MODULES):
        module.patches.undo()


@contextmanager
def installed() -> Iterator[None]:
    """The patches for the duration of a `with` block, then stock moto (tests)."""
    install()
    try:
        yield
    finally:
        uninstall()
