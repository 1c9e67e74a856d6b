"""The result videos: small pre-rendered H.264 MP4s, one per aspect ratio and duration.

They are made by ``fixtures/make_videos.py`` and shipped in the wheel.
"""

from __future__ import annotations

from pathlib import Path

from mock_server.data.schemas import data_dir


def video_path(aspect_ratio: str, duration: int) -> Path:
    """Return the MP4 file for a job of `aspect_ratio` ("16:9") and `duration` seconds."""
    name = f"{aspect_ratio.replace(':', 'x')}_{duration}s.mp4"
    path = data_dir("videos") / name
    if not path.is_file():
        raise FileNotFoundError(f"no result video {name}; run fixtures/make_videos.py")
    return path
