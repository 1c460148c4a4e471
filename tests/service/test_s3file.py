"""S3RangeFile against moto's in-process S3."""

from __future__ import annotations

import io
import random

import pytest
from conftest import BUCKET
from images import image_bytes, noisy_jpeg
from PIL import Image

from chalicelib import s3file
from chalicelib.extraction.extract import extract_metadata
from chalicelib.s3file import BLOCK_SIZE, ObjectChangedError, S3RangeFile

ONE_MB = 1024 * 1024


@pytest.fixture(scope="module")
def one_mb() -> bytes:
    return random.Random("one-mb").randbytes(ONE_MB)


def put(s3, key: str, body: bytes, **extra) -> str:
    """Upload `body`; returns the ETag without quotes."""
    return s3.put_object(Bucket=BUCKET, Key=key, Body=body, **extra)["ETag"].strip('"')


def test_random_reads_match_the_source(s3, one_mb):
    put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob")
    model = io.BytesIO(one_mb)
    rng = random.Random(20240517)

    for step in range(400):
        op = rng.choice(["seek_set", "seek_cur", "seek_end", "read", "read", "readinto"])
        if op == "seek_set":
            pos = rng.randrange(0, ONE_MB + 1000)
            assert reader.seek(pos) == model.seek(pos) == pos
        elif op == "seek_cur":
            delta = rng.randrange(-min(model.tell(), 200_000), 200_000)
            assert reader.seek(delta, io.SEEK_CUR) == model.seek(delta, io.SEEK_CUR)
        elif op == "seek_end":
            delta = -rng.randrange(0, 300_000)
            assert reader.seek(delta, io.SEEK_END) == model.seek(delta, io.SEEK_END)
        elif op == "read":
            size = rng.choice([0, 1, 7, 4096, BLOCK_SIZE, BLOCK_SIZE + 1, rng.randrange(200_000)])
            assert reader.read(size) == model.read(size), f"step {step}"
        else:
            size = rng.randrange(1, 100_000)
            got, want = bytearray(size), bytearray(size)
            assert reader.readinto(got) == model.readinto(want)
            assert got == want, f"step {step}"
        assert reader.tell() == model.tell()

    # read(-1) returns the rest, from anywhere.
    reader.seek(ONE_MB - 12_345)
    assert reader.read(-1) == one_mb[-12_345:]
    reader.seek(300_001)
    assert reader.read() == one_mb[300_001:]
    assert reader.tell() == ONE_MB
    # All 16 blocks are cached now: reading everything again is free.
    requests, bytes_read = reader.requests, reader.bytes_read
    reader.seek(0)
    assert reader.read() == one_mb
    assert (reader.requests, reader.bytes_read) == (requests, bytes_read)
    assert requests <= ONE_MB // BLOCK_SIZE


def test_reads_at_and_past_the_end(s3, one_mb):
    put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob")

    assert reader.seek(0, io.SEEK_END) == ONE_MB
    assert reader.read(10) == b""
    assert reader.read() == b""
    assert reader.seek(-3, io.SEEK_END) == ONE_MB - 3
    assert reader.read(100) == one_mb[-3:]
    assert reader.read(100) == b""
    assert reader.seek(ONE_MB + 5000) == ONE_MB + 5000
    assert reader.read(1) == b""
    assert reader.read(-1) == b""
    assert reader.readinto(bytearray(10)) == 0
    assert reader.seek(-10, io.SEEK_CUR) == ONE_MB + 4990
    with pytest.raises(OSError):
        reader.seek(-1)
    with pytest.raises(OSError):
        reader.seek(-ONE_MB - 1, io.SEEK_END)


def test_small_blocks_and_eviction_still_return_the_right_bytes(s3, one_mb, monkeypatch):
    monkeypatch.setattr(s3file, "MAX_CACHED_BLOCKS", 3)
    put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob", block_size=4096)
    rng = random.Random(7)

    for _ in range(200):
        pos = rng.randrange(ONE_MB)
        size = rng.randrange(1, 20_000)
        reader.seek(pos)
        assert reader.read(size) == one_mb[pos : pos + size]


def test_first_request_yields_object_info(s3, one_mb):
    etag = put(s3, "photos/a.bin", one_mb, ContentType="image/x-test")

    reader = S3RangeFile(s3, BUCKET, "photos/a.bin")

    assert reader.requests == 1
    assert reader.bytes_read == BLOCK_SIZE
    assert reader.info.size == ONE_MB
    assert reader.info.etag == etag
    assert '"' not in reader.info.etag
    assert reader.info.content_type == "image/x-test"
    assert reader.info.last_modified is not None
    assert reader.info.last_modified.tzinfo is not None


def test_reading_the_first_100_bytes_costs_one_request(s3, one_mb):
    put(s3, "blob", one_mb)

    reader = S3RangeFile(s3, BUCKET, "blob")
    assert reader.read(100) == one_mb[:100]

    assert reader.requests == 1
    assert reader.bytes_read == BLOCK_SIZE


def test_cached_ranges_are_not_fetched_again(s3, one_mb):
    put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob")
    start = 5 * BLOCK_SIZE - 100  # spans blocks 4 and 5

    reader.seek(start)
    first = reader.read(300)
    requests, bytes_read = reader.requests, reader.bytes_read
    reader.seek(start)
    second = reader.read(300)
    reader.seek(start + 50)
    third = reader.read(100)

    assert first == second == one_mb[start : start + 300]
    assert third == one_mb[start + 50 : start + 150]
    assert requests == 2  # the first block, then blocks 4-5 in a single GET
    assert bytes_read == 3 * BLOCK_SIZE
    assert (reader.requests, reader.bytes_read) == (requests, bytes_read)


