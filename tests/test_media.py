"""The result media themselves (plain Python, no app): the videos' frame sizes, lengths and
sound, the image sizes by resolution class and their formats, the songs and covers."""

from __future__ import annotations

import io
import wave
import zipfile
from array import array
from typing import Any

import pytest
from PIL import Image

from mock_server.catalog.registry import SHIPPED, ModelSpec
from mock_server.data import media, schemas, videos
from mock_server.data.mp4info import probe

VIDEO_MODELS = [spec for spec in SHIPPED.values() if spec.output == "videos"]
IMAGE_MODELS = [spec for spec in SHIPPED.values() if spec.output == "images"]


def options(spec: ModelSpec, name: str) -> list[Any]:
    """Return the values the model's args schema allows for `name` (enum, or a range)."""
    prop = schemas.load(spec.args_schema).get("properties", {}).get(name, {})
    if "enum" in prop:
        return list(prop["enum"])
    if "minimum" in prop and "maximum" in prop:
        return list(range(prop["minimum"], prop["maximum"] + 1))
    return []


# --- videos -----------------------------------------------------------------------------


def test_every_catalogue_ratio_and_resolution_is_made() -> None:
    ratios = {r for spec in VIDEO_MODELS for r in options(spec, "aspect_ratio") if r != "auto"}
    assert ratios == set(videos.RATIOS)  # 16:9, 9:16, 1:1, 4:3, 3:4, 21:9: no more, no less
    resolutions = {r for spec in VIDEO_MODELS for r in options(spec, "resolution")}
    resolutions |= {spec.resolution({}) for spec in VIDEO_MODELS}  # the defaults
    assert resolutions == {"540p", "720p", "1080p", "720P", "1080P", "4k"}
    assert {videos.short_side(r) for r in resolutions} == {540, 720, 1080, 2160}
    durations = {int(d) for spec in VIDEO_MODELS for d in options(spec, "duration")}
    assert max(durations) <= videos.MAX_SECONDS


@pytest.mark.parametrize(
    ("ratio", "resolution", "size"),
    [
        ("16:9", "1080p", (1920, 1080)),
        ("9:16", "1080p", (1080, 1920)),
        ("1:1", "1080P", (1080, 1080)),
        ("4:3", "720P", (960, 720)),
        ("3:4", "540p", (540, 720)),
        ("21:9", "720p", (1680, 720)),
        ("16:9", "480p", (854, 480)),  # even: 853.3 rounds to 854
        ("16:9", "540p", (960, 540)),
        ("16:9", "2k", (2560, 1440)),
        ("16:9", "1440p", (2560, 1440)),
        ("16:9", "4k", (3840, 2160)),
        ("9:16", "4K", (2160, 3840)),
        ("16:9", "2160p", (3840, 2160)),
        ("16:9", "1280x720", (1280, 720)),
        ("16:9", None, (1280, 720)),  # no resolution: 720p
        ("16:9", "huge", (1280, 720)),
        ("16:9", "1000p", (1920, 1080)),  # the nearest class
        ("auto", "1080p", (1920, 1080)),  # from the input image, not fetched: 16:9
        ("2:1", "720p", (1280, 720)),  # the nearest ratio made
        ("9:21", "720p", (720, 1280)),  # no 9:21 is made: 9:16
    ],
)
def test_frame_size_is_the_class_on_the_short_side(
    ratio: str, resolution: str | None, size: tuple[int, int]
) -> None:
    assert videos.frame_size(ratio, resolution) == size


def test_every_frame_size_has_its_intra_picture() -> None:
    with zipfile.ZipFile(schemas.data_dir("videos") / videos.BLOCKS) as archive:
        names = set(archive.namelist())
    assert names == {f"h264/{w}x{h}.264" for w, h in videos.frame_sizes()} | {videos.SILENCE}
    assert len(videos.frame_sizes()) == len(videos.RATIOS) * len(videos.CLASSES) == 36


@pytest.mark.parametrize(
    ("ratio", "resolution", "seconds", "audio"),
    [("16:9", "1080p", 10, True), ("9:16", "4k", 8, False), ("1:1", "540p", 16, True)],
)
def test_a_video_has_its_size_length_and_sound(
    ratio: str, resolution: str, seconds: int, audio: bool
) -> None:
    made = videos.result_video(ratio, resolution, seconds, audio)
    info = probe(made.data)
    assert (info.width, info.height) == videos.frame_size(ratio, resolution)
    assert (info.duration_s, info.audio is not None) == (seconds, audio)
    assert (made.mimetype, made.extension) == ("video/mp4", "mp4")


@pytest.mark.parametrize(("seconds", "made"), [(0, 1), (-3, 1), (60, 60), (3600, 60)])
def test_a_video_lasts_1_to_60_seconds(seconds: int, made: int) -> None:
    assert probe(videos.result_video("16:9", "480p", seconds, False).data).duration_s == made


