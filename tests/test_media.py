"""The result media themselves (plain Python, no app): which videos are rendered, the image
sizes by resolution class and their formats, the songs and covers."""

from __future__ import annotations

import io
import wave
from array import array
from typing import Any

import pytest
from PIL import Image

from mock_server.catalog.registry import SHIPPED, ModelSpec
from mock_server.data import media, schemas, videos
from mock_server.data.mp4info import probe_file

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


def test_every_catalogue_ratio_and_duration_is_rendered() -> None:
    ratios = {r for spec in VIDEO_MODELS for r in options(spec, "aspect_ratio") if r != "auto"}
    durations = {int(d) for spec in VIDEO_MODELS for d in options(spec, "duration")}
    durations |= {spec.duration({}) for spec in VIDEO_MODELS}  # the defaults
    assert ratios == set(videos.RATIOS)  # 16:9, 9:16, 1:1, 4:3, 3:4, 21:9: no more, no less
    assert max(durations) == max(videos.DURATIONS) == 16  # vidu-q3
    assert durations <= set(videos.DURATIONS)


@pytest.mark.parametrize("ratio", videos.RATIOS)
@pytest.mark.parametrize("seconds", [1, 8, 15, 16])
def test_video_path_is_an_mp4_of_that_ratio_and_duration(ratio: str, seconds: int) -> None:
    info = probe_file(videos.video_path(ratio, seconds))
    rw, rh = (int(x) for x in ratio.split(":"))
    assert info.width * rh == info.height * rw
    assert abs(info.duration_s - seconds) <= 0.2


@pytest.mark.parametrize(
    ("ratio", "seconds", "name"),
    [
        ("auto", 8, "16x9_8s.mp4"),  # from the input image, which the mock does not fetch
        ("2:1", 5, "16x9_5s.mp4"),  # the nearest rendered ratio
        ("9:21", 5, "9x16_5s.mp4"),
        ("5:4", 5, "4x3_5s.mp4"),
        ("16:9", 0, "16x9_1s.mp4"),  # clamped to 1..16 s
        ("16:9", 60, "16x9_16s.mp4"),
    ],
)
def test_video_path_falls_back_to_the_nearest_file(ratio: str, seconds: int, name: str) -> None:
    assert videos.video_path(ratio, seconds).name == name


def test_video_fixtures_stay_small() -> None:
    total = sum(p.stat().st_size for p in schemas.data_dir("videos").glob("*.mp4"))
    assert total < 2 * 1024 * 1024  # 1.18 MiB when rendered; the wheel ships them


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
