"""Test images generated on the fly: no binary fixtures in the repository."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    """A small image of `size` in Pillow format `fmt`, with some texture."""
    rng = random.Random(f"{fmt}{size}{mode}")
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestMake"  # Make
    exif[0x0110] = "TestModel"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x0132] = "2024:05:17 10:30:00"  # DateTime
    return image_bytes("JPEG", size, exif=exif.tobytes())


def png_with_alpha(size: tuple[int, int] = (64, 48)) -> bytes:
    return image_bytes("PNG", size, mode="RGBA")


def animated_gif(size: tuple[int, int] = (32, 32), frames: int = 3) -> bytes:
    images = [Image.new("P", size, color) for color in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def noisy_jpeg(min_bytes: int) -> bytes:
    """A JPEG of at least `min_bytes` (noise compresses badly, so it stays big)."""
    side = 256
    while True:
        data = image_bytes("JPEG", (side, side), quality=95)
        if len(data) >= min_bytes:
            return data
        side = int(side * 1.25)


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR is patched to claim `width` x `height`.

    The header (and its CRC) is consistent, so parsers accept it, but the pixel
    data is that of a 1x1 image: anything that decodes pixels will fail.
    """
    data = bytearray(image_bytes("PNG", (1, 1)))
    # Signature (8) + IHDR length (4); the chunk type and data follow.
    ihdr = 12
    assert data[ihdr : ihdr + 4] == b"IHDR"
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 4 + 13]))
    data[ihdr + 4 + 13 : ihdr + 4 + 13 + 4] = struct.pack(">I", crc)
    return bytes(data)
