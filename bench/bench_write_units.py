"""Write units of a created event as DynamoDB bills them: record packed in `doc` vs plain.

moto reports a constant `ConsumedCapacity`, so this computes what DynamoDB
would bill from the items the catalog writes (tests/capacity.py: the
documented item-size rules; one unit per started KB, twice in a transaction):
the record and its counter shard, and the whole TransactWriteItems as
`catalog.writes` builds it for a new key (with the search index items and
facet values; their Updates counted as items under 1 KB): for the first image
with its facet values, and in a big collection where every value is already
counted (no presence or distinct change), with the items read before it; plus the GSI writes
the record item causes (by_key projects every attribute, by_size a few).
Side by side: the layout before (every field a plain attribute) and now.

Run: .venv/bin/python bench/bench_write_units.py
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from capacity import item_size, write_units  # noqa: E402
from images import image_bytes, jpeg_with_exif, png_with_alpha, rich_jpeg  # noqa: E402

from chalicelib.catalog import writes  # noqa: E402
from chalicelib.catalog.layout import encode, record_attributes  # noqa: E402
from chalicelib.catalog.records import to_dynamo  # noqa: E402
from chalicelib.extraction.extract import extract_metadata  # noqa: E402
from chalicelib.ingest import build_record  # noqa: E402
from chalicelib.s3file import ObjectInfo  # noqa: E402

KEY = "uploads/2024/05/IMG_20240517_103015.jpg"
SAMPLES = {
    "camera JPEG (EXIF, GPS, XMP, IPTC, ICC)": rich_jpeg((4000, 3000)),
    "JPEG with a little EXIF": jpeg_with_exif((640, 480)),
    "PNG": png_with_alpha((640, 480)),
    "not an image": b"plain text",
    "corrupt PNG": image_bytes("PNG")[:60],
}
COUNTER = {"pk": "counters#0", "version": 10**6, "status_ok": 10**6, "status_corrupt": 10**3}
COUNTER |= {f"count_{f}": 10**5 for f in ("JPEG", "PNG", "WEBP", "HEIF")}
COUNTER |= {f"bytes_{f}": 10**12 for f in ("JPEG", "PNG", "WEBP", "HEIF")}
COUNTER |= {f"mime_{f}": f"image/{f.lower()}" for f in ("JPEG", "PNG", "WEBP", "HEIF")}
SIZE_INDEX_FIELDS = ("pk", "size_shard", "size", "s3objectkey", "format", "width", "height")


def units(record: dict, attributes: dict) -> tuple[int, int, int, int]:
    """(item bytes, record units, counter units, index units) for one created event."""
    item = {"pk": "image#" + KEY, "sequencer": "F" * 32, "revision": 12, "list_shard": "0"}
    if record["status"] == "ok":
        item["size_shard"] = "0"
    wire = encode({**item, **attributes})
    size = item_size(wire)
    index = write_units(size)  # by_key: the whole item
    if "size_shard" in item:
        index += write_units(item_size({k: v for k, v in wire.items() if k in SIZE_INDEX_FIELDS}))
    counter = write_units(item_size(encode(COUNTER)), transactional=True)
    return size, write_units(size, transactional=True), counter, index


def established(record: dict) -> dict[str, dict]:
    """The facet items as they are in a big collection: every value of `record` already
    counted in this shard (so no value enters, no presence or distinct change)."""
    found = {}
    for pk in writes.facet_keys(None, record, 0):
        found[pk] = (
            {"pk": pk, "n": 1000, "shards": {0}, "ver": 7}
            if pk.startswith("fp#")
            else {"pk": pk, "n": 1000}
        )
    return found


def transaction_units(
    record: dict, packed: bool, facet_items: dict | None = None
) -> tuple[int, int]:
    """(operations, units) of the whole transaction storing `record` under a new key,
    given the facet items read first (none: the first image with these values)."""
    operations = writes.operations("t", KEY, 0, "F" * 32, record, None, facet_items or {}, 0)
    total = 0
    for operation in operations:
        ((kind, body),) = operation.items()
        if kind == "Put" and body["Item"]["pk"]["S"] == "image#" + KEY and not packed:
            item = {k: v for k, v in body["Item"].items() if k != "doc"}
            body = {"Item": {**item, **encode(to_dynamo(record))}}
        size = item_size(body["Item"]) if kind == "Put" else 1024  # Updates: small items
        total += write_units(size, transactional=True)
    return len(operations), total


def main() -> int:
    print(
        "| file | layout | item bytes | record | counter | record + counter "
        "| + GSI writes | whole transaction (operations) | in a big collection (operations) "
        "| items read first |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, data in SAMPLES.items():
        info = ObjectInfo(len(data), "0" * 32, datetime(2024, 5, 17, tzinfo=UTC), "image/jpeg")
        metadata = extract_metadata(io.BytesIO(data))
        record = build_record(KEY, info, metadata, datetime(2024, 5, 18, tzinfo=UTC))
        layouts = (("plain", to_dynamo(record)), ("packed", record_attributes(record)))
        for layout, attributes in layouts:
            size, own, counter, index = units(record, attributes)
            packed = layout == "packed"
            count, whole = transaction_units(record, packed)
            steady, usual = transaction_units(record, packed, established(record))
            reads = 1 + len(writes.facet_keys(None, record, 0))  # the entry, then the facets
            cells = f"{size:,} | {own} | {counter} | {own + counter} | {index}"
            cells += f" | {whole} ({count}) | {usual} ({steady}) | {reads}"
            print(f"| {name} | {layout} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
