"""``GET /api/skill/<model_id>``: each model's documentation page, rendered from its file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mock_server import close_app, create_app
from mock_server.api import skill
from mock_server.catalog import page_facts, pages, registry
from mock_server.data import schemas
from mock_server.serve import models_import
from mock_server.testing import TEST_CONFIG


@pytest.fixture
def client() -> Iterator[FlaskClient]:  # one store is enough: the route reads no state
    app = create_app(TEST_CONFIG)
    yield app.test_client()
    close_app(app)


def test_every_model_has_its_page_as_markdown_without_a_key(client: FlaskClient) -> None:
    for model, spec in registry.MODELS.items():
        response = client.get(f"/api/skill/{model}")  # no Authorization: a public document
        assert response.status_code == 200, model
        assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
        text = response.get_data(as_text=True)
        assert f"- **Model ID**: `{model}`" in text
        parsed = pages.parse(text)
        assert page_facts.differences(schemas.load(spec.args_schema), parsed) == [], model


def test_an_unknown_model_is_a_404_in_the_envelope(client: FlaskClient) -> None:
    response = client.get("/api/skill/no/such-model")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    envelope = response.json
    assert envelope is not None
    schemas.validator("error.json").validate(envelope)
    assert envelope["code"] == 1203 and "no/such-model" in envelope["message"]


@pytest.mark.parametrize("path", ["/api/skill/", "/api/skill/%00", "/api/skill/" + "x/" * 400])
def test_odd_paths_never_answer_500(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code in (404, 405)


def test_pages_are_cached_by_model(client: FlaskClient) -> None:
    skill.page.cache_clear()
    model = "kwaivgi/kling-o1/image-to-video"
    first = client.get(f"/api/skill/{model}").data
    assert client.get(f"/api/skill/{model}").data == first
    assert skill.page.cache_info().hits >= 1


def test_a_user_models_folder_is_served(client: FlaskClient, tmp_path: Path) -> None:
    text = client.get("/api/skill/google/veo-3/text-to-video").get_data(as_text=True)
    page = tmp_path / "page.md"
    page.write_text(text.replace("google/veo-3/text-to-video", "acme/veo-3/text-to-video"))
    path, _ = models_import.import_page(str(page), tmp_path / "models")
    try:
        registry.load_models_dir(tmp_path / "models")
        served = client.get("/api/skill/acme/veo-3/text-to-video")
        assert served.status_code == 200
        assert (
            page_facts.differences(pages.parse(served.get_data(as_text=True)), pages.parse(text))
            == []
        )
    finally:
        registry.unload_user_models()
    assert path.name == "veo-3-text-to-video.args.json"
