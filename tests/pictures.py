"""Test images made with Pillow at run time: bytes, data: URIs, a damaged copy."""

from __future__ import annotations

import base64
import io
import os
import zlib

from PIL import Image

MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


def image_bytes(
    width: int = 640, height: int = 480, fmt: str = "PNG", *, noise: bool = False, **save: object
) -> bytes:
    """Return an image file: a flat colour, or random pixels (`noise`, which does not shrink)."""
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (180, 60, 30))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """Return `data` as a data: URI of type `mime`."""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def picture(width: int = 640, height: int = 480, fmt: str = "PNG") -> str:
    """Return a data: URI of a flat image of that size and format."""
    return data_uri(image_bytes(width, height, fmt), MIME[fmt])


def declaring(width: int, height: int, fmt: str) -> bytes:
    """Return a small image file whose header declares `width` x `height` px (a pixel bomb):
    a 64x64 image with its size fields rewritten, never the pixels themselves."""
    if fmt == "WEBP":  # lossless: "VP8L", 0x2f, then 14 bits width-1 and 14 bits height-1
        data = bytearray(image_bytes(64, 64, "WEBP", lossless=True))
        at = data.index(b"VP8L") + 9
        bits = int.from_bytes(data[at : at + 4], "little")
        bits = (bits & ~((1 << 28) - 1)) | (width - 1) | ((height - 1) << 14)
        data[at : at + 4] = bits.to_bytes(4, "little")
        return bytes(data)
    if fmt == "PNG":  # IHDR: width and height, then its CRC
        data = bytearray(image_bytes(64, 64, "PNG"))
        data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
        data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
        return bytes(data)
    data = bytearray(image_bytes(64, 64, "JPEG"))  # SOF0: length, precision, height, width
    at = data.index(b"\xff\xc0") + 5
    data[at : at + 4] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)
