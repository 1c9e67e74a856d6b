"""Test images made with Pillow at run time: bytes, data: URIs, a damaged copy."""

from __future__ import annotations

import base64
import io
import os

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
