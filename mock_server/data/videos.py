"""The result videos: small pre-rendered H.264 MP4s, one per aspect ratio and duration.

They are made by ``fixtures/make_videos.py`` (``make videos``) and shipped in the wheel:
every aspect ratio a shipped video model offers, every whole second from 1 to 16 (the longest
any model allows), 96 files of about 1.2 MiB in all. Pre-rendered rather than made at run
time: an MP4 needs an H.264 encoder, which the package does not depend on.
"""

from __future__ import annotations

import math
from pathlib import Path

from mock_server.data.schemas import data_dir

RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
"""The aspect ratios rendered; another ratio gets the nearest of these."""
DURATIONS = range(1, 17)
"""The durations rendered, in seconds; a longer or shorter one gets the nearest."""
DEFAULT_RATIO = "16:9"


def ratio_value(aspect_ratio: str) -> float | None:
    """Return width / height of a ratio spelled ``W:H`` (positive numbers), else None."""
    width, sep, height = aspect_ratio.partition(":")
    try:
        value = float(width) / float(height) if sep else math.nan
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def nearest_ratio(aspect_ratio: str) -> str:
    """Return the rendered ratio closest to `aspect_ratio` (16:9 for one that is no ratio)."""
    value = ratio_value(aspect_ratio)
    if value is None:
        return DEFAULT_RATIO
    return min(RATIOS, key=lambda r: abs(math.log(value / (ratio_value(r) or 1.0))))


def video_path(aspect_ratio: str, duration: int) -> Path:
    """Return the MP4 file for a job of `aspect_ratio` ("16:9") and `duration` seconds: the
    nearest rendered ratio, the duration clamped to 1..16 s."""
    seconds = min(max(duration, DURATIONS.start), DURATIONS.stop - 1)
    name = f"{nearest_ratio(aspect_ratio).replace(':', 'x')}_{seconds}s.mp4"
    path = data_dir("videos") / name
    if not path.is_file():
        raise FileNotFoundError(f"no result video {name}; run fixtures/make_videos.py")
    return path
