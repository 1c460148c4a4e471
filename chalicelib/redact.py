"""Fields left out of every API response (`IMAGES_REDACT`), while they stay stored.

A deployed stage may be open (`dev` has no API key): its listing would show
where every photo was taken and which camera body (by serial number) took it.
`IMAGES_REDACT` names what the API must not serve: presets and field paths,
comma-separated.

- `location`: `gps` and every `exif.GPS*` tag;
- `serials`: `camera.serial` and every `exif.*SerialNumber` tag;
- any path of record fields separated by dots, `*` matching within one name
  (`exif.Artist`, `xmp.creator`, `iptc.*`). The first name must be a record
  field (or a pattern): a typo must not quietly serve what it meant to hide.

A redacted field is left out (not set to null): `null` keeps meaning "the
file does not say". Records stay complete in the table, so turning the
setting off serves them again without re-extraction.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from chalicelib.extraction.fields import FIELDS

# The top-level fields of a record (S3 facts, the outcome, the extraction's fields).
RECORD_FIELDS = frozenset(
    (
        "s3objectkey", "size", "etag", "last_modified", "content_type", "extension",
        "extracted_at", "status", "error", "format", "mime_type", "width", "height", "mode",
        "exif", "xmp", "iptc", "warnings", *FIELDS,
    )
)  # fmt: skip
PRESETS = {
    "location": ("gps", "exif.GPS*"),
    "serials": ("camera.serial", "exif.*SerialNumber"),
}
_PATH = re.compile(r"[A-Za-z0-9_*]{1,64}(\.[A-Za-z0-9_*]{1,64}){0,3}")


class InvalidRedactionError(ValueError):
    """An IMAGES_REDACT value that names no preset and no field path."""


def parse_redact(raw: str) -> tuple[str, ...]:
    """The field paths an `IMAGES_REDACT` value stands for (presets expanded)."""
    paths: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item in PRESETS:
            paths += PRESETS[item]
        elif _PATH.fullmatch(item) and (
            "*" in item.split(".")[0] or item.split(".")[0] in RECORD_FIELDS
        ):
            paths.append(item)
        else:
            raise InvalidRedactionError(
                f"IMAGES_REDACT: {item!r} is neither a preset ({', '.join(PRESETS)}) nor a "
                "field path such as exif.Artist"
            )
    return tuple(dict.fromkeys(paths))


def redact(record: dict[str, Any] | None, paths: tuple[str, ...]) -> dict[str, Any] | None:
    """A copy of `record` without the fields `paths` name (the record itself is untouched)."""
    if not record or not paths:
        return record
    return _without(record, [path.split(".") for path in paths])


def _without(value: dict[str, Any], rules: list[list[str]]) -> dict[str, Any]:
    kept = {}
    for key, item in value.items():
        if any(len(rule) == 1 and fnmatchcase(key, rule[0]) for rule in rules):
            continue
        deeper = [rule[1:] for rule in rules if len(rule) > 1 and fnmatchcase(key, rule[0])]
        kept[key] = _without(item, deeper) if deeper and isinstance(item, dict) else item
    return kept