def test_object_smaller_than_a_block(s3):
    etag = put(s3, "tiny", b"abc")

    reader = S3RangeFile(s3, BUCKET, "tiny")

    assert (reader.info.size, reader.info.etag) == (3, etag)
    assert reader.read() == b"abc"
    assert reader.read() == b""
    assert reader.requests == 1


def test_zero_byte_object(s3):
    etag = put(s3, "empty", b"")

    reader = S3RangeFile(s3, BUCKET, "empty")

    assert reader.info.size == 0
    assert reader.info.etag == etag
    assert reader.read() == b""
    assert reader.read(10) == b""
    assert reader.seek(0, io.SEEK_END) == 0
    assert reader.failure is None
    assert extract_metadata(reader)["status"] == "unsupported"


def test_zero_byte_object_with_matching_etag(s3):
    etag = put(s3, "empty", b"")

    reader = S3RangeFile(s3, BUCKET, "empty", if_match=etag)

    assert (reader.info.size, reader.info.etag) == (0, etag)


def test_if_match_with_the_wrong_etag_fails_at_construction(s3, one_mb):
    put(s3, "blob", one_mb)

    with pytest.raises(ObjectChangedError):
        S3RangeFile(s3, BUCKET, "blob", if_match="0123456789abcdef0123456789abcdef")


def test_if_match_with_the_wrong_etag_on_an_empty_object(s3):
    put(s3, "empty", b"")

    with pytest.raises(ObjectChangedError):
        S3RangeFile(s3, BUCKET, "empty", if_match="0123456789abcdef0123456789abcdef")


def test_if_match_with_the_right_etag_reads_normally(s3, one_mb):
    etag = put(s3, "blob", one_mb)

    reader = S3RangeFile(s3, BUCKET, "blob", if_match=etag)
    reader.seek(700_000)

    assert reader.read(1000) == one_mb[700_000:701_000]
    assert reader.failure is None


def test_overwrite_after_open_fails_uncached_reads(s3, one_mb):
    etag = put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob", if_match=etag)
    put(s3, "blob", one_mb[::-1])

    # The first block is cached: still served, from the original version.
    assert reader.read(100) == one_mb[:100]
    assert reader.failure is None

    reader.seek(3 * BLOCK_SIZE)
    with pytest.raises(ObjectChangedError) as raised:
        reader.read(10)

    assert reader.failure is raised.value


def test_delete_after_open_fails_uncached_reads(s3, one_mb):
    etag = put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob", if_match=etag)
    s3.delete_object(Bucket=BUCKET, Key="blob")

    reader.seek(ONE_MB - 1)
    with pytest.raises(ObjectChangedError):
        reader.read(1)

    assert isinstance(reader.failure, ObjectChangedError)


def test_missing_key(s3):
    with pytest.raises(ObjectChangedError):
        S3RangeFile(s3, BUCKET, "no/such/key")


def test_missing_key_with_if_match(s3):
    with pytest.raises(ObjectChangedError):
        S3RangeFile(s3, BUCKET, "no/such/key", if_match="0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        pytest.param(lambda: image_bytes("PNG", (1400, 1400)), "PNG", id="png"),
        pytest.param(lambda: image_bytes("TIFF", (1400, 1400)), "TIFF", id="tiff"),
        pytest.param(lambda: image_bytes("BMP", (1400, 1400)), "BMP", id="bmp"),
        pytest.param(lambda: image_bytes("WEBP", (1400, 1400), lossless=True), "WEBP", id="webp"),
    ],
)
def test_extract_reads_only_the_header(s3, make, fmt):
    data = make()
    assert len(data) > 5_000_000
    put(s3, "big", data)
    with io.BytesIO(data) as local:
        expected = extract_metadata(local)
    assert expected["status"] == "ok"

    reader = S3RangeFile(s3, BUCKET, "big")
    result = extract_metadata(reader)

    assert result == expected
    assert result["format"] == fmt
    assert reader.failure is None
    assert reader.requests <= 2, f"{reader.requests} requests for a {fmt} header"
    assert reader.bytes_read <= 128 * 1024, f"{reader.bytes_read} bytes read for a {fmt} header"


def test_extract_reads_only_the_header_of_a_noisy_jpeg(s3):
    data = noisy_jpeg(5_000_000)
    put(s3, "photo.jpg", data, ContentType="image/jpeg")

    reader = S3RangeFile(s3, BUCKET, "photo.jpg")
    result = extract_metadata(reader)

    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    assert len(data) > 5_000_000
    assert result["status"] == "ok"
    assert (result["format"], result["mime_type"]) == ("JPEG", "image/jpeg")
    assert (result["width"], result["height"]) == size
    assert reader.info.size == len(data)
    assert reader.requests <= 2
    assert reader.bytes_read <= 128 * 1024


def test_a_span_ending_just_before_the_last_block_takes_it_along(s3, one_mb):
    """Metadata at the end of a file (WebP EXIF and XMP chunks) often straddles
    the last two blocks: one request covers both."""
    put(s3, "blob", one_mb)
    reader = S3RangeFile(s3, BUCKET, "blob")
    last = ONE_MB // BLOCK_SIZE - 1

    reader.seek((last - 1) * BLOCK_SIZE + 10)
    assert reader.read(100) == one_mb[(last - 1) * BLOCK_SIZE + 10 :][:100]
    reader.seek(ONE_MB - 50)
    assert reader.read() == one_mb[-50:]

    assert reader.requests == 2  # the first block, then the last two together
    assert reader.bytes_read == 3 * BLOCK_SIZE
