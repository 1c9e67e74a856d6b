"""Results by output kind: what query answers under ``result`` and the files it points at,
downloaded from the mock and decoded (mp4info, Pillow, wave). In process on both stores, every
shipped model once, and over HTTP on a served mock."""

from __future__ import annotations

import copy
import io
import wave
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from helpers import AUTH, advance, create, query
from jsonschema import Draft202012Validator
from PIL import Image
from serving import ServedMock, serve_args, served_mock
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from mock_server import close_app, create_app
from mock_server.api.journal import MEDIA_MARK
from mock_server.catalog.registry import MODELS, SHIPPED, ModelSpec, Reader
from mock_server.data import schemas
from mock_server.data.mp4info import probe
from mock_server.data.videos import nearest_ratio

FAKE = "test/fake-image/text-to-image"  # a model with an output_format option


def example(model: str, **args: Any) -> dict[str, Any]:
    """Return a create body for `model`: its model file's example args, `args` merged over
    them (None removes one)."""
    merged = {**copy.deepcopy(schemas.load(SHIPPED[model].args_schema)["examples"][0]), **args}
    return {"model": model, "args": {k: v for k, v in merged.items() if v is not None}}


def finished(client: FlaskClient, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    """Create a job, check its files are not served yet, run it out; return query's data."""
    response = create(client, payload, **headers)
    assert response.status_code == 200, response.json
    job_id = response.json["data"]["job_id"]
    for path in (f"/files/{job_id}.mp4", f"/files/{job_id}/1.png", f"/files/{job_id}/music-1.wav"):
        assert_404(client.get(path))  # nothing before success
    advance(client, 3600)
    data: dict[str, Any] = query(client, job_id).json["data"]
    schemas.validator("job.json").validate(data)
    return data


def fetch(client: FlaskClient, url: str, mimetype: str) -> bytes:
    with client.get(urlsplit(url).path) as response:  # a video is an open file: close it
        assert response.status_code == 200, response.json
        assert response.mimetype == mimetype
        assert response.headers["Cache-Control"] == "public, max-age=3600"
        data: bytes = response.data
    return data


def assert_404(response: Any) -> None:
    assert response.status_code == 404
    assert response.json["code"] == 1203


def picture(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return str(image.format), image.size


def seconds_of(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


def ratio_of(size: tuple[int, int]) -> float:
    return size[0] / size[1]


# --- every shipped model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def memory_client() -> Iterator[FlaskClient]:
    app = create_app({"STORE": "memory", "CLOCK": "manual"})
    yield app.test_client()
    close_app(app)


@pytest.mark.parametrize("model", sorted(SHIPPED))
def test_every_model_serves_files_of_its_kind(memory_client: FlaskClient, model: str) -> None:
    spec, payload = SHIPPED[model], example(model)
    data = finished(memory_client, payload)
    assert list(data["result"]) == [spec.output]
    entries = data["result"][spec.output]
    args = payload["args"]
    if spec.output == "videos":
        (entry,) = entries
        info = probe(fetch(memory_client, entry["url"], "video/mp4"))
        rw, rh = (int(x) for x in nearest_ratio(spec.aspect_ratio(args)).split(":"))
        assert info.width * rh == info.height * rw
        assert abs(info.duration_s - spec.duration(args)) <= 0.2
    elif spec.output == "images":
        assert len(entries) == spec.count(args)
        for n, entry in enumerate(entries, 1):
            assert entry["url"].endswith(f"/{n}.png")
            fmt, size = picture(fetch(memory_client, entry["url"], "image/png"))
            rw, rh = (int(x) for x in spec.aspect_ratio(args).split(":"))
            assert fmt == "PNG" and abs(ratio_of(size) - rw / rh) < 0.01
    else:
        assert len(entries) == 2
        for entry in entries:
            assert set(entry) == {"url", "cover", "title", "lyrics", "tags"}
            assert seconds_of(fetch(memory_client, entry["url"], "audio/wav")) > 0
            assert picture(fetch(memory_client, entry["cover"], "image/jpeg"))[0] == "JPEG"


# --- videos -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "ratio", "seconds"),
    [
        (example("bytedance/seedance-2.0/text-to-video", aspect_ratio="21:9", duration=15),
         (21, 9), 15),
        (example("vidu/vidu-q3/text-to-video", aspect_ratio="4:3", duration="16"), (4, 3), 16),
        (example("vidu/vidu-q2/text-to-video", aspect_ratio="3:4", duration="1"), (3, 4), 1),
        (example("google/veo-3.1/image-to-video", aspect_ratio="auto", duration="8"),
         (16, 9), 8),  # auto: from the input image, not fetched: 16:9 (A-result-mp4)
    ],
)  # fmt: skip
def test_video_job_gets_an_mp4_of_its_ratio_and_duration(
    client: FlaskClient, payload: dict[str, Any], ratio: tuple[int, int], seconds: int
) -> None:
    data = finished(client, payload)
    (entry,) = data["result"]["videos"]
    assert entry == {"url": f"http://localhost/files/{data['id']}.mp4"}
    info = probe(fetch(client, entry["url"], "video/mp4"))
    assert info.codec == "avc1"
    assert info.width * ratio[1] == info.height * ratio[0]
    assert abs(info.duration_s - seconds) <= 0.2


VEO = "google/veo-3.1/image-to-video"


@pytest.mark.parametrize("audio", [True, False])
def test_veo_1080p_is_1920x1080_with_sound_when_asked(client: FlaskClient, audio: bool) -> None:
    # the job Dapappa/paixao ran live, which answered a 6.0 s 1920x1080 MP4
    args = {"aspect_ratio": "16:9", "resolution": "1080p", "duration": "6"}
    data = finished(client, example(VEO, generate_audio=audio, **args))
    info = probe(fetch(client, data["result"]["videos"][0]["url"], "video/mp4"))
    assert (info.width, info.height, info.duration_s) == (1920, 1080, 6.0)
    assert (info.audio, info.audio_s) == (("mp4a", 6.0) if audio else (None, 0.0))


@pytest.mark.parametrize(
    ("payload", "size"),
    [
        (example("google/veo-3.1/text-to-video", resolution="4k", aspect_ratio="9:16"),
         (2160, 3840)),
        (example("google/veo-3.1/text-to-video", resolution="4k"), (3840, 2160)),
        (example("vidu/vidu-q2/text-to-video", resolution="540p", aspect_ratio="1:1"),
         (540, 540)),
        (example("pixverse/pixverse-6.0/text-to-video", resolution="540p", aspect_ratio="3:4"),
         (540, 720)),
        (example("alibaba/wan-2.6/image-to-video", resolution="720P"), (1280, 720)),
        (example("alibaba/wan-2.6/image-to-video"), (1920, 1080)),  # its default, 1080P
        (example("kwaivgi/kling-2.6/text-to-video", aspect_ratio="9:16"), (1080, 1920)),  # pro
        (example("kwaivgi/kling-o1/text-to-video", mode="std"), (1280, 720)),
        (example("bytedance/seedance-2.0/text-to-video", aspect_ratio="21:9"), (1680, 720)),
    ],
)  # fmt: skip
def test_video_frame_size_follows_the_resolution(
    client: FlaskClient, payload: dict[str, Any], size: tuple[int, int]
) -> None:
    data = finished(client, payload)
    info = probe(fetch(client, data["result"]["videos"][0]["url"], "video/mp4"))
    assert (info.width, info.height) == size


_SHORT = {"480p": 480, "540p": 540, "720p": 720, "1080p": 1080, "2k": 1440, "4k": 2160}


def _cases(spec: ModelSpec) -> list[tuple[str, dict[str, Any]]]:
    """Up to three arg sets for a video model: its resolutions, ratios and durations taken in
    turn (the last of each first; the next duration where a page forbids a pair), its audio
    switch on, then off."""
    names = ("resolution", "aspect_ratio", "duration")
    values = {n: [v for v in reversed(options(spec, n)) if v != "auto"] for n in names}
    schema = Draft202012Validator(schemas.load(spec.args_schema))
    audio = spec.media["audio"]
    cases, on = [], False
    for i in range(3):
        for shift in range(len(values["duration"]) or 1):
            args = {
                n: vs[(i + shift * (n == "duration")) % len(vs)] for n, vs in values.items() if vs
            }
            if audio.arg:
                on = i % 2 == 0
                args[audio.arg] = next((k for k, v in audio.map.items() if v is on), on)
                if audio.arg == "audio_url":  # wan-2.6: background music, sound when given
                    args[audio.arg] = "https://example.com/audio/music.mp3" if on else None
            if on and "voice_id" in spec.properties:
                args["voice_id"] = "voice-1"  # vidu-q2: audio needs a voice
            if schema.is_valid(example(spec.id, **args)["args"]):
                break
        cases.append((spec.id, args))
    return [c for n, c in enumerate(cases) if c not in cases[:n]]


def options(spec: ModelSpec, name: str) -> list[Any]:
    prop = schemas.load(spec.args_schema).get("properties", {}).get(name, {})
    if "enum" in prop:
        return list(prop["enum"])
    return [prop["minimum"], prop["maximum"]] if "maximum" in prop else []


VIDEO_CASES = [c for s in SHIPPED.values() if s.output == "videos" for c in _cases(s)]


@pytest.mark.parametrize(("model", "args"), VIDEO_CASES, ids=[m for m, _ in VIDEO_CASES])
def test_every_video_model_follows_its_args(
    memory_client: FlaskClient, model: str, args: dict[str, Any]
) -> None:
    spec = SHIPPED[model]
    payload = example(model, **args)
    info = probe(
        fetch(
            memory_client,
            finished(memory_client, payload)["result"]["videos"][0]["url"],
            "video/mp4",
        )
    )
    sent = payload["args"]
    ratio = sent.get("aspect_ratio") if "aspect_ratio" in spec.properties else None
    rw, rh = (int(x) for x in nearest_ratio(ratio or spec.aspect_ratio({})).split(":"))
    assert abs(info.width / info.height - rw / rh) < 0.01  # the ratio asked (or the default)
    resolution = sent.get("resolution", spec.resolution(sent)).lower()
    assert min(info.width, info.height) == _SHORT[resolution]
    if "duration" in sent:
        assert info.duration_s == int(sent["duration"])
    switch = spec.media["audio"]
    on = switch.map.get(sent.get(switch.arg), sent.get(switch.arg)) if switch.arg else False
    assert (info.audio is not None) is bool(on), sent


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "count", "size"),
    [
        (example("google/nano-banana/text-to-image", num_images=3, aspect_ratio="21:9"),
         3, (1024, 439)),
        (example("google/nano-banana-pro/text-to-image", aspect_ratio="9:16", resolution="2K"),
         1, (1152, 2048)),
        (example("bytedance/seedream-5.0/text-to-image", aspect_ratio="4:3", resolution="3k",
                 num_images=2), 2, (3072, 2304)),
        (example("openai/gpt-image-2/text-to-image", size="1536x1024"), 1, (1536, 1024)),
        (example("openai/gpt-image-2/text-to-image", size="1024x1536"), 1, (1024, 1536)),
        (example("openai/gpt-image-2/text-to-image", size="auto"), 1, (1024, 1024)),
        (example("alibaba/wan-2.6/text-to-image", width=1440, height=1280), 1, (1440, 1280)),
        (example("alibaba/wan-2.6/image-to-image", width=768, height=1280), 1, (768, 1280)),
    ],
)  # fmt: skip
def test_image_job_gets_its_count_of_images_of_its_size_or_ratio_and_class(
    client: FlaskClient, payload: dict[str, Any], count: int, size: tuple[int, int]
) -> None:
    data = finished(client, payload)
    entries = data["result"]["images"]
    base = f"http://localhost/files/{data['id']}"
    assert entries == [{"url": f"{base}/{n}.png"} for n in range(1, count + 1)]
    pictures = [fetch(client, entry["url"], "image/png") for entry in entries]
    assert {picture(p) for p in pictures} == {("PNG", size)}
    assert len(set(pictures)) == count  # each image of a job its own
    assert_404(client.get(f"/files/{data['id']}/{count + 1}.png"))
    assert_404(client.get(f"/files/{data['id']}/0.png"))
    assert_404(client.get(f"/files/{data['id']}/1.jpg"))  # not its format
    assert_404(client.get(f"/files/{data['id']}.mp4"))  # not its kind


