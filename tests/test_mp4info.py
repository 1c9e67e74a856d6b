from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mock_server.data import videos
from mock_server.data.mp4info import probe, probe_file

VIDEOS = Path(__file__).resolve().parent.parent / "fixtures" / "videos"
NAME_RE = re.compile(r"^(\d+)x(\d+)_(\d+)s\.mp4$")
FILES = sorted(VIDEOS.glob("*.mp4"))


def test_fixture_set_is_complete() -> None:
    names = {p.name for p in FILES}
    expected = {
        f"{ratio.replace(':', 'x')}_{d}s.mp4" for ratio in videos.RATIOS for d in videos.DURATIONS
    }
    assert names == expected
    assert len(names) == 96


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fixture_probes(path: Path) -> None:
    m = NAME_RE.match(path.name)
    assert m is not None, path.name
    rw, rh, seconds = (int(g) for g in m.groups())
    info = probe_file(path)
    assert info.codec == "avc1"
    assert info.brand == "isom"
    assert abs(info.duration_s - seconds) <= 0.2
    assert info.width > 0 and info.height > 0
    assert info.width * rh == info.height * rw


def test_garbage_raises() -> None:
    with pytest.raises(ValueError):
        probe(b"this is definitely not an mp4 file, just some text" * 3)
    with pytest.raises(ValueError):
        probe(b"")
    with pytest.raises(ValueError):
        probe(bytes(range(256)))


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.02])
def test_truncated_raises(keep: float) -> None:
    data = (VIDEOS / "16x9_5s.mp4").read_bytes()
    with pytest.raises(ValueError, match="truncated"):
        probe(data[: int(len(data) * keep)])


def test_fixture_decodes_with_ffmpeg() -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    result = subprocess.run(
        [
            ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(VIDEOS / "16x9_5s.mp4"),
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
