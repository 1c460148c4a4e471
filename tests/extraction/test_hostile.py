"""Hostile and malformed files: extraction never raises, stays bounded, records stay storable.

A hand-made corpus of attacks on every parser (loops, lying sizes, bombs,
absurd numbers, broken text) plus Hypothesis fuzzing of valid files. Every
result must satisfy the record contract: the documented keys, plain values
DynamoDB accepts (numbers inside its range), an item far below 400 KB, and
bounded time, bytes read and memory.
"""

from __future__ import annotations

import io
import json
import struct
import time
import tracemalloc
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer
from hostile_corpus import (
    HOSTILE,
    jpeg_with_exif_blob,
    jpeg_with_xmp,
    le32,
    tiff_blob,
    tiff_with_big_tag,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from images import (
    image_bytes,
    insert_jpeg_segment,
    multi_frame,
    rich_avif,
    rich_heif,
    rich_jpeg,
    rich_png,
    rich_tiff,
    rich_webp,
    xmp_packet,
)
from test_extract import OK_KEYS

from chalicelib.catalog.records import to_dynamo
from chalicelib.extraction.budget import MAX_HEADER_BYTES
from chalicelib.extraction.extract import extract_metadata

MAX_ITEM_BYTES = 128 * 1024  # what a record may cost at most (DynamoDB allows 400 KB)
MAX_SECONDS = 3.0  # of CPU per file
_serializer = TypeSerializer()


class CountingFile(io.BytesIO):
    """BytesIO that counts the bytes handed out, to bound what a parser reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def dynamo_size(value) -> int:
    """DynamoDB's item-size rules: UTF-8 strings, numbers ~ digits/2, 3 + 1/element containers."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, Decimal)):
        return min(21, (len(Decimal(value).as_tuple().digits) + 1) // 2 + 1)
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + 1 + dynamo_size(v) for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + dynamo_size(v) for v in value)
    raise AssertionError(f"unexpected {type(value).__name__} in a stored record")


def check_contract(result: dict) -> None:
    """Everything the ingest path and DynamoDB rely on."""
    assert isinstance(result, dict)
    assert result["status"] in ("ok", "unsupported", "corrupt")
    assert result["mime_type"] is None or isinstance(result["mime_type"], str)
    if result["status"] == "ok":
        assert set(result) == OK_KEYS
        assert result["format"].isalnum() and result["format"].isupper()
        for side in ("width", "height", "display_width", "display_height"):
            assert isinstance(result[side], int) and result[side] > 0
        assert isinstance(result["mode"], str)
        assert result["orientation"] in (None, 1, 2, 3, 4, 5, 6, 7, 8)
        assert isinstance(result["warnings"], list)
        assert isinstance(result["has_alpha"], bool) and isinstance(result["animated"], bool)
        assert result["frames"] is None or (
            isinstance(result["frames"], int) and result["frames"] > 0
        )
        assert result["dpi"] is None or (len(result["dpi"]) == 2 and min(result["dpi"]) > 0)
        assert isinstance(result["bit_depth"], int) and 0 < result["bit_depth"] <= 64
        assert result["icc_profile"] is None or isinstance(result["icc_profile"], str)
        assert set(result["camera"]) == {"make", "model", "lens", "serial", "software"}
        assert all(v is None or isinstance(v, str) for v in result["camera"].values())
        assert set(result["exposure"]) == {
            "exposure_time",
            "f_number",
            "iso",
            "focal_length",
            "focal_length_35mm",
            "flash_fired",
        }
        assert (result["taken_at"] is None) == (result["taken_at_source"] is None)
        gps = result["gps"]
        assert gps is None or (-90 <= gps["latitude"] <= 90 and -180 <= gps["longitude"] <= 180)
        assert set(result["xmp"] or {}) <= {"title", "description", "keywords", "rating", "creator"}
        assert set(result["iptc"] or {}) <= {"keywords", "caption", "byline"}
        for block in ("exif", "xmp", "iptc", "camera", "exposure", "gps"):
            assert result[block] is None or isinstance(result[block], dict)
            assert all(key for key in result[block] or {})  # DynamoDB map keys are non-empty
    else:
        assert set(result) == {"status", "error", "format", "mime_type"}
        assert result["format"] is None
        assert isinstance(result["error"], str) and 0 < len(result["error"]) <= 300
    stored = to_dynamo(result)  # raises TypeError for bytes and other non-plain values
    _serializer.serialize(stored)  # raises for numbers outside DynamoDB's range
    assert dynamo_size(stored) <= MAX_ITEM_BYTES
    json.dumps(result, allow_nan=False)


def extract_checked(data: bytes) -> dict:
    fp = CountingFile(data)
    # CPU time, not wall time: the bound is on our work, not on the machine's load.
    started = time.process_time()
    result = extract_metadata(fp)
    elapsed = time.process_time() - started
    check_contract(result)
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s of CPU"
    assert fp.bytes_read <= MAX_HEADER_BYTES + 64 * 1024
    return result


@pytest.mark.parametrize(("data", "status"), [pytest.param(c[1], c[2], id=c[0]) for c in HOSTILE])
def test_hostile_file(data, status):
    result = extract_checked(data)
    if status is not None:
        assert result["status"] == status, result


def test_loops_and_lies_leave_the_sane_parts():
    result = extract_checked(
        jpeg_with_exif_blob(tiff_blob([(0x8769, 4, 1, le32(8)), (0x010F, 2, 4, b"Abc\x00")]))
    )
    assert result["exif"] == {"Make": "Abc"}
    assert result["camera"]["make"] == "Abc"
    assert any("offset" in w for w in result["warnings"])


def test_absurd_numbers_are_dropped_not_stored():
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-absurd-doubles"])
    assert "FocalLength" not in result["exif"]  # inf and NaN have no honest value
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-tiny-doubles"])
    assert result["exif"]["ExposureCompensation"] == 0.0
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-zero-denominators"])
    assert "ExposureTime" not in result["exif"] and "FNumber" not in result["exif"]


def test_nonsense_values_do_not_become_fields():
    result = extract_checked(dict((c[0], c[1]) for c in HOSTILE)["exif-nonsense-values"])
    assert result["orientation"] is None
    assert result["exposure"]["iso"] is None
    assert result["taken_at"] is None and result["taken_at_source"] is None
    assert result["gps"] is None
    assert result["exif"]["Orientation"] == 65535  # the raw map still says what the file says


def test_text_is_printable_and_capped():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    result = extract_checked(by_id["exif-60k-make"])
    assert result["camera"]["make"] == "A" * 1000
    result = extract_checked(by_id["exif-broken-text"])
    for value in result["exif"].values():
        assert isinstance(value, str) and value.isprintable()


def test_entity_attacks_are_refused():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    cases = (
        "xmp-billion-laughs",
        "xmp-external-entity",
        "xmp-ebcdic-entities",
        "xmp-utf16-entities",
    )
    for case in cases:
        result = extract_checked(by_id[case])
        assert result["xmp"] is None
        assert any("XMP ignored" in w for w in result["warnings"]), result["warnings"]
        assert "root:" not in json.dumps(result)


def test_big_metadata_is_capped_with_a_warning():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    result = extract_checked(by_id["xmp-huge-png-itxt"])
    assert len(result["xmp"]["keywords"]) == 100
    result = extract_checked(by_id["xmp-many-big-properties"])
    assert any("dropped" in w for w in result["warnings"])
    result = extract_checked(by_id["iptc-5000-keywords"])
    assert len(result["iptc"]["keywords"]) == 100
    result = extract_checked(by_id["tiff-every-tag-short-text"])
    assert any("EXIF tags dropped" in w for w in result["warnings"])


def test_a_tag_that_claims_the_whole_file_is_skipped_not_read():
    """A 12 MB XMP tag in a 12 MB TIFF: the picture is fine, the block too large to keep."""
    fp = CountingFile(tiff_with_big_tag(12 * 1024 * 1024))

    result = extract_metadata(fp)

    check_contract(result)
    assert result["status"] == "ok"
    assert result["xmp"] is None
    assert any("xmp block is too large" in w for w in result["warnings"]), result["warnings"]
    assert fp.bytes_read <= 64 * 1024


def test_bombs_stay_within_memory():
    by_id = dict((c[0], c[1]) for c in HOSTILE)
    for case in ("png-ztxt-bomb", "png-20000-text-chunks", "xmp-huge-png-itxt"):
        tracemalloc.start()
        try:
            extract_checked(by_id[case])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 64 * 1024 * 1024, f"{case}: {peak} bytes"


# --- fuzzing ------------------------------------------------------------------
def _seeds() -> dict[str, bytes]:
    return {
        "jpeg": rich_jpeg((16, 16)),
        "png": rich_png((16, 16)),
        "webp": rich_webp((16, 16)),
        "webp-animated": multi_frame("WEBP", (8, 8), 2),
        "tiff": rich_tiff((16, 16)),
        "heic": rich_heif((16, 16)),
        "avif": rich_avif((16, 16)),
        "gif": multi_frame("GIF", (8, 8), 2, loop=0),
        "bmp": image_bytes("BMP", (8, 8)),
        "ico": image_bytes("ICO", (16, 16), sizes=[(16, 16)]),
        "jp2": image_bytes("JPEG2000", (16, 16)),
        "xmp": xmp_packet(),
    }


SEEDS = _seeds()
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A seed with a few random edits: overwrites, truncation, insertions, duplicated ranges."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "duplicate", "int"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "duplicate":
            length = draw(st.integers(1, 256))
            data[at:at] = data[at : at + length]
        elif op == "int":  # sizes and offsets are where parsers get hurt
            value = draw(
                st.sampled_from([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
            )
            data[at : at + 4] = struct.pack(draw(st.sampled_from([">L", "<L"])), value)
    return bytes(data)


@pytest.mark.parametrize("name", sorted(set(SEEDS) - {"xmp"}))
def test_fuzzed_files_keep_the_contract(name):
    @FUZZ
    @given(mutated(SEEDS[name]))
    def run(data):
        extract_checked(data)

    run()


@FUZZ
@given(mutated(SEEDS["xmp"]))
def test_fuzzed_xmp_packets_never_break_a_jpeg(packet):
    result = extract_checked(jpeg_with_xmp(packet))
    assert result["status"] == "ok"


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([b"II*\x00", b"MM\x00*", b"Exif\x00\x00II*\x00"]))
def test_random_exif_blobs_never_break_a_jpeg(body, prefix):
    result = extract_checked(
        insert_jpeg_segment(image_bytes("JPEG", (8, 8)), 0xE1, b"Exif\x00\x00" + prefix + body)
    )
    assert result["status"] == "ok"


@FUZZ
@given(st.binary(max_size=512), st.sampled_from(sorted({s[:16] for s in SEEDS.values()})))
def test_random_bytes_behind_real_signatures(body, signature):
    extract_checked(signature + body)


def test_xmp_fast_and_hardened_parsers_agree():
    """Packets with "<!" (comments too) go through defusedxml; the result is the same."""
    from chalicelib.extraction.xmp import parse_xmp

    packet = xmp_packet()
    commented = packet.replace(b"<rdf:RDF", b"<!-- a comment --><rdf:RDF", 1)

    assert parse_xmp(commented).properties == parse_xmp(packet).properties
    assert len(parse_xmp(packet).properties) == 8


@pytest.mark.parametrize(
    ("packet", "hardened"),
    [
        (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', False),
        (b'<?xml version="1.0" encoding="UTF-8"?><x/>', False),
        (b"<!DOCTYPE x><x/>", True),
        (b"<x><!-- c --></x>", True),
        ("<x/>".encode("utf-16"), True),
        (b'<?xml version="1.0" encoding="latin-1"?><x/>', True),
    ],
)
def test_packets_that_could_hold_a_dtd_take_the_hardened_parser(monkeypatch, packet, hardened):
    from chalicelib.extraction import xmp

    calls = []
    monkeypatch.setattr(xmp, "defused_fromstring", lambda data, **kw: calls.append(kw) or "tree")

    xmp._parse(packet)

    assert bool(calls) == hardened
    assert all(kw == {"forbid_dtd": True} for kw in calls)