_LONG = {"1k": 1024, "1.5k": 1536, "2k": 2048, "3k": 3072, "4k": 4096}


def _image_cases(spec: ModelSpec) -> list[tuple[str, dict[str, Any]]]:
    """Up to three arg sets for an image model: its ratios, resolution classes and sizes taken
    in turn (the last of each first); width and height where it takes them."""
    names = ("aspect_ratio", "resolution", "size")
    values = {n: [v for v in reversed(options(spec, n)) if v != "auto"] for n in names}
    pairs = [(1600, 1024), (1024, 1600), (1280, 1280)] if "width" in spec.properties else []
    cases = []
    for i in range(3):
        args: dict[str, Any] = {n: vs[i % len(vs)] for n, vs in values.items() if vs}
        if pairs:
            args["width"], args["height"] = pairs[i]
        cases.append((spec.id, args))
    return [c for n, c in enumerate(cases) if c not in cases[:n]]


IMAGE_CASES = [c for s in SHIPPED.values() if s.output == "images" for c in _image_cases(s)]


@pytest.mark.parametrize(("model", "args"), IMAGE_CASES, ids=[m for m, _ in IMAGE_CASES])
def test_every_image_model_follows_its_args(
    memory_client: FlaskClient, model: str, args: dict[str, Any]
) -> None:
    payload = example(model, **args)
    entries = finished(memory_client, payload)["result"]["images"]
    _, (width, height) = picture(fetch(memory_client, entries[0]["url"], "image/png"))
    sent = payload["args"]
    if "size" in sent or "width" in sent:
        asked = sent.get("size") or f"{sent['width']}x{sent['height']}"
        assert f"{width}x{height}" == asked
        return
    rw, rh = (int(x) for x in sent.get("aspect_ratio", "1:1").split(":"))
    assert abs(width / height - rw / rh) < 0.01
    assert max(width, height) == _LONG[str(sent.get("resolution", "1k")).lower()]