def test_videos_are_cached_deterministic_and_bounded() -> None:
    videos.video.cache_clear()
    first = videos.result_video("16:9", "720p", 5, True)
    assert videos.result_video("16:9", "720p", 5, True) is first  # the cache
    videos.video.cache_clear()
    assert videos.result_video("16:9", "720p", 5, True) == first  # the same bytes, made again
    assert videos.result_video("16:9", "720p", 5, False).data != first.data
    for seconds in range(1, videos.CACHE_SIZE + 5):
        videos.result_video("16:9", "480p", seconds, False)
    assert videos.video.cache_info().currsize == videos.CACHE_SIZE


def test_4k_video_stays_small() -> None:
    # a still: one intra picture every 2 s, skipped pictures between
    assert len(videos.result_video("16:9", "4k", 10, True).data) < 300_000


def test_video_blocks_stay_small() -> None:
    shipped = sum(p.stat().st_size for p in schemas.data_dir("videos").iterdir())
    assert shipped < 500_000  # 390 KB when built; the wheel ships them


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "side"),
    [
        (None, 1024),
        ("1K", 1024),
        ("1k", 1024),
        ("1.5K", 1536),
        ("2K", 2048),
        ("2k", 2048),
        ("3k", 3072),
        ("4K", 4096),
        ("720p", 1280),
        ("1080P", 1920),
        ("512", 512),
        ("8K", 4096),  # capped
        ("huge", 1024),
    ],
)
def test_resolution_classes_map_to_a_long_side(resolution: str | None, side: int) -> None:
    assert media.long_side(resolution) == side


@pytest.mark.parametrize(
    ("ratio", "resolution", "size"),
    [
        ("16:9", "1K", (1024, 576)),
        ("9:16", "2K", (1152, 2048)),
        ("21:9", None, (1024, 439)),
        ("1:1", "4K", (4096, 4096)),
        ("3:2", "1536x1024", (1536, 1024)),
    ],
)
def test_image_size_keeps_the_ratio_and_the_class(
    ratio: str, resolution: str | None, size: tuple[int, int]
) -> None:
    rw, rh = (int(x) for x in ratio.split(":"))
    assert media.image_size(rw / rh, resolution) == size


def test_every_catalogue_image_can_be_fed_back_as_an_input() -> None:
    # A result image used as the input of another job must pass the input checks
    # (A-image-content): at least 300 px a side, width:height within 0.4..2.5.
    shapes = {
        (ratio, resolution)
        for spec in IMAGE_MODELS
        for ratio in options(spec, "aspect_ratio") or ["1:1"]
        for resolution in options(spec, "resolution") or [None]
    }
    assert ("21:9", None) in shapes and ("9:16", "4K") in shapes
    for ratio, resolution in shapes:
        rw, rh = (int(x) for x in ratio.split(":"))
        width, height = media.image_size(rw / rh, resolution)
        assert min(width, height) >= 300, (ratio, resolution)
        assert 0.4 <= width / height <= 2.5, (ratio, resolution)


@pytest.mark.parametrize(
    ("requested", "fmt", "ext"),
    [(None, "PNG", "png"), ("png", "PNG", "png"), ("jpeg", "JPEG", "jpg"), ("JPG", "JPEG", "jpg"),
     ("webp", "WEBP", "webp"), ("gif", "PNG", "png")],
)  # fmt: skip
def test_result_images_decode_in_their_format(requested: str | None, fmt: str, ext: str) -> None:
    name = media.image_format(requested)
    assert (name, media.extension(name)) == (fmt, ext)
    made = media.result_image("4:3", "1K", name, 2)
    with Image.open(io.BytesIO(made.data)) as image:
        assert image.format == fmt
        assert image.size == (1024, 768)
        image.load()
    assert made.mimetype == f"image/{'jpeg' if fmt == 'JPEG' else fmt.lower()}"


def test_result_images_are_deterministic_and_differ_by_number() -> None:
    first = media.result_image("16:9", "1K", "PNG", 1).data
    media.picture.cache_clear()
    assert media.result_image("16:9", "1K", "PNG", 1).data == first
    assert media.result_image("16:9", "1K", "PNG", 2).data != first


def test_a_ratio_that_is_not_one_gets_a_square() -> None:
    with Image.open(io.BytesIO(media.result_image("auto", None, "PNG", 1).data)) as image:
        assert image.size == (1024, 1024)


# --- songs and covers -------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2])
def test_song_is_a_playable_wav_with_a_tone(n: int) -> None:
    song = media.song(n)
    assert song.mimetype == "audio/wav" and song.extension == "wav"
    with wave.open(io.BytesIO(song.data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() / wav.getframerate() == pytest.approx(5.0)
        samples = array("h", wav.readframes(wav.getnframes()))
    assert max(samples) > 8000 and min(samples) < -8000  # not silence
    assert len(song.data) < 100_000


def test_the_two_songs_differ() -> None:
    assert media.song(1).data != media.song(2).data


def test_cover_is_a_square_jpeg() -> None:
    cover = media.cover(1)
    assert cover.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(cover.data)) as image:
        assert (image.format, image.size) == ("JPEG", (512, 512))
