"""Uploads: POST /api/v1/image/send keeps a checked image and answers a URL on the mock that
serves it; create takes that URL and checks it by its stored bytes. Every error is the
envelope with a 4xx. In process on both stores, and over HTTP on a served mock."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import AUTH, KEY, body, create
from pictures import data_uri, image_bytes
from serving import ServedMock, serve_args, served_mock
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from mock_server import extensions
from mock_server.api.uploads import BODY_LIMIT
from mock_server.data import schemas
from mock_server.state import open_store
from mock_server.state.protocol import Upload
from mock_server.state.records import Runtime

SEND = "/api/v1/image/send"


def multipart(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the post arguments of a multipart body of `fields` (bytes: a file part), encoded
    in memory (the test client spools large bodies to a file it never closes)."""
    values = {
        k: FileStorage(io.BytesIO(v), filename="a.png") if isinstance(v, bytes) else v
        for k, v in fields.items()
    }
    boundary, data = encode_multipart(values)
    return {"data": data, "content_type": f"multipart/form-data; boundary={boundary}"}


def send(client: FlaskClient, data: bytes, **kw: Any) -> Any:
    """Upload `data` as the multipart field ``file`` (file name a.png) with the test key."""
    return client.post(SEND, **multipart({"file": data}), headers=kw.pop("headers", AUTH), **kw)


def uploaded(client: FlaskClient, data: bytes) -> str:
    """Upload `data`, assert it was kept, and return the URL answered."""
    response = send(client, data)
    assert response.status_code == 200, response.json
    schemas.validator("upload-response.json").validate(response.json)
    assert set(response.json) == {"code", "data"} and set(response.json["data"]) == {"url"}
    url: str = response.json["data"]["url"]
    return url


def path_of(url: str) -> str:
    return urlsplit(url).path


