"""The result images, covers and songs, made at run time (Pillow, the stdlib `wave` module).

Images are bands of colour with a label (which image, its size and ratio), sized by aspect
ratio and resolution class, in PNG, JPEG or WebP. Their content depends only on what is asked
(ratio, size, format, which image of the job), never on the job id, so one LRU cache serves
every job. Sizes are the classes' real long sides (1K = 1024 px, 4K = 4096 px): a client can
feed a result image back into an image model, whose checks want at least 300 px a side.

A song is a WAV file (PCM, 8 kHz, 16-bit mono, 5 s, about 80 KB): four notes, each variant a
different key. WAV needs no encoder (an MP3 would need one at build time and a file shipped in
the wheel) and plays in every browser and player.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
import sys
import wave
from array import array
from dataclasses import dataclass

DEFAULT_LONG_SIDE = 1024  # no resolution option (or one the mock cannot read): a 1K image
MAX_LONG_SIDE = 4096
MIN_LONG_SIDE = 64
FORMATS = {  # format name as Pillow spells it -> (file extension, content type)
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
_SAVE_OPTIONS = {
    "PNG": {"compress_level": 6},
    "JPEG": {"quality": 85},
    "WEBP": {"quality": 80, "method": 0},
}
# At most 5 digits a number, as _SIZE: an undocumented `resolution` is accepted by default.
_K = re.compile(r"(\d{1,5}(?:\.\d{1,3})?)k", re.IGNORECASE)  # 1K, 1.5K, 2k, 4K
_P = re.compile(r"(\d{1,5})p", re.IGNORECASE)  # 540p, 720P, 1080p (the short side of 16:9)
_PIXELS = re.compile(r"(\d{1,5})")  # 512, 1024: the long side
_SIZE = re.compile(r"([1-9][0-9]{0,4})\s*[x*]\s*([1-9][0-9]{0,4})", re.IGNORECASE)  # 1536x1024

AUDIO_RATE = 8000
AUDIO_SECONDS = 5
AUDIO_TYPE = "audio/wav"
_NOTES = (0, 4, 7, 12)  # semitones above the key: a major arpeggio
_KEY_HZ = 261.63  # middle C; variant n is n - 1 fifths up (folded into one octave)


@dataclass(frozen=True)
class Media:
    """A generated file: its bytes, content type, extension and a strong ETag."""

    data: bytes
    mimetype: str
    extension: str
    etag: str


def ratio_value(aspect_ratio: str) -> float | None:
    """Return width / height of a ratio spelled ``W:H`` (positive numbers), else None."""
    width, sep, height = aspect_ratio.partition(":")
    try:
        value = float(width) / float(height) if sep else math.nan
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def image_format(requested: object) -> str:
    """Return the Pillow format name for an ``output_format`` value (PNG when absent/other)."""
    return _FORMAT_NAMES.get(str(requested).lower(), "PNG") if requested else "PNG"


def extension(format_name: str) -> str:
    """Return the file extension of a Pillow format name from `image_format`."""
    return FORMATS[format_name][0]


def long_side(resolution: str | None) -> int:
    """Return the long side in pixels of a resolution class: ``1K``/``1.5K``/``2k``/``4K`` ->
    1024 x K; ``720p`` -> the long side of a 16:9 frame of that height (1280); a number ->
    itself; None or anything else -> 1024. Clamped to 64..4096."""
    text = (resolution or "").strip()
    if match := _K.fullmatch(text):
        side = round(float(match.group(1)) * 1024)
    elif match := _P.fullmatch(text):
        side = round(int(match.group(1)) * 16 / 9)
    elif match := _PIXELS.fullmatch(text):
        side = int(match.group(1))
    else:
        side = DEFAULT_LONG_SIDE
    return min(max(side, MIN_LONG_SIDE), MAX_LONG_SIDE)


def pixels(text: str | None) -> tuple[int, int] | None:
    """Return (width, height) of a size spelled ``WxH`` (``1536x1024``, ``1536*1024``), else
    None."""
    found = _SIZE.fullmatch(text.strip()) if text else None
    return (int(found.group(1)), int(found.group(2))) if found else None


def image_size(ratio: float, resolution: str | None) -> tuple[int, int]:
    """Return (width, height) of an image of width/height `ratio` in `resolution`'s class
    (an explicit ``WxH`` resolution is taken as it is, clamped to 4096 a side)."""
    if size := pixels(resolution):
        width, height = (min(side, MAX_LONG_SIDE) for side in size)
        return width, height
    side = long_side(resolution)
    if ratio >= 1:
        return side, max(round(side / ratio), 1)
    return max(round(side * ratio), 1), side


def _colour(n: int, step: int) -> tuple[int, int, int]:
    hue = (n * 0.161 + step * 0.035) % 1.0  # each image of a job its own colours
    r, g, b = (0.5 + 0.4 * math.cos(2 * math.pi * (hue + shift)) for shift in (0, 1 / 3, 2 / 3))
    return round(r * 255), round(g * 255), round(b * 255)


@functools.lru_cache(maxsize=64)
def picture(width: int, height: int, format_name: str, n: int, label: str) -> Media:
    """Return image `n` of `width` x `height` in `format_name` (see `image_format`): sixteen
    bands of colour, `label` written across the middle."""
    from PIL import Image, ImageDraw, ImageFont  # on first use: an idle mock does without

    bands = Image.new("RGB", (1, 16))
    for y in range(16):
        bands.putpixel((0, y), _colour(n, y))
    image = bands.resize((width, height), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(min(width, height) // 12, 10))
    draw.text((width / 2, height / 2), label, fill="white", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format_name, **_SAVE_OPTIONS[format_name])
    ext, mimetype = FORMATS[format_name]
    return make_media(out.getvalue(), mimetype, ext)


def result_image(ratio: str, resolution: str | None, format_name: str, n: int) -> Media:
    """Return image `n` (1-based) of a job asking `ratio` ("16:9"), `resolution` ("2K", None)
    and `format_name`; a ratio that is not ``W:H`` gets 1:1."""
    value = _ratio(ratio)
    width, height = image_size(value, resolution)
    return picture(width, height, format_name, n, f"#{n} {width}x{height} {ratio}")


def cover(n: int) -> Media:
    """Return the cover of song `n`: a 512 x 512 JPEG (Suno's covers are JPEGs)."""
    return picture(512, 512, "JPEG", n + 7, f"cover #{n}")


@functools.lru_cache(maxsize=16)
def song(n: int) -> Media:
    """Return song `n` (1-based): a playable WAV of four notes, 5 s at 8 kHz."""
    key = _KEY_HZ * 2 ** (((n - 1) * 7 % 12) / 12)
    per_note = AUDIO_RATE * AUDIO_SECONDS // len(_NOTES)
    fade = AUDIO_RATE // 50  # 20 ms in and out: no clicks between notes
    samples = array("h")
    for semitones in _NOTES:
        step = 2 * math.pi * key * 2 ** (semitones / 12) / AUDIO_RATE
        samples.extend(
            round(12000 * min(1.0, i / fade, (per_note - i) / fade) * math.sin(step * i))
            for i in range(per_note)
        )
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(samples.tobytes())
    return make_media(out.getvalue(), AUDIO_TYPE, "wav")


def _ratio(ratio: str) -> float:
    value = ratio_value(ratio)
    return value if value is not None and 0.05 <= value <= 20 else 1.0


def make_media(data: bytes, mimetype: str, ext: str) -> Media:
    """Return a `Media` of `data`, its ETag a hash of the bytes."""
    return Media(data, mimetype, ext, hashlib.blake2b(data, digest_size=12).hexdigest())
