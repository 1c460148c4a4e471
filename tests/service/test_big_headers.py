"""Headers past the first 64 KiB block cost few requests and at most twice their size (issue 12).

S3RangeFile reads ahead as far again when a parser reads on from the cached
start of the object, and the JPEG reader asks for a known run of segments
(the chunks of an ICC profile, Photoshop resources that run on into the next
segments) in one request. Measured on moto, against the record extraction
gives for the same bytes in memory.
"""

from __future__ import annotations

import io

import pytest
from conftest import BUCKET
from images import big_header_jpegs, noisy_jpeg

from chalicelib.extraction.extract import extract_metadata
from chalicelib.s3file import BLOCK_SIZE, S3RangeFile

CASES = big_header_jpegs(noisy_jpeg(2_000_000))
# What each header may cost: the cases, and a megabyte as a run of ICC chunks or a
# Photoshop thumbnail split over segments, in at most three requests. Headers of unrelated
# segments give nothing to predict: one request per doubling from the first block (about
# 256 KB in three, 400 KB in four, a megabyte in five).
MAX_REQUESTS = {
    "camera EXIF": 1,
    "EXIF of 65,000 bytes": 2,
    "EXIF + 5 x 60 KB Photoshop (APP13)": 3,
    "EXIF + 3 x 60 KB ICC (APP2)": 2,
    "EXIF + 1 MB ICC in 16 chunks": 2,
    "EXIF + 1 MB Photoshop thumbnail": 3,
    "EXIF + 16 x 60 KB Photoshop (APP13)": 5,
    "EXIF + 200 x 2 KB comments": 4,
}


@pytest.mark.parametrize(("data", "header"), [pytest.param(c[1], c[2], id=c[0]) for c in CASES])
def test_big_headers_cost_few_requests_and_at_most_twice_their_size(s3, request, data, header):
    name = request.node.callspec.id
    s3.put_object(Bucket=BUCKET, Key="big.jpg", Body=data)
    expected = extract_metadata(io.BytesIO(data))

    reader = S3RangeFile(s3, BUCKET, "big.jpg")
    result = extract_metadata(reader)

    assert result == expected and result["status"] == "ok"
    assert reader.requests <= MAX_REQUESTS[name], reader.requests
    blocks = -(-header // BLOCK_SIZE)  # the blocks the header needs, rounded up
    assert reader.bytes_read <= max(1, 2 * blocks) * BLOCK_SIZE, reader.bytes_read


def test_the_cases_hold_what_they_claim():
    by_name = {name: extract_metadata(io.BytesIO(data)) for name, data, _ in CASES}
    assert by_name["EXIF + 1 MB ICC in 16 chunks"]["icc_profile"] == "sRGB built-in"
    assert by_name["EXIF + 1 MB Photoshop thumbnail"]["iptc"]["byline"]
    assert by_name["EXIF + 16 x 60 KB Photoshop (APP13)"]["iptc"]["byline"]
    assert [header > 1_000_000 for _, _, header in CASES[4:6]] == [True, True]


ONE_MB = 1024 * 1024


def _reader(s3, size: int = 4 * ONE_MB) -> tuple[S3RangeFile, bytes]:
    data = bytes(range(256)) * (size // 256)
    s3.put_object(Bucket=BUCKET, Key="blob", Body=data)
    return S3RangeFile(s3, BUCKET, "blob"), data


def test_a_parser_walking_on_reads_ahead_as_far_again(s3):
    reader, data = _reader(s3)
    reader.seek(1000)
    reader.read(10)
    reader.read(10)
    assert reader.read(60_000) == data[1020:61_020]  # inside the first block
    assert reader.read(60_000) == data[61_020:121_020]  # walking on: 61,020 ahead too

    assert (reader.requests, reader.bytes_read) == (2, 3 * BLOCK_SIZE)
    reader.read(60_000)  # up to 181,020: already there
    assert reader.requests == 2


def test_jumps_and_small_reads_fetch_only_what_they_need(s3):
    reader, data = _reader(s3)
    reader.seek(3 * BLOCK_SIZE - 10)
    assert reader.read(60_000) == data[3 * BLOCK_SIZE - 10 :][:60_000]  # a jump: blocks 2-3
    reader.seek(BLOCK_SIZE - 100)
    reader.read(100)
    assert reader.read(200) == data[BLOCK_SIZE : BLOCK_SIZE + 200]  # small, on: block 1 only

    assert (reader.requests, reader.bytes_read) == (3, 4 * BLOCK_SIZE)


def test_prefetch_fetches_a_known_run_in_one_request(s3):
    reader, data = _reader(s3)
    reader.seek(123)

    reader.prefetch(100_000, 500_000)

    assert reader.tell() == 123
    assert (reader.requests, reader.bytes_read) == (2, 10 * BLOCK_SIZE)  # block 0; 1-9 at once
    reader.seek(100_000)
    assert reader.read(500_000) == data[100_000:600_000]
    reader.prefetch(200_000, 100_000)  # cached already: free
    assert reader.requests == 2
