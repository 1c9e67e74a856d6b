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
from PIL import Image
from serving import ServedMock, serve_args, served_mock
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from mock_server import close_app, create_app
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
        (example("openai/gpt-image-2/text-to-image", size="1536x1024"), 1, (1024, 683)),
    ],
)  # fmt: skip
def test_image_job_gets_its_count_of_images_of_its_ratio_and_class(
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
    assert (info.width == info.height, round(info.duration_s)) == (True, 8)


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
        assert f'<img src="/files/{data["id"]}/{n}.png" alt="image {n}">' in html
    assert "<video" not in html
    data = finished(
        client, {"model": "suno/suno-v5/generate", "args": {"mode": "custom", "title": "T"}}
    )
    html = client.get(f"/_mock/ui/jobs/{data['id']}").get_data(as_text=True)
    assert f'<audio controls preload="metadata" src="/files/{data["id"]}/music-2.wav">' in html
    assert f'<img src="/files/{data["id"]}/cover-1.jpg" alt="cover 1">' in html


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
