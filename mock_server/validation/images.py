"""Image inputs, checked as upstream checks them: every value a model's args schema marks
``"x-image": true`` (A-image-url-form, A-image-data-uri, A-image-content).

The schema says the form (an http(s) URL, or a ``data:image/...;base64,`` URI); this module
looks at what the form holds. A data: URI is decoded and read with Pillow: PNG, JPEG or WebP,
at most 10 MB, each side at least 300 px, aspect ratio between 1:2.5 and 2.5:1. An http(s) URL
is not fetched (the mock reaches no one), except the mock's own uploads, whose stored bytes are
checked alike: the caller passes a `Lookup`, so validation stays free of storage and Flask. A
URL without a file extension (signed and CDN URLs) is accepted with a warning
(A-image-url-no-extension). Input videos (``"x-video": true``) are never fetched either; a
video URL without an extension gets the same warning (A-video-url-form).

Each finding is a `Problem` with the value's JSON pointer and a message that says how to fix it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mock_server import bounds
from mock_server.errors import Problem
from mock_server.strictjson import escape
from mock_server.urls import is_http_url
from mock_server.validation.rules import Context

KEYWORD = "x-image"
VIDEO_KEYWORD = "x-video"  # input videos: the form is the schema's; a bare URL is a warning
"""The schema keyword that marks a string as an image input (see ARCHITECTURE.md)."""
MAX_BYTES = 10_000_000  # "at most 10 MB": the stricter reading, decimal megabytes
MIN_SIDE = 300
MAX_RATIO = 2.5  # width:height from 1:2.5 to 2.5:1
# The checks of data: URIs up to this long are remembered, this many (16 MiB at most).
CACHED_CHARS = 256 * 1024
CACHED_URIS = 64
# The content types a data: URI may declare, and the Pillow format each one names.
DATA_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
CONTENT_TYPES = {fmt: kind for kind, fmt in DATA_TYPES.items()}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
URL_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
# WebP has no cheap integrity check: it is decoded in full up to this many pixels (about
# 64 MB; PNG is checked chunk by chunk, JPEG decoded at 1/8 scale), beyond by its header
# alone. An image whose header declares more than `bounds.IMAGE_PIXELS` is refused unread
# (as Pillow's MAX_IMAGE_PIXELS intends): a 2 KB file may declare 8000x8000 px.
DECODE_PIXELS = 16_000_000
MAX_PIXELS = bounds.IMAGE_PIXELS
_DATA_URI = re.compile(r"data:(image/[a-z]+);base64,(.*)", re.DOTALL)
# What Pillow may take the bytes for: the accepted formats, and common ones named in a refusal.
_OPENED = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "ICO")
_FIX_FORMAT = "send a PNG, JPEG or WebP file's bytes, unchanged"

Lookup = Callable[[str], "bytes | None"]
"""Given an image URL, return the bytes the mock stores for it, or None when the URL is not
one of the mock's own uploads; raise `KeyError` when it is one but is not (or no longer) kept."""


@dataclass(frozen=True)
class ImageInfo:
    """What Pillow read of an image."""

    format: str  # "PNG", "JPEG", "WEBP" (or another Pillow format name, which is refused)
    width: int
    height: int
    size: int  # bytes

    @property
    def content_type(self) -> str:
        """The image's content type, for serving it."""
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        """The file extension the mock serves the image under."""
        return EXTENSIONS[self.format]


def image_values(
    schema: Mapping[str, Any], instance: Any, pointer: str = ""
) -> Iterator[tuple[str, Any]]:
    """Yield (pointer, value) for every value of `instance` that `schema` marks as an image.

    Follows ``properties``, ``items`` and local ``$ref`` s (``#/...``) of the document.
    """
    yield from _walk(schema, schema, instance, pointer, KEYWORD)


def _walk(
    node: Mapping[str, Any], root: Mapping[str, Any], instance: Any, pointer: str, keyword: str
) -> Iterator[tuple[str, Any]]:
    node = _deref(node, root)
    if node.get(keyword) is True:
        yield pointer, instance
        return
    if isinstance(instance, dict):
        for key, child in node.get("properties", {}).items():
            if key in instance:
                yield from _walk(child, root, instance[key], f"{pointer}/{escape(key)}", keyword)
    elif isinstance(instance, list) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(instance):
            yield from _walk(node["items"], root, item, f"{pointer}/{index}", keyword)


