"""Per-test overhead of each pytest fixture (setup + teardown, median over N tests), and
the wall time of a test that runs a 10-second job to success and receives its callback; and
the result media: the bytes the video blocks ship, the time and memory to make the first
video of each kind (uncached, then cached), one image per resolution class and format
(uncached), the song and cover sizes (``--media-only`` for just those).

Runs pytest in a subprocess on generated test files; a tiny plugin records phase times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import write_json
from mock_server.data import h264, media, schemas, videos

IMAGE_CLASSES = ("1K", "2K", "4K")
VIDEO_KINDS = {  # name -> (ratio, resolution, seconds, audio)
    "video_1080p_10s_audio": ("16:9", "1080p", 10, True),
    "video_4k_8s": ("16:9", "4k", 8, False),
    "video_540p_5s_9x16": ("9:16", "540p", 5, False),
}

RECORDER = """
import json, os

def pytest_runtest_logreport(report):
    with open(os.environ["PHASES_OUT"], "a") as out:
        out.write(json.dumps([report.nodeid, report.when, report.duration]) + "\\n")
"""

TRIVIAL = """
def test_{n}({fixture}):
    assert {fixture}.base_url
"""

BASELINE = """
def test_{n}():
    assert True
"""

JOB = """
import requests

BODY = {{"model": "kwaivgi/kling-o1/image-to-video",
        "args": {{"mode": "std", "action": "frame", "prompt": "a cat", "duration": "10",
                 "images": ["https://example.com/a.jpg", "https://example.com/b.jpg"]}}}}

def test_ten_second_job(shortapi_mock, shortapi_receiver):
    response = requests.post(shortapi_mock.url("/api/v1/job/create"),
                             json={{**BODY, "callback_url": shortapi_receiver.url}},
                             headers=shortapi_mock.headers)
    job_id = response.json()["data"]["job_id"]
    shortapi_mock.run_all()
    data = requests.get(shortapi_mock.url(f"/api/v1/job/query?id={{job_id}}"),
                        headers=shortapi_mock.headers).json()["data"]
    assert data["status"] == 2
    assert shortapi_receiver.bodies()[0]["data"]["job_id"] == job_id
