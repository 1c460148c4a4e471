"""The reconcile function's payload and its resume point, parsed strictly.

`{"force": "false"}` must not turn force on (`bool("false")` is True), and a
resume point passed back by hand must not start a half-remembered job: every
field has one JSON type, unknown fields are refused, and the error says what
is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.keys import MAX_KEY_BYTES

PHASES = ("objects", "records", "counters", "facets")


class InvalidPayloadError(ValueError):
    """A reconcile payload that cannot be run as given."""


@dataclass
class Position:
    """Where a reconcile stands: a phase, the last key it finished, what it carries.

    `counts` and `versions` belong to the counters phase: the per-shard counts
    of the records scanned so far, and each shard's version when the count
    began (a shard written to since then is not overwritten).
    """

    phase: str = "objects"
    after: str = ""
    force: bool = False
    counts: dict[int, dict[str, Any]] = field(default_factory=dict)
    versions: dict[int, int | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"phase": self.phase, "after": self.after, "force": self.force}
        if self.phase == "counters":
            data["counts"] = {str(n): counts for n, counts in self.counts.items()}
            data["versions"] = {str(n): version for n, version in self.versions.items()}
        return data


def parse_payload(event: Any, shards: int) -> Position:
    """The position to start from: `{}`, `{"start_after", "force"}` or `{"resume": ...}`."""
    if event is None:
        event = {}
    if not isinstance(event, dict):
        raise InvalidPayloadError("the payload must be a JSON object")
    _only(event, {"start_after", "force", "resume"}, "the payload")
    if "resume" in event:
        if set(event) != {"resume"}:
            raise InvalidPayloadError("resume is given alone: it carries start_after and force")
        return _position(event["resume"], shards)
    return Position(
        after=_key(event.get("start_after", ""), "start_after"),
        force=_boolean(event.get("force", False), "force"),
    )


def parse_job_payload(event: Any) -> tuple[int, bool] | None:
    """(parallel, force) when the payload asks for a job (`{"parallel": N}`), else None."""
    if not isinstance(event, dict) or "parallel" not in event:
        return None
    _only(event, {"parallel", "force"}, "a job's payload")
    parallel = event["parallel"]
    if not isinstance(parallel, int) or isinstance(parallel, bool) or parallel < 1:
        raise InvalidPayloadError(f"parallel must be a positive integer, got {parallel!r}")
    return parallel, _boolean(event.get("force", False), "force")


def _position(data: Any, shards: int) -> Position:
    if not isinstance(data, dict):
        raise InvalidPayloadError("resume must be the JSON object a report returned")
    _only(data, {"phase", "after", "force", "counts", "versions"}, "resume")
    phase = data.get("phase")
    if phase not in PHASES:
        raise InvalidPayloadError(f"resume.phase must be one of {', '.join(PHASES)}")
    position = Position(
        phase, _key(data.get("after", ""), "resume.after"), _boolean(data.get("force"), "force")
    )
    if phase == "counters":
        counts, versions = data.get("counts"), data.get("versions")
        expected = {str(n) for n in range(shards)}
        if not (isinstance(counts, dict) and isinstance(versions, dict)):
            raise InvalidPayloadError("resume of the counters phase needs counts and versions")
        if set(counts) != expected or set(versions) != expected:
            raise InvalidPayloadError(
                f"resume.counts and resume.versions must name shards 0 to {shards - 1} "
                "(IMAGES_COUNTER_SHARDS changed? start over)"
            )
        for n in expected:
            shard = counts[n]
            if not isinstance(shard, dict) or not all(
                isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
                for v in shard.values()
            ):
                raise InvalidPayloadError("resume.counts must hold numbers and MIME labels")
            version = versions[n]
            if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
                raise InvalidPayloadError("resume.versions must hold integers or null")
        position.counts = {int(n): dict(counts[n]) for n in expected}
        position.versions = {int(n): versions[n] for n in expected}
    elif "counts" in data or "versions" in data:
        raise InvalidPayloadError("counts and versions belong to the counters phase only")
    return position


def _only(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidPayloadError(
            f"{where} has an unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayloadError(f"{name} must be true or false (a JSON boolean), got {value!r}")
    return value


def _key(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidPayloadError(f"{name} must be a string (an S3 key), got {value!r}")
    try:
        too_long = len(value.encode("utf-8")) > MAX_KEY_BYTES
    except UnicodeEncodeError:
        raise InvalidPayloadError(f"{name} is not valid UTF-8") from None
    if too_long:
        raise InvalidPayloadError(f"{name} is longer than {MAX_KEY_BYTES} bytes")
    return value
