"""Key resolution: what the API accepts as an image key, and what it refuses."""

from __future__ import annotations

import pytest

from chalicelib.keys import InvalidKeyError, extension_of, is_image_key, resolve_key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("uploads/cat.jpg", "uploads/cat.jpg"),
        ("cat.jpg", "uploads/cat.jpg"),
        ("a/b/c.png", "uploads/a/b/c.png"),
        ("uploadsX/cat.jpg", "uploads/uploadsX/cat.jpg"),  # a sibling prefix stays inside
        ("uploads/día 1+2.jpg", "uploads/día 1+2.jpg"),
        ("uploads/..hidden.jpg", "uploads/..hidden.jpg"),  # dots inside a name are fine
    ],
)
def test_valid_keys_resolve_under_the_prefix(raw: str, expected: str) -> None:
    assert resolve_key(raw, "uploads/") == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("/uploads/cat.jpg", "start with '/'"),
        ("..", "'..'"),
        ("uploads/../etc/passwd", "'..'"),
        ("uploads/./cat.jpg", "'.'"),
        ("uploads\\cat.jpg", "backslash"),
        ("uploads/cat\x00.jpg", "control"),
        ("uploads/cat\x7f.jpg", "control"),
        ("uploads/\udcff.jpg", "UTF-8"),
        ("uploads/\ufffd.jpg", "UTF-8"),
        ("uploads/" + "é" * 600, "1024 bytes"),
        ("uploads/", "folder"),
        ("uploads/photos/", "folder"),
    ],
)
def test_invalid_keys_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidKeyError, match=reason):
        resolve_key(raw, "uploads/")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("uploads/a.jpg", True),
        ("uploads/", False),
        ("uploads/dir/", False),
        ("uploadsX/a.jpg", False),
        ("other/a.jpg", False),
    ],
)
def test_is_image_key(key: str, expected: bool) -> None:
    assert is_image_key(key, "uploads/") is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("uploads/a.JPG", "jpg"),
        ("uploads/a.tar.gz", "gz"),
        ("uploads/noext", None),
        ("uploads/.hidden", None),
        ("uploads/dir.d/file", None),
    ],
)
def test_extension_of(key: str, expected: str | None) -> None:
    assert extension_of(key) == expected