"""


def run(tests: str, workdir: Path) -> list[tuple[str, str, float]]:
    """Run the test source with the recorder; return (nodeid, phase, seconds)."""
    (workdir / "test_generated.py").write_text(tests)
    (workdir / "conftest.py").write_text(RECORDER)
    out = workdir / "phases.jsonl"
    out.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(workdir)],
        check=True,
        capture_output=True,
        env={**os.environ, "PHASES_OUT": str(out)},
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return [(str(nodeid), str(phase), float(seconds)) for nodeid, phase, seconds in rows]


def overhead(rows: list[tuple[str, str, float]]) -> float:
    """Median of setup + teardown per test, in milliseconds (first test excluded)."""
    per_test: dict[str, float] = {}
    for nodeid, phase, seconds in rows:
        if phase in ("setup", "teardown"):
            per_test[nodeid] = per_test.get(nodeid, 0.0) + seconds
    values = list(per_test.values())[1:]  # the first one pays the session set-up
    return statistics.median(values) * 1000


def media_figures() -> dict[str, Any]:
    """Return the sizes and times of the result media, each image and song made uncached."""
    shipped = list(schemas.data_dir("videos").iterdir())
    figures: dict[str, Any] = {
        "video_files": len(shipped),
        "video_total_mib": round(sum(p.stat().st_size for p in shipped) / 2**20, 3),
    }
    figures.update(video_figures())
    media.picture.cache_clear()
    started = time.perf_counter()
    made = media.result_image("3:2", "1536x1024", "PNG", 1)  # gpt-image-2 size 1536x1024
    figures["image_1536x1024_png"] = {
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "bytes": len(made.data),
    }
    for resolution in IMAGE_CLASSES:
        for fmt in media.FORMATS:
            media.picture.cache_clear()
            started = time.perf_counter()
            made = media.result_image("16:9", resolution, fmt, 1)
            elapsed = (time.perf_counter() - started) * 1000
            figures[f"image_{resolution}_{fmt.lower()}"] = {
                "ms": round(elapsed, 1),
                "bytes": len(made.data),
            }
    media.song.cache_clear()
    started = time.perf_counter()
    song = media.song(1)
    figures["song"] = {
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "bytes": len(song.data),
    }
    figures["cover_bytes"] = len(media.cover(1).data)
    return figures


def video_figures() -> dict[str, Any]:
    """Return, per kind of video, the ms to make the first one (every cache empty: the blocks
    read and parsed too), the ms to serve it again (cached) and its bytes; and the memory
    the caches hold when full of the biggest kind (tracemalloc)."""
    figures: dict[str, Any] = {}
    for name, shape in VIDEO_KINDS.items():
        for cache in (videos.video, videos._intra, videos._archive, h264.skipped_picture):
            cache.cache_clear()
        started = time.perf_counter()
        made = videos.result_video(*shape)
        first = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        videos.result_video(*shape)
        again = (time.perf_counter() - started) * 1000
        figures[name] = {
            "ms": round(first, 1),
            "cached_ms": round(again, 3),
            "bytes": len(made.data),
        }
    for cache in (videos.video, videos._intra, videos._archive, h264.skipped_picture):
        cache.cache_clear()
    tracemalloc.start()
    for seconds in range(1, videos.CACHE_SIZE + 1):  # a full cache of 4K 16:9 with sound
        videos.result_video("16:9", "4k", seconds, True)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["video_cache_full_4k_kib"] = {"held": current // 1024, "peak": peak // 1024}
    return figures


def print_media(figures: dict[str, Any]) -> None:
    """Print the media figures, one a line."""
    print(
        f"{'video fixtures':36s} {figures['video_files']} files, {figures['video_total_mib']} MiB"
    )
    for name, value in figures.items():
        if name.startswith("video_") and isinstance(value, dict) and "ms" in value:
            label = name.replace("_", " ")
            print(
                f"{label:36s} {value['ms']:8.1f} ms {value['bytes']:>9,} bytes"
                f" (again, cached: {value['cached_ms']:.3f} ms)"
            )
        if name == "video_cache_full_4k_kib":
            print(f"{'video cache, 16 4K files held':36s} {value['held']:>8,} KiB"
                  f" (peak {value['peak']:,} KiB)")  # fmt: skip
        if name.startswith("image_") or name == "song":
            label = name.replace("_", " ", 2) + ("" if "x" in name else " (16:9)")
            label = label if name != "song" else "song (WAV, 5 s)"
            print(f"{label:36s} {value['ms']:8.1f} ms {value['bytes']:>9,} bytes")
    print(f"{'cover (JPEG 512x512)':36s} {figures['cover_bytes']:>21,} bytes")


def main() -> int:
    """Print the figures; write reports/fixtures.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--output", default="reports/fixtures.json")
    parser.add_argument("--media-only", action="store_true", help="only the result media")
    args = parser.parse_args()
    figures = media_figures()
    print_media(figures)
    if args.media_only:
        write_json(args.output, {"media": figures})
        return 0
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline = "".join(BASELINE.format(n=n) for n in range(args.tests))
        results["no fixture"] = round(overhead(run(baseline, workdir)), 3)
        for fixture in ("shortapi_mock", "shortapi_responses", "shortapi_httpx"):
            source = "".join(TRIVIAL.format(n=n, fixture=fixture) for n in range(args.tests))
            results[fixture] = round(overhead(run(source, workdir)), 3)
        rows = run(textwrap.dedent(JOB.format()), workdir)
        phases = {phase: seconds * 1000 for _, phase, seconds in rows}
        results["ten_second_job_call_ms"] = round(phases["call"], 2)
        results["ten_second_job_with_session_start_ms"] = round(sum(phases.values()), 1)
    labels = {
        "ten_second_job_call_ms": "10 s job + callback (test body)",
        "ten_second_job_with_session_start_ms": "  same, with server start/stop",
    }
    for name, value in results.items():
        print(f"{labels.get(name, name + ' overhead'):36s} {value:8.2f} ms")
    write_json(args.output, {**results, "media": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