def assert_envelope(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    envelope: dict[str, Any] = response.json
    schemas.validator("error.json").validate(envelope)
    assert envelope["message"] == envelope["info"]
    return envelope


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_an_upload_answers_a_url_that_serves_the_image(
    client: FlaskClient, fmt: str, content_type: str, extension: str
) -> None:
    data = image_bytes(640, 480, fmt)
    url = uploaded(client, data)
    assert url.startswith("http://localhost/files/uploads/") and url.endswith(f".{extension}")
    served = client.get(path_of(url))  # no key: as a CDN serves it
    assert served.status_code == 200
    assert served.headers["Content-Type"] == content_type
    assert served.data == data
    assert "max-age=3600" in served.headers["Cache-Control"]


def test_the_served_upload_is_conditional_and_ranged(client: FlaskClient) -> None:
    url = path_of(uploaded(client, image_bytes()))
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == b"\x89PNG\r\n\x1a\n"


def test_the_same_image_gets_the_same_url(client: FlaskClient) -> None:
    data = image_bytes()
    assert uploaded(client, data) == uploaded(client, data)
    assert uploaded(client, image_bytes(700, 500)) != uploaded(client, data)


def test_create_takes_an_uploaded_url(client: FlaskClient) -> None:
    frame, element = uploaded(client, image_bytes()), uploaded(client, image_bytes(400, 600))
    payload = body(action="refer", images=[frame], elements=[{"frontal_image_url": element}])
    response = create(client, payload)
    assert response.status_code == 200, response.json
    assert "X-Mock-Warnings" not in response.headers


def test_create_refuses_an_upload_url_the_mock_does_not_keep(client: FlaskClient) -> None:
    url = uploaded(client, image_bytes())
    name = path_of(url).rsplit("/", 1)[1]
    unknown = url.replace(name, "0" * 32 + ".png")
    response = create(client, body(images=[unknown]))
    assert_envelope(response, 400)
    listed = json.loads(response.headers["X-Mock-Errors"])
    assert [(p["rule"], p["pointer"]) for p in listed] == [
        ("image.upload_unknown", "/args/images/0")
    ]
    # The same path on another host is not the mock's: checked by its form only.
    foreign = "https://cdn.example.com" + path_of(unknown)
    assert create(client, body(images=[foreign])).status_code == 200


def test_upload_urls_follow_public_url(make_app: Any) -> None:
    client = make_app(PUBLIC_URL="https://mock.example.test/").test_client()
    url = uploaded(client, image_bytes())
    assert url.startswith("https://mock.example.test/files/uploads/")
    assert client.get(path_of(url)).status_code == 200
    assert create(client, body(images=[url])).status_code == 200
    gone = url.replace(path_of(url).rsplit("/", 1)[1], "f" * 32 + ".png")
    assert create(client, body(images=[gone])).status_code == 400


def test_an_upload_that_is_not_a_good_image_is_refused(client: FlaskClient) -> None:
    for data, rule in [
        (image_bytes(100, 100), "image.min_side"),
        (image_bytes(1000, 300), "image.aspect_ratio"),
        (image_bytes(400, 400, "GIF"), "image.format"),
        (image_bytes(400, 400)[:-30], "image.decodable"),
        (b"%PDF-1.7 not an image", "image.decodable"),
        (b"", "image.empty"),
    ]:
        response = send(client, data)
        envelope = assert_envelope(response, 400)
        assert envelope["code"] == 1201
        listed = json.loads(response.headers["X-Mock-Errors"])
        assert [(p["rule"], p["pointer"]) for p in listed] == [(rule, "/file")], data[:20]
        assert "/file: " in envelope["message"]


def test_an_upload_over_ten_megabytes_is_refused(client: FlaskClient) -> None:
    # Over the body limit: 413 before the body is read.
    response = send(client, b"\x89PNG" + bytes(BODY_LIMIT))
    envelope = assert_envelope(response, 413)
    assert "at most 10 MB" in envelope["message"]
    assert response.headers["Connection"] == "close"
    # Within the body limit but over 10 MB: the image check's answer.
    response = send(client, b"\x89PNG" + bytes(10_000_000))
    assert_envelope(response, 400)
    assert json.loads(response.headers["X-Mock-Errors"])[0]["rule"] == "image.max_size"


@pytest.mark.parametrize(
    ("kwargs", "status", "text"),
    [
        (multipart({"image": b"x"}), 400, "fields sent: image"),
        (multipart({"file": "text", "other": b"x"}), 400, "text field"),
        (multipart({}), 400, "fields sent: none"),
        ({"json": {"file": "aGVsbG8="}}, 415, "multipart/form-data"),
        ({"data": "file=abc"}, 415, "multipart/form-data"),
        ({"data": b"\x89PNG", "content_type": "image/png"}, 415, "multipart/form-data"),
        ({"data": b"x", "content_type": "multipart/form-data; boundary=zz"}, 400, "required"),
    ],
)
def test_malformed_uploads_answer_the_envelope(
    client: FlaskClient, kwargs: dict[str, Any], status: int, text: str
) -> None:
    envelope = assert_envelope(client.post(SEND, headers=AUTH, **kwargs), status)
    assert text in envelope["message"]


def test_uploads_need_a_key(make_app: Any) -> None:
    client = make_app(API_KEYS=[KEY]).test_client()
    for headers, code in [({}, 1001), ({"Authorization": "Basic abc"}, 1001)]:
        assert assert_envelope(send(client, image_bytes(), headers=headers), 401)["code"] == code
    wrong = {"Authorization": "Bearer not-the-key"}
    assert assert_envelope(send(client, image_bytes(), headers=wrong), 401)["code"] == 1002
    assert send(client, image_bytes()).status_code == 200


def test_unknown_upload_files_answer_404_envelopes(client: FlaskClient) -> None:
    url = path_of(uploaded(client, image_bytes()))
    for path in [
        "/files/uploads/nothing.png",
        "/files/uploads/" + "0" * 32 + ".png",
        url.replace(".png", ".jpg"),  # a kept id under another extension
    ]:
        assert assert_envelope(client.get(path), 404)["code"] == 1203


def test_wrong_methods_on_the_upload_route_are_405(client: FlaskClient) -> None:
    response = client.get(SEND, headers=AUTH)
    assert_envelope(response, 405)
    assert "POST" in response.headers["Allow"]


def test_the_oldest_uploads_are_dropped_past_the_bound(make_app: Any) -> None:
    app = make_app(UPLOADS_KEPT=2)
    client = app.test_client()
    first, second, third = (uploaded(client, image_bytes(300 + i, 300)) for i in range(3))
    assert client.get(path_of(first)).status_code == 404
    assert client.get(path_of(second)).status_code == 200
    assert client.get(path_of(third)).status_code == 200
    assert create(client, body(images=[first])).status_code == 400
    assert uploaded(client, image_bytes(300, 300)) == first  # uploading again brings it back


def test_uploads_are_bounded_by_total_bytes_too(make_app: Any) -> None:
    big = [image_bytes(500, 500, noise=True) for _ in range(3)]  # 750 kB each
    client = make_app(UPLOADS_KEPT_BYTES=1_600_000).test_client()
    urls = [uploaded(client, data) for data in big]
    assert [client.get(path_of(u)).status_code for u in urls] == [404, 200, 200]


def test_the_journal_keeps_a_summary_of_an_upload_never_its_body_or_key(
    app: Flask, client: FlaskClient
) -> None:
    data = image_bytes(600, 400, noise=True)
    uploaded(client, data)
    entry = extensions.control(app).journal(match={"path": SEND})[-1]
    assert entry["body"].startswith("[multipart upload: file 'a.png'")
    assert f"{len(data):,} bytes" in entry["body"]
    assert len(entry["body"]) < 200
    assert KEY not in json.dumps(entry)
    send(client, image_bytes(100, 100))
    refused = extensions.control(app).journal(match={"path": SEND})[-1]
    assert refused["status"] == 400
    assert [p["rule"] for p in refused["problems"]] == ["image.min_side"]


def test_reset_forgets_uploads(app: Flask, client: FlaskClient) -> None:
    url = uploaded(client, image_bytes())
    assert client.post("/_mock/reset").status_code == 200
    assert client.get(path_of(url)).status_code == 404


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_stores_keep_the_newest_uploads(kind: str, tmp_path: Path) -> None:
    store = open_store("memory" if kind == "memory" else f"sqlite:{tmp_path}/s.db")
    try:
        for n in range(4):
            store.put_upload(Upload(f"u{n}", "image/png", bytes(10)), max_count=3, max_bytes=100)
        assert store.get_upload("u0") is None
        assert store.get_upload("u3") == Upload("u3", "image/png", bytes(10))
        store.put_upload(Upload("u1", "image/png", bytes(10)), max_count=3, max_bytes=100)
        store.put_upload(Upload("u4", "image/png", bytes(10)), max_count=3, max_bytes=100)
        assert store.get_upload("u1") is not None  # stored again: the newest, kept
        assert store.get_upload("u2") is None
        store.put_upload(Upload("big", "image/png", bytes(500)), max_count=3, max_bytes=100)
        assert store.get_upload("big") is not None  # the newest is kept whatever its size
        assert store.get_upload("u4") is None
        store.reset(Runtime())
        assert store.get_upload("big") is None
    finally:
        store.close()


def test_workers_on_one_state_file_serve_each_others_uploads(tmp_path: Path) -> None:
    from mock_server import close_app, create_app

    config = {"STORE": f"sqlite:{tmp_path}/shared.db", "CLOCK": "manual", "BACKGROUND": False}
    one, two = create_app(config), create_app({**config, "STORE_INIT": False})
    try:
        url = uploaded(one.test_client(), image_bytes())
        assert two.test_client().get(path_of(url)).status_code == 200
        assert create(two.test_client(), body(images=[url])).status_code == 200
    finally:
        close_app(one)
        close_app(two)


# --- over HTTP: gunicorn, two workers, one SQLite file ---------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("uploads")
    with served_mock(workdir, serve_args(workdir / "s.db")) as mock:
        yield mock


HTTP_AUTH = {"Authorization": "Bearer http-upload-key"}


@pytest.mark.slow
def test_upload_then_create_over_http(served: ServedMock) -> None:
    data = image_bytes(800, 450, "JPEG", noise=True)
    response = requests.post(
        served.url(SEND), headers=HTTP_AUTH, files={"file": ("cat.jpg", data, "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    url = response.json()["data"]["url"]
    assert url.startswith(served.base_url + "/files/uploads/") and url.endswith(".jpg")
    for _ in range(6):  # new connections: both workers answer from the one state file
        got = requests.get(url)
        assert got.status_code == 200
        assert got.headers["Content-Type"] == "image/jpeg" and got.content == data
    payload = body(action="refer", images=[url, data_uri(image_bytes(), "image/png")])
    created = requests.post(served.url("/api/v1/job/create"), headers=HTTP_AUTH, json=payload)
    assert created.status_code == 200, created.text
    assert created.json()["code"] == 0


@pytest.mark.slow
def test_upload_errors_over_http_are_envelopes(served: ServedMock) -> None:
    bad = requests.post(
        served.url(SEND), headers=HTTP_AUTH, files={"file": ("x.png", b"nope", "image/png")}
    )
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/json"
    assert bad.json()["code"] == 1201 and "/file" in bad.json()["message"]
    no_key = requests.post(served.url(SEND), files={"file": ("x.png", image_bytes())})
    assert no_key.status_code == 401 and no_key.json()["code"] == 1001
    small = data_uri(image_bytes(120, 120))
    refused = requests.post(
        served.url("/api/v1/job/create"), headers=HTTP_AUTH, json=body(images=[small])
    )
    assert refused.status_code == 400
    assert json.loads(refused.headers["X-Mock-Errors"])[0]["rule"] == "image.min_side"