@pytest.fixture
def fake_image_model(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register an image model whose args take output_format (no shipped model has one)."""
    spec = ModelSpec(
        id=FAKE,
        args_schema="models/_any.args.json",
        category="text-to-image",
        output="images",
        media={
            "aspect_ratio": Reader(arg="aspect_ratio", default="1:1"),
            "count": Reader(arg="num_images", default=1),
            "resolution": Reader(arg="resolution", default="1K"),
        },
    )
    monkeypatch.setitem(MODELS, FAKE, spec)
    return FAKE


@pytest.mark.parametrize(
    ("output_format", "ext", "mimetype", "fmt"),
    [("jpeg", "jpg", "image/jpeg", "JPEG"), ("webp", "webp", "image/webp", "WEBP"),
     (None, "png", "image/png", "PNG")],
)  # fmt: skip
def test_output_format_sets_the_image_format(
    client: FlaskClient, fake_image_model: str, output_format: str | None, ext: str,
    mimetype: str, fmt: str,
) -> None:  # fmt: skip
    args = {"prompt": "a cat", "aspect_ratio": "3:2", "num_images": 2}
    if output_format:
        args["output_format"] = output_format
    data = finished(client, {"model": fake_image_model, "args": args})
    urls = [entry["url"] for entry in data["result"]["images"]]
    assert [url.rsplit("/", 1)[1] for url in urls] == [f"1.{ext}", f"2.{ext}"]
    for url in urls:
        assert picture(fetch(client, url, mimetype)) == (fmt, (1024, 683))


@pytest.mark.parametrize(
    ("output_format", "ext", "mimetype", "fmt"),
    [("webp", "webp", "image/webp", "WEBP"), ("jpeg", "jpg", "image/jpeg", "JPEG")],
)
def test_gpt_image_2_output_format_and_size_are_honoured(
    client: FlaskClient, output_format: str, ext: str, mimetype: str, fmt: str
) -> None:
    # output_format is not on the page: accepted with a warning (lenient), and followed
    payload = example("openai/gpt-image-2/text-to-image", size="1536x1024")
    payload["args"]["output_format"] = output_format
    data = finished(client, payload)
    (entry,) = data["result"]["images"]
    assert entry["url"].endswith(f"/1.{ext}")
    image = fetch(client, entry["url"], mimetype)
    assert image.startswith(_MAGIC[fmt]) and picture(image) == (fmt, (1536, 1024))


def test_image_files_are_conditional_and_ranged(client: FlaskClient) -> None:
    data = finished(client, example("google/nano-banana/text-to-image"))
    path = urlsplit(data["result"]["images"][0]["url"]).path
    whole = client.get(path)
    partial = client.get(path, headers={"Range": "bytes=0-99"})
    assert (partial.status_code, partial.data) == (206, whole.data[:100])
    again = client.get(path, headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304


def test_a_result_image_is_accepted_as_an_upload(client: FlaskClient) -> None:
    for ratio in ("21:9", "9:16"):
        data = finished(client, example("google/nano-banana/text-to-image", aspect_ratio=ratio))
        image = fetch(client, data["result"]["images"][0]["url"], "image/png")
        boundary, form = encode_multipart({"file": FileStorage(io.BytesIO(image), "r.png")})
        response = client.post(
            "/api/v1/image/send",
            data=form,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=AUTH,
        )
        assert response.status_code == 200, response.json


# --- musics -----------------------------------------------------------------------------


def test_music_job_gets_two_songs_with_covers(client: FlaskClient) -> None:
    custom = {"mode": "custom", "title": "Pool Day", "lyrics": "[Verse]\nSplash", "tags": "pop"}
    data = finished(client, {"model": "suno/suno-v5/generate", "args": custom})
    base = f"http://localhost/files/{data['id']}"
    songs = data["result"]["musics"]
    text = {"title": "Pool Day", "lyrics": "[Verse]\nSplash", "tags": "pop"}
    assert songs == [
        {"url": f"{base}/music-{n}.wav", "cover": f"{base}/cover-{n}.jpg", **text} for n in (1, 2)
    ]
    audio = [fetch(client, song["url"], "audio/wav") for song in songs]
    assert [seconds_of(a) for a in audio] == [5.0, 5.0] and audio[0] != audio[1]
    for song in songs:
        assert picture(fetch(client, song["cover"], "image/jpeg")) == ("JPEG", (512, 512))
    ranged = client.get(urlsplit(songs[0]["url"]).path, headers={"Range": "bytes=0-11"})
    assert ranged.status_code == 206 and ranged.data[:4] == b"RIFF" and ranged.data[8:] == b"WAVE"
    for name in ("music-3.wav", "cover-3.jpg", "music-1.mp3", "1.png"):
        assert_404(client.get(f"/files/{data['id']}/{name}"))


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"mode": "description", "gpt_description_prompt": "a song about a dog in a pool"},
         {"title": "A song about a dog in", "tags": "",
          "lyrics": "[Verse]\na song about a dog in a pool\n\n[Chorus]\nA song about a dog in"}),
        ({"mode": "description", "gpt_description_prompt": "calm piano", "make_instrumental": True},
         {"title": "Calm piano", "lyrics": "", "tags": ""}),
        ({"mode": "custom", "title": "Quiet", "tags": "ambient"},  # no lyrics: instrumental
         {"title": "Quiet", "lyrics": "", "tags": "ambient"}),
    ],
)  # fmt: skip
def test_song_text_comes_from_the_args(
    client: FlaskClient, args: dict[str, Any], text: dict[str, str]
) -> None:
    data = finished(client, {"model": "suno/suno-v5/generate", "args": args})
    for song in data["result"]["musics"]:
        assert {k: song[k] for k in text} == text


# --- forced keys, unknown models, failures ----------------------------------------------


def test_a_forced_key_of_another_kind_keeps_the_same_files(make_app: Any) -> None:
    client = make_app(RESULT_KEY="videos").test_client()
    data = finished(client, example("google/nano-banana/text-to-image", num_images=2))
    assert [urlsplit(e["url"]).path.rsplit("/", 1)[1] for e in data["result"]["videos"]] == [
        "1.png",
        "2.png",
    ]
    fetch(client, data["result"]["videos"][1]["url"], "image/png")
    client = make_app(RESULT_KEY="images").test_client()
    data = finished(client, example("kwaivgi/kling-o1/text-to-video"))
    (entry,) = data["result"]["images"]
    assert probe(fetch(client, entry["url"], "video/mp4")).codec == "avc1"


@pytest.mark.parametrize(
    ("model", "kind", "mimetype"),
    [
        ("acme/pixels/text-to-image", "images", "image/png"),
        ("acme/tunes/generate", "musics", "audio/wav"),
        ("acme/movies/whatever", "videos", "video/mp4"),
    ],
)
def test_unknown_model_gets_files_of_its_guessed_kind(
    make_app: Any, model: str, kind: str, mimetype: str
) -> None:
    client = make_app(UNKNOWN_MODELS="accept").test_client()
    data = finished(client, {"model": model, "args": {"prompt": "x", "duration": "7"}})
    (entry, *_) = data["result"][kind]
    fetch(client, entry["url"], mimetype)


def test_unknown_model_results_follow_the_common_arg_names(make_app: Any) -> None:
    client = make_app(UNKNOWN_MODELS="accept").test_client()
    args = {"prompt": "x", "aspect_ratio": "9:16", "num_images": 3}
    data = finished(client, {"model": "acme/pixels/text-to-image", "args": args})
    entries = data["result"]["images"]
    assert len(entries) == 3  # num_images
    with Image.open(io.BytesIO(fetch(client, entries[2]["url"], "image/png"))) as image:
        assert image.width * 16 == image.height * 9  # aspect_ratio
    args = {"prompt": "x", "aspect_ratio": "1:1", "duration": 8}
    data = finished(client, {"model": "acme/movies/image-to-video", "args": args})
    info = probe(fetch(client, data["result"]["videos"][0]["url"], "video/mp4"))
    assert (info.width, info.height, info.duration_s, info.audio) == (720, 720, 8, None)


@pytest.mark.parametrize(
    ("args", "size", "audio"),
    [
        ({"resolution": "1080p", "generate_audio": True}, (1920, 1080), "mp4a"),
        ({"resolution": "4k", "aspect_ratio": "9:16", "sound": "on"}, (2160, 3840), "mp4a"),
        ({"resolution": "540p", "sound": "off", "with_audio": True}, (960, 540), None),
        ({"width": 1280, "height": 720, "audio": True}, (1280, 720), "mp4a"),  # ratio 16:9
    ],
)
def test_unknown_video_model_follows_resolution_and_sound(
    make_app: Any, args: dict[str, Any], size: tuple[int, int], audio: str | None
) -> None:
    client = make_app(UNKNOWN_MODELS="accept").test_client()
    data = finished(client, {"model": "acme/movies/text-to-video", "args": args})
    info = probe(fetch(client, data["result"]["videos"][0]["url"], "video/mp4"))
    assert ((info.width, info.height), info.audio) == (size, audio)


_MAGIC = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff", "WEBP": b"RIFF"}


@pytest.mark.parametrize(
    ("args", "name", "mimetype", "fmt", "size"),
    [
        ({"size": "1536x1024", "output_format": "webp"}, "1.webp", "image/webp", "WEBP",
         (1536, 1024)),
        ({"image_size": {"width": 800, "height": 600}, "format": "jpeg"}, "1.jpg", "image/jpeg",
         "JPEG", (800, 600)),
        ({"width": 640, "height": 960}, "1.png", "image/png", "PNG", (640, 960)),
        ({"aspect_ratio": "16:9", "resolution": "2K"}, "1.png", "image/png", "PNG", (2048, 1152)),
    ],
)  # fmt: skip
def test_unknown_image_model_follows_size_and_format(
    make_app: Any, args: dict[str, Any], name: str, mimetype: str, fmt: str,
    size: tuple[int, int],
) -> None:  # fmt: skip
    client = make_app(UNKNOWN_MODELS="accept").test_client()
    data = finished(client, {"model": "acme/pixels/text-to-image", "args": args})
    (entry,) = data["result"]["images"]
    assert entry["url"].endswith(f"/{name}")
    image = fetch(client, entry["url"], mimetype)
    assert image.startswith(_MAGIC[fmt]) and picture(image) == (fmt, size)


def test_a_partial_model_follows_a_sound_switch_its_page_does_not_show(
    client: FlaskClient,
) -> None:
    # kling-3.0's page is cut before its sound switch; its price depends on sound
    model = "kwaivgi/kling-3.0/image-to-video"
    for sent, audio in ((None, None), ("on", "mp4a"), ("off", None)):
        data = finished(client, example(model, sound=sent))
        info = probe(fetch(client, data["result"]["videos"][0]["url"], "video/mp4"))
        assert (info.width, info.height, info.audio) == (1920, 1080, audio)  # pro: 1080p


def test_a_failed_job_has_no_files(client: FlaskClient) -> None:
    response = create(
        client, example("google/nano-banana/text-to-image"), **{"X-Mock-Scenario": "fail"}
    )
    job_id = response.json["data"]["job_id"]
    advance(client, 3600)
    assert query(client, job_id).json["data"]["status"] == 3
    assert_404(client.get(f"/files/{job_id}/1.png"))
    assert_404(client.get("/files/0123456789abcdef01234567/1.png"))  # no such job


def test_job_page_previews_the_files_of_its_kind(client: FlaskClient) -> None:
    data = finished(client, example("google/nano-banana/text-to-image", num_images=2))
    html = client.get(f"/_mock/ui/jobs/{data['id']}").get_data(as_text=True)
    for n in (1, 2):
        assert f'<img src="/files/{data["id"]}/{n}.png?{MEDIA_MARK}=1" alt="image {n}">' in html
    assert "<video" not in html
    data = finished(
        client, {"model": "suno/suno-v5/generate", "args": {"mode": "custom", "title": "T"}}
    )
    html = client.get(f"/_mock/ui/jobs/{data['id']}").get_data(as_text=True)
    song = f"/files/{data['id']}/music-2.wav?{MEDIA_MARK}=1"
    assert f'<audio controls preload="metadata" src="{song}">' in html
    assert f'<img src="/files/{data["id"]}/cover-1.jpg?{MEDIA_MARK}=1" alt="cover 1">' in html


# --- over HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("served-results")
    with served_mock(workdir, serve_args(workdir / "s.db")) as mock:
        yield mock


@pytest.mark.slow
def test_served_mock_serves_images_and_songs(served: ServedMock) -> None:
    bodies = [
        example("google/nano-banana/text-to-image", num_images=2, aspect_ratio="16:9"),
        {"model": "suno/suno-v5/generate", "args": {"mode": "custom", "title": "T"}},
    ]
    ids = []
    for payload in bodies:
        response = requests.post(served.url("/api/v1/job/create"), json=payload, headers=AUTH)
        assert response.status_code == 200, response.text
        ids.append(response.json()["data"]["job_id"])
    served.advance(3600)
    results = [
        requests.get(served.url(f"/api/v1/job/query?id={i}"), headers=AUTH).json()["data"]
        for i in ids
    ]
    images, songs = results[0]["result"]["images"], results[1]["result"]["musics"]
    for entry in images:
        assert entry["url"].startswith(served.base_url)
        response = requests.get(entry["url"])
        assert response.headers["Content-Type"] == "image/png"
        assert picture(response.content) == ("PNG", (1024, 576))
    response = requests.get(songs[0]["url"])
    assert response.headers["Content-Type"] == "audio/wav"
    assert seconds_of(response.content) == 5.0
    assert picture(requests.get(songs[0]["cover"]).content)[0] == "JPEG"