# node id -> (node, root, followed): schemas live as long as their model, and every create
# walks its model's; the nodes are kept, so an id is never another node's.
_FOLLOWED: dict[int, tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]] = {}
_FOLLOWED_LIMIT = 4096


def _deref(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return `node` with its local ``$ref`` followed (its own keywords win); remembered."""
    if "$ref" not in node:
        return node
    known = _FOLLOWED.get(id(node))
    if known is not None and known[0] is node and known[1] is root:
        return known[2]
    followed = _follow(node, root)
    if len(_FOLLOWED) >= _FOLLOWED_LIMIT:
        _FOLLOWED.clear()
    _FOLLOWED[id(node)] = (node, root, followed)
    return followed


def _follow(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def check_args(
    schema: Mapping[str, Any],
    args: Any,
    ctx: Context,
    *,
    lookup: Lookup | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
    prefix: str = "",
) -> Iterator[Problem]:
    """Yield the problems of every image in `args` (pointers under `prefix`), except at the
    pointers in `skip` (the schema already flagged them)."""
    for pointer, value in image_values(schema, args, prefix):
        if pointer not in skip and isinstance(value, str):
            yield from check_value(value, pointer, ctx, lookup=lookup)
    for pointer, value in _walk(schema, schema, args, prefix, VIDEO_KEYWORD):
        if pointer not in skip and isinstance(value, str) and url_extension(value) is None:
            yield Problem(
                "video.url_no_extension",
                pointer,
                "the URL's path has no file extension (as signed and CDN URLs have none): "
                "accepted, but the mock does not fetch it, so it cannot tell that it is an "
                "MP4, MOV or WebM video; prefer a URL ending in .mp4, .mov or .webm",
                severity="warning",
            )


def check_value(
    value: str, pointer: str, ctx: Context, *, lookup: Lookup | None = None
) -> Iterator[Problem]:
    """Yield the problems of one image value: a data: URI or an http(s) URL."""
    if value.startswith("data:") and len(value) <= CACHED_CHARS:
        for rule, message, severity in _data_uri_findings(value, ctx.lenient_severity):
            yield Problem(rule, pointer, message, severity)
    elif value.startswith("data:"):
        yield from _check_data_uri(value, pointer, ctx.lenient_severity)
    elif is_http_url(value):
        yield from _check_url(value, pointer, lookup)


@functools.lru_cache(maxsize=CACHED_URIS)
def _data_uri_findings(value: str, lenient: str) -> tuple[tuple[str, str, str], ...]:
    """Return (rule, message, severity) of each problem of a small data: URI, remembered:
    clients send the same images again and again, and Pillow's read is most of a check."""
    return tuple((p.rule, p.message, p.severity) for p in _check_data_uri(value, "", lenient))


def _check_data_uri(value: str, pointer: str, lenient: str) -> Iterator[Problem]:
    match = _DATA_URI.fullmatch(value)
    declared = DATA_TYPES.get(match.group(1)) if match else None
    if match is None or declared is None:
        yield Problem(
            "image.data_uri",
            pointer,
            "is not a data:image/png, image/jpeg or image/webp base64 URI; send "
            "data:image/png;base64,<the file's base64> (or image/jpeg, image/webp)",
        )
        return
    payload = match.group(2)
    if len(payload) > (MAX_BYTES + 2) // 3 * 4:  # more than 10 MB once decoded: not decoded
        yield _too_large(pointer, len(payload) // 4 * 3)
        return
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        yield Problem(
            "image.base64",
            pointer,
            f"the base64 after 'base64,' does not decode ({exc}); encode the whole file "
            "with standard base64 (A-Z, a-z, 0-9, +, /, '=' padding, no line breaks)",
        )
        return
    info, problems = check_bytes(data, pointer)
    yield from problems
    if info is not None and info.format in CONTENT_TYPES and info.format != declared:
        yield Problem(
            "image.declared_type",
            pointer,
            f"the URI says {match.group(1)} but the bytes are a {info.format} image; "
            f"start it with data:{info.content_type};base64,",
            severity=lenient,
        )


def _check_url(value: str, pointer: str, lookup: Lookup | None) -> Iterator[Problem]:
    if lookup is not None:
        try:
            stored = lookup(value)
        except KeyError:
            yield Problem(
                "image.upload_unknown",
                pointer,
                "this upload URL of the mock names no image it keeps (unknown, or dropped "
                "as one of the oldest uploads); upload the image again with "
                "POST /api/v1/image/send and use the URL it answers",
            )
            return
        if stored is not None:  # the mock's own upload: its bytes are checked
            yield from check_bytes(stored, pointer)[1]
            return
    extension = url_extension(value)
    if extension is None:
        yield Problem(
            "image.url_no_extension",
            pointer,
            "the URL's path has no file extension (as signed and CDN URLs have none): "
            "accepted, but the mock does not fetch it, so it cannot tell that it is a PNG, "
            "JPEG or WebP image of at most 10 MB; prefer a URL ending in .jpg, .jpeg, .png "
            "or .webp, a data: URI, or an upload (POST /api/v1/image/send)",
            severity="warning",
        )
    elif extension.lower() not in URL_EXTENSIONS:
        yield Problem(
            "image.url_extension",
            pointer,
            f"the URL names a .{extension} file; use a .jpg, .jpeg, .png or .webp image "
            "(convert it), a URL without extension, or a data: URI",
        )


def url_extension(url: str) -> str | None:
    """Return the file extension of `url`'s last path segment ("" for a trailing dot), or None
    when the segment has no dot."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    segment = path.rsplit("/", 1)[-1]
    return segment.rsplit(".", 1)[1] if "." in segment else None


def check_bytes(data: bytes, pointer: str) -> tuple[ImageInfo | None, list[Problem]]:
    """Read `data` with Pillow; return what it is (None if unreadable) and its problems."""
    if not data:
        return None, [
            Problem("image.empty", pointer, f"the image is empty (0 bytes); {_FIX_FORMAT}")
        ]
    if len(data) > MAX_BYTES:
        return None, [_too_large(pointer, len(data))]
    info = _read(data)
    if isinstance(info, str):
        return None, [
            Problem("image.decodable", pointer, f"is not a readable image ({info}); {_FIX_FORMAT}")
        ]
    if info.width * info.height > MAX_PIXELS:
        return info, [
            Problem(
                "image.max_pixels",
                pointer,
                f"the image declares {info.width}x{info.height} px, more than the mock decodes "
                f"({MAX_PIXELS:,} px, its bound IMAGE_PIXELS); scale it down",
            )
        ]
    if info.format not in CONTENT_TYPES:
        return info, [
            Problem(
                "image.format",
                pointer,
                f"is a {info.format} image; convert it to PNG, JPEG or WebP",
            )
        ]
    return info, list(_shape_problems(info, pointer))


def _read(data: bytes) -> ImageInfo | str:
    """Open `data` and check that it decodes; return what it is, or why it does not decode."""
    from PIL import Image, UnidentifiedImageError  # on first use: an idle mock does without

    try:
        with Image.open(io.BytesIO(data), formats=_OPENED) as image:
            fmt, (width, height) = str(image.format), image.size
            if width * height > MAX_PIXELS:
                pass  # declared too large: refused by its header, never decoded
            elif fmt == "PNG":
                image.verify()  # every chunk and its CRC, to the end: truncation and damage
            elif fmt == "JPEG":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()  # decoded at 1/8 scale: a truncated or damaged file raises
            elif fmt == "WEBP" and width * height <= DECODE_PIXELS:
                image.load()
    except UnidentifiedImageError:
        return "not a PNG, JPEG or WebP file, nor another image format Pillow knows"
    except Exception as exc:  # Pillow raises many kinds on bad input: each is "unreadable"
        return (str(exc) or type(exc).__name__)[:100]
    return ImageInfo(fmt, width, height, len(data))


def _shape_problems(info: ImageInfo, pointer: str) -> Iterator[Problem]:
    width, height = info.width, info.height
    if min(width, height) < MIN_SIDE:
        yield Problem(
            "image.min_side",
            pointer,
            f"the image is {width}x{height} px; each side must be at least {MIN_SIDE} px: "
            "scale it up",
        )
    if not (width and height):
        return
    ratio = width / height
    if not 1 / MAX_RATIO <= ratio <= MAX_RATIO:
        yield Problem(
            "image.aspect_ratio",
            pointer,
            f"the image is {width}x{height} px (aspect ratio {ratio:.2f}); width:height must "
            "be between 1:2.5 and 2.5:1 (0.40 to 2.50): crop or pad it",
        )


def _too_large(pointer: str, size: int) -> Problem:
    return Problem(
        "image.max_size",
        pointer,
        f"the image is {size:,} bytes, more than 10 MB ({MAX_BYTES:,} bytes); compress it "
        "or scale it down",
    )
