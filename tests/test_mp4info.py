"""The MP4 reader (`data/mp4info.py`) on the videos the mock makes, and on what is no MP4;
and that the made videos decode with FFmpeg (a dev tool) without a warning."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mock_server.data import videos
from mock_server.data.mp4info import probe, probe_file


@pytest.mark.parametrize(
    ("ratio", "resolution", "seconds", "audio", "size"),
    [
        ("16:9", "1080p", 10, True, (1920, 1080)),
        ("9:16", "720p", 5, False, (720, 1280)),
        ("21:9", "480p", 1, True, (1120, 480)),
    ],
)
def test_probe_reads_size_duration_codec_and_sound(
    ratio: str, resolution: str, seconds: int, audio: bool, size: tuple[int, int]
) -> None:
    info = probe(videos.result_video(ratio, resolution, seconds, audio).data)
    assert (info.width, info.height) == size
    assert (info.codec, info.brand) == ("avc1", "isom")
    assert info.duration_s == seconds
    assert info.audio == ("mp4a" if audio else None)
    assert info.audio_s == (seconds if audio else 0.0)


def test_probe_file_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(videos.result_video("1:1", "540p", 3, False).data)
    assert (probe_file(path).width, probe_file(path).height) == (540, 540)


def test_garbage_raises() -> None:
    with pytest.raises(ValueError):
        probe(b"this is definitely not an mp4 file, just some text" * 3)
    with pytest.raises(ValueError):
        probe(b"")
    with pytest.raises(ValueError):
        probe(bytes(range(256)))


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.02])
def test_truncated_raises(keep: float) -> None:
    data = videos.result_video("16:9", "720p", 5, True).data
    with pytest.raises(ValueError, match="truncated"):
        probe(data[: int(len(data) * keep)])


@pytest.mark.parametrize(
    ("ratio", "resolution", "seconds", "audio"),
    [("16:9", "1080p", 3, True), ("9:16", "4k", 1, False), ("4:3", "540p", 5, True)],
)
def test_made_videos_decode_with_ffmpeg(
    tmp_path: Path, ratio: str, resolution: str, seconds: int, audio: bool
) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "v.mp4"
    path.write_bytes(videos.result_video(ratio, resolution, seconds, audio).data)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    decode = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "framemd5", "-"]
    result = subprocess.run(decode, capture_output=True, text=True, check=False, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    frames = [line.split(",") for line in result.stdout.splitlines() if not line.startswith("#")]
    pictures = [f for f in frames if f[0].strip() == "0"]
    sounds = [f for f in frames if f[0].strip() == "1"]
    assert len(pictures) == seconds * videos.FPS
    assert len({f[-1] for f in pictures}) == 1  # every skipped picture a copy of the first
    assert bool(sounds) is audio
    if audio:  # 48 kHz, as long as the picture to within one AAC frame
        samples = sum(int(f[3]) for f in sounds)
        assert abs(samples - seconds * 48000) <= 1024
