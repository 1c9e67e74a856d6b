"""The result videos: H.264 MP4s of the frame size, length and audio a job asks, made here.

Frame size (A-result-mp4): the resolution class is the frame's short side, the long side
follows the aspect ratio, rounded to an even number: ``480p``, ``540p``, ``720p``, ``1080p``
(any case), ``1440p`` or ``2k``, ``2160p`` or ``4k``; ``WxH`` its short side; any other number
the nearest class (``Nk``: N x 720); none 720p. So 16:9 1080p is 1920x1080, 9:16 1080p
1080x1920, 1:1 1080p 1080x1080, 21:9 720p 1680x720. The ratio is the nearest of `RATIOS`
(every ratio a shipped video model offers). Length: whole seconds, 1 to 60. Audio: an AAC-LC
track (48 kHz stereo, silent) when the job asks for sound, none when not.

How, without an encoder at run time: ``fixtures/videos/blocks.zip`` (made by
``fixtures/make_videos.py`` with ffmpeg, a dev tool) holds one H.264 intra picture per frame
size and one AAC frame of silence. A video is that picture every `KEY_SECONDS` seconds, the
pictures between it skipped copies (`h264.skipped_picture`), `FPS` pictures a second, and the
silent frame repeated; `mp4mux` writes the MP4. A 1080p 10 s video is about 60 KB. Files are
cached (`CACHE_SIZE` most recent) since every job of the same shape gets the same bytes.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile

from mock_server.data import h264, mp4mux
from mock_server.data.media import Media, make_media, pixels, ratio_value
from mock_server.data.schemas import data_dir

RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
"""The aspect ratios made; another ratio gets the nearest of these."""
CLASSES: tuple[int, ...] = (480, 540, 720, 1080, 1440, 2160)
"""The resolution classes made, by the frame's short side in pixels."""
DEFAULT_RATIO = "16:9"
DEFAULT_CLASS = 720
MIN_SECONDS, MAX_SECONDS = 1, 60
FPS = 24
KEY_SECONDS = 2  # an intra picture every 2 s: a player can seek
BLOCKS = "blocks.zip"
SILENCE = "aac/silence.raw"
AUDIO_RATE, AUDIO_CHANNELS, AAC_FRAME = 48000, 2, 1024
_AUDIO_CONFIG = bytes([0x11, 0x90])  # AudioSpecificConfig: AAC-LC, 48 kHz, 2 channels
CACHE_SIZE = 16
_NAMED = {"qhd": 1440, "4k": 2160, "uhd": 2160}
_P = re.compile(r"(\d{3,4})p", re.IGNORECASE)
# At most 5 digits a number: an undocumented `resolution` is accepted by default, and one of
# 5,000 digits must not overflow a float or pass Python's int-string limit.
_K = re.compile(r"(\d{1,5}(?:\.\d{1,3})?)k", re.IGNORECASE)
_NUMBER = re.compile(r"(?<!\d)(\d{1,5}(?:\.\d{1,3})?)(?!\d)")


def nearest_ratio(aspect_ratio: str) -> str:
    """Return the ratio made that is closest to `aspect_ratio` (16:9 for one that is no ratio)."""
    value = ratio_value(aspect_ratio)
    if value is None:
        return DEFAULT_RATIO
    return min(RATIOS, key=lambda r: abs(math.log(value / (ratio_value(r) or 1.0))))


def short_side(resolution: str | None) -> int:
    """Return the frame's short side for a resolution option in any model's spelling:
    ``1080p``/``1080P`` -> 1080, ``2k`` -> 1440, ``4K`` -> 2160, ``1280x720`` -> 720, ``Nk`` ->
    N x 720; another number the nearest class (``1000p`` -> 1080); None or no number -> 720."""
    text = (resolution or "").strip().lower()
    if text in _NAMED:
        return _NAMED[text]
    if size := pixels(text):
        value = float(min(size))
    elif kilo := _K.fullmatch(text):
        value = float(kilo.group(1)) * 720  # 1k 720, 2k 1440, 3k the nearest: 2160
    elif match := _P.fullmatch(text) or _NUMBER.search(text):
        value = float(match.group(1))
    else:
        return DEFAULT_CLASS
    return min(CLASSES, key=lambda c: abs(c - value))


def frame_size(aspect_ratio: str, resolution: str | None) -> tuple[int, int]:
    """Return (width, height) of a video of `aspect_ratio` in `resolution` (module docstring)."""
    rw, rh = (int(x) for x in nearest_ratio(aspect_ratio).split(":"))
    short = short_side(resolution)
    long = 2 * round(short * max(rw, rh) / min(rw, rh) / 2)
    return (long, short) if rw >= rh else (short, long)


def frame_sizes() -> list[tuple[int, int]]:
    """Return every frame size a video can have (one intra picture each in the blocks)."""
    return sorted({frame_size(r, f"{c}p") for r in RATIOS for c in CLASSES})


@functools.cache
def _archive() -> dict[str, bytes]:
    path = data_dir("videos") / BLOCKS
    if not path.is_file():
        raise FileNotFoundError(f"no {BLOCKS}; run fixtures/make_videos.py")
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@functools.lru_cache(maxsize=len(RATIOS) * len(CLASSES))
def _intra(width: int, height: int) -> tuple[h264.Stream, bytes, bytes, bytes]:
    """Return the stream, SPS, PPS and IDR NAL units of the intra picture of that size."""
    units = {u[0] & 0x1F: u for u in h264.nal_units(_archive()[f"h264/{width}x{height}.264"])}
    sps, pps, idr = units[h264.NAL_SPS], units[h264.NAL_PPS], units[h264.NAL_IDR]
    return h264.read_stream(sps, pps), sps, pps, idr


def _sample(nal: bytes) -> bytes:
    return len(nal).to_bytes(4, "big") + nal  # MP4 holds NAL units length-prefixed


@functools.lru_cache(maxsize=CACHE_SIZE)
def video(width: int, height: int, seconds: int, audio: bool) -> Media:
    """Return the MP4 of a still video of that frame size (one of `frame_sizes`), length in
    whole seconds and with a silent AAC track when `audio`."""
    stream, sps, pps, idr = _intra(width, height)
    gop = FPS * KEY_SECONDS
    key = _sample(idr)
    frames = [
        key if i % gop == 0 else _sample(h264.skipped_picture(stream, i % gop))
        for i in range(seconds * FPS)
    ]
    tracks = [
        mp4mux.Track(
            kind="vide",
            timescale=FPS * 512,
            samples=frames,
            durations=[512] * len(frames),
            entry=mp4mux.avc1(width, height, sps, pps),
            sync=list(range(1, len(frames) + 1, gop)),
            width=width,
            height=height,
        )
    ]
    if audio:
        total = seconds * AUDIO_RATE
        count = -(-total // AAC_FRAME)
        tracks.append(
            mp4mux.Track(
                kind="soun",
                timescale=AUDIO_RATE,
                samples=[_archive()[SILENCE]] * count,
                durations=[AAC_FRAME] * (count - 1) + [total - AAC_FRAME * (count - 1)],
                entry=mp4mux.mp4a(AUDIO_RATE, AUDIO_CHANNELS, _AUDIO_CONFIG, 64000),
            )
        )
    return make_media(mp4mux.mux(tracks), "video/mp4", "mp4")


def result_video(aspect_ratio: str, resolution: str | None, seconds: int, audio: bool) -> Media:
    """Return the video of a job asking `aspect_ratio` ("16:9"), `resolution` ("1080p", None),
    `seconds` (clamped to 1..60) and sound or not."""
    width, height = frame_size(aspect_ratio, resolution)
    return video(width, height, min(max(seconds, MIN_SECONDS), MAX_SECONDS), audio)
