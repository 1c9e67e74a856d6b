"""Every model of the catalogue served: its example accepted with its price, a missing required
field rejected at its pointer; partial models' warnings; unknown models rejected or accepted;
user model folders (--models-dir, MODELS_DIR, --shortapi-models-dir); `models list` and the
README's table; one OpenAPI branch per model."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import advance, create, query
from serving import MODULE_COMMAND, serve_args, served_mock

from mock_server import close_app, create_app
from mock_server.catalog import pricing, registry
from mock_server.catalog.registry import SHIPPED
from mock_server.data import schemas
from mock_server.errors import ConfigError
from mock_server.serve import cli, models_cli

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(SHIPPED.values(), key=lambda s: s.id)
PARTIAL = [s.id for s in SPECS if not s.complete]
REQUIRED = [(s.id, name) for s in SPECS for name in sorted(s.required - set(s.required_defaults))]
USER_MODEL: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1},
    },
    "examples": [{"prompt": "a red fox"}],
    "x-shortapi": {
        "model": "acme/toy-1/text-to-image",
        "category": "text-to-image",
        "output": "images",
        "complete": True,
        "pricing": {"unit": "image", "rates": [{"when": {}, "usd": "0.01"}]},
        "rules": [],
        "media": {"count": {"arg": "n", "default": 1}},
        "sources": ["written by hand for the tests"],
    },
}


@pytest.fixture(scope="module")
def served() -> Iterator[FlaskClient]:
    """One app for the per-model tests (memory store, manual clock): they only create."""
    app = create_app({"CLOCK": "manual", "BACKGROUND": False})
    yield app.test_client()
    close_app(app)


def example(model: str) -> dict[str, Any]:
    args = copy.deepcopy(schemas.load(SHIPPED[model].args_schema)["examples"][0])
    return {"model": model, "args": args}


def warnings(response: Any) -> list[dict[str, str]]:
    listed: list[dict[str, str]] = json.loads(response.headers.get("X-Mock-Warnings", "[]"))
    return listed


@pytest.mark.parametrize("model", [s.id for s in SPECS])
def test_every_model_accepts_its_example_with_its_price(served: FlaskClient, model: str) -> None:
    payload = example(model)
    response = create(served, payload)
    assert response.status_code == 200, response.json
    amount = response.json["data"]["amount"]
    assert amount == pricing.amount(SHIPPED[model], payload["args"])
    unpriced = SHIPPED[model].pricing.get("assumption") == "A-unpriced-models"
    assert (float(amount) > 0) is not unpriced
    rules = [w["rule"] for w in warnings(response)]
    assert ("model.partial" in rules) is (model in PARTIAL)


@pytest.mark.parametrize(("model", "name"), REQUIRED)
def test_every_required_field_without_a_default_is_required(
    served: FlaskClient, model: str, name: str
) -> None:
    payload = example(model)
    payload["args"].pop(name, None)
    response = create(served, payload)
    assert response.status_code == 400
    errors = json.loads(response.headers["X-Mock-Errors"])
    assert f"/args/{name}" in {e["pointer"] for e in errors}, errors


def test_partial_model_takes_unknown_keys_with_a_warning(served: FlaskClient) -> None:
    payload = example("kwaivgi/kling-o3/text-to-video")
    payload["args"]["multi_prompt"] = [{"prompt": "shot one", "duration": 5}]
    response = create(served, payload)
    assert response.status_code == 200, response.json
    found = {w["rule"]: w for w in warnings(response)}
    assert found["model.partial"]["pointer"] == "/model"
    assert "only partly documented" in found["model.partial"]["message"]
    unknown = found["args.unknown_key"]
    assert unknown["pointer"] == "/args/multi_prompt"
    assert "only partly seen" in unknown["message"]


def test_partial_model_still_enforces_the_fields_it_shows(served: FlaskClient) -> None:
    payload = example("kwaivgi/kling-o3/text-to-video")
    payload["args"]["duration"] = "5"  # an integer on this page
    response = create(served, payload)
    assert response.status_code == 400
    assert "as an integer number of seconds" in response.json["message"]


def test_complete_model_takes_unknown_keys_with_a_warning(served: FlaskClient) -> None:
    payload = example("google/veo-3/text-to-video")
    payload["args"]["seed"] = 1
    response = create(served, payload)
    assert response.status_code == 200, response.json
    found = {w["rule"]: w for w in warnings(response)}
    assert found["args.unknown_key"]["pointer"] == "/args/seed"
    assert "A-envelope-unknown-keys" in found["args.unknown_key"]["message"]


@pytest.mark.parametrize(
    ("model", "args", "pointer", "text"),
    [
        (
            "pixverse/pixverse-6.0/text-to-video",
            {"resolution": "1080p", "duration": "10"},
            "/args/duration",
            "cannot be combined",
        ),
        (
            "vidu/vidu-q3/reference-to-video",
            {"mode": "mix", "resolution": "540p"},
            "/args/resolution",
            "cannot produce 540p",
        ),
        (
            "vidu/vidu-q2/image-to-video",
            {"generate_audio": True},
            "/args/voice_id",
            "voice_id is required",
        ),
        ("suno/suno-v5/generate", {"title": "Morning"}, "/args/title", 'for mode "custom" only'),
        ("kwaivgi/kling-3.0/text-to-video", {"prompt": ""}, "/args/prompt", "multi_shot true"),
        (
            "midjourney/midjourney-v7/text-to-image",
            {"prompt": "a cat --v 7"},
            "/args/prompt",
            "remove '-'",
        ),
        (
            "kwaivgi/kling-o1/video-to-video",
            {"images": ["https://e.com/a.jpg"] * 5},
            "/args/images",
            "more than 4",
        ),
        (
            "alibaba/wan-2.6/image-to-image",
            {"width": 384, "height": 384},
            "/args/width",
            "must be from 768 x 768",
        ),
        (
            "kwaivgi/kling-3.0/text-to-video",
            {
                "multi_shot": True,
                "shot_type": "customize",
                "multi_prompt": [{"duration": 2}, {"duration": 2}],
            },
            "/args/multi_prompt",
            "add up",
        ),
        (
            "bytedance/seedance-2.0/image-to-video",
            {"image_urls": ["https://e.com/a.jpg"] * 13},
            "/args/image_urls",
            "more than 12",
        ),
    ],
)
def test_page_conditions_are_enforced_with_a_fix(
    served: FlaskClient, model: str, args: dict[str, Any], pointer: str, text: str
) -> None:
    payload = example(model)
    payload["args"].update(args)
    response = create(served, payload)
    assert response.status_code == 400, response.json
    errors = json.loads(response.headers["X-Mock-Errors"])
    assert pointer in {e["pointer"] for e in errors}
    assert text in response.json["message"]


def test_unknown_model_is_invalid_by_default(served: FlaskClient) -> None:
    response = create(served, {"model": "kwaivgi/kling-o1/image-to-vide", "args": {}})
    assert response.status_code == 400
    assert response.json["message"] == "invalid model: kwaivgi/kling-o1/image-to-vide"
    hint = json.loads(response.headers["X-Mock-Errors"])[0]["message"]
    assert "did you mean kwaivgi/kling-o1/image-to-video" in hint


@pytest.fixture
def accepting() -> Iterator[Flask]:
    app = create_app({"CLOCK": "manual", "BACKGROUND": False, "UNKNOWN_MODELS": "accept"})
    yield app
    close_app(app)


def test_unknown_model_accepted_checks_only_the_envelope(accepting: Flask) -> None:
    client = accepting.test_client()
    response = create(client, {"model": "acme/new-model/text-to-image", "args": {"x": [1]}})
    assert response.status_code == 200, response.json
    assert response.json["data"]["amount"] == "0"
    assert [w["rule"] for w in warnings(response)] == ["model.unknown_accepted"]
    assert create(client, {"model": "acme/new-model/text-to-image", "args": 3}).status_code == 400
    assert (
        create(client, {"model": "kwaivgi/kling-o1/image-to-video", "args": {}}).status_code == 400
    )


def test_unknown_model_accepted_answers_the_output_its_id_suggests(accepting: Flask) -> None:
    client = accepting.test_client()
    job_id = create(client, {"model": "acme/new-model/text-to-image", "args": {}}).json["data"]
    advance(client, 100)
    assert list(query(client, job_id["job_id"]).json["data"]["result"]) == ["images"]


def test_config_rejects_an_unknown_models_setting() -> None:
    with pytest.raises(ConfigError, match="UNKNOWN_MODELS"):
        create_app({"UNKNOWN_MODELS": "maybe"})


@pytest.fixture
def models_dir(tmp_path: Path) -> Iterator[Path]:
    """A user models folder with one model file; the catalogue is restored afterwards."""
    (tmp_path / "toy.json").write_text(json.dumps(USER_MODEL))
    yield tmp_path
    registry.unload_user_models()


def test_models_dir_serves_a_user_model_beside_the_shipped(models_dir: Path) -> None:
    app = create_app({"CLOCK": "manual", "BACKGROUND": False, "MODELS_DIR": str(models_dir)})
    client = app.test_client()
    toy = {"model": "acme/toy-1/text-to-image", "args": {"prompt": "a fox", "n": 3}}
    response = create(client, toy)
    assert response.status_code == 200, response.json
    assert response.json["data"]["amount"] == "0.03"
    assert create(client, {**toy, "args": {"n": 3}}).status_code == 400
    branches = client.get("/openapi.json").json["components"]["schemas"]["CreateRequest"]["oneOf"]
    assert len(branches) == len(SHIPPED) + 1
    close_app(app)


def test_a_bad_user_model_file_names_itself(tmp_path: Path) -> None:
    broken = copy.deepcopy(USER_MODEL)
    broken["x-shortapi"]["rules"] = ["no_such_rule"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match=r"broken\.json.*no rule named 'no_such_rule'"):
        create_app({"MODELS_DIR": str(tmp_path)})
    del broken["x-shortapi"]["pricing"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match="'pricing' is a required property"):
        registry.load_models_dir(tmp_path)
    assert "acme/toy-1/text-to-image" not in registry.MODELS


def test_models_list_text_json_and_user_files(
    models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["models", "list"]) == 0
    text = capsys.readouterr().out
    assert "60 models (42 complete, 18 partial)" in text
    assert "kwaivgi/kling-o1/image-to-video" in text and "per second" in text
    assert cli.main(["models", "list", "--json", "--models-dir", str(models_dir)]) == 0
    rows = {row["model"]: row for row in json.loads(capsys.readouterr().out)}
    assert len(rows) == 61
    assert rows["acme/toy-1/text-to-image"]["user_file"] is True
    assert rows["kwaivgi/kling-o3/text-to-video"]["complete"] is False
    assert rows["shortapi/z-image/text-to-image"]["price_unit"] == "per megapixel"
    assert rows["suno/suno-v5.5/generate"]["known_from"] == "client code"
    assert rows["kwaivgi/kling-o3/text-to-video"]["known_from"] == "cut page"
    assert rows["google/veo-3.1/image-to-video"]["known_from"] == "page"


def test_models_show_prints_inputs_leniency_prices_and_sources(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["models", "show", "google/veo-3.1/image-to-video"]) == 0
    text = capsys.readouterr().out
    assert "facts from: page" in text
    assert "https://shortapi.ai/models/google/veo-3.1/image-to-video/llms.txt" in text
    assert (
        'by default: may be left out: default "fast" applies, warned; --strict-args: required'
        in text
    )
    assert "any other key: accepted, kept in args, an args.unknown_key warning" in text
    assert 'mode="fast", resolution=["720p", "1080p"], audio=false: $0.08' in text
    assert cli.main(["models", "show", "suno/suno-v5.5/generate", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["known_from"], facts["complete"], facts["output"]) == (
        "client code",
        False,
        "musics",
    )
    assert [i["name"] for i in facts["inputs"]] == ["mode", "title", "tags", "lyrics"]
    assert facts["pricing"]["assumption"] == "A-unpriced-models"


def test_models_show_of_an_unknown_id_suggests_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "show", "google/veo-3.1/image-to-vide"]) == 2
    assert "did you mean google/veo-3.1/image-to-video" in capsys.readouterr().err


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- models list --markdown -->\n", "<!-- end of models list -->"
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == models_cli.markdown(models_cli.rows(SHIPPED.values()))


def test_serve_options_reach_the_app_config(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(
        ["serve", "--models-dir", str(tmp_path), "--unknown-models", "accept"]
    )
    config = cli.app_config(args)
    assert (config["MODELS_DIR"], config["UNKNOWN_MODELS"]) == (str(tmp_path), "accept")


def test_proxy_judges_creates_by_a_models_dir(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``proxy --models-dir`` loads the folder before its worker starts (which inherits it)."""
    from mock_server.serve import gunicorn_app

    served: list[str] = []
    monkeypatch.setattr(gunicorn_app.MockServer, "run", lambda self: served.append("run"))
    assert cli.main(["proxy", "--port", "0", "--models-dir", str(models_dir)]) == 0
    assert served == ["run"] and "acme/toy-1/text-to-image" in registry.MODELS
    (models_dir / "bad.json").write_text("{")
    assert cli.main(["proxy", "--models-dir", str(models_dir)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_openapi_lists_one_branch_per_model_and_marks_partial(served: FlaskClient) -> None:
    document = served.get("/openapi.json").json
    branches = document["components"]["schemas"]["CreateRequest"]["oneOf"]
    models = [b["properties"]["model"]["const"] for b in branches]
    assert sorted(models) == sorted(SHIPPED)
    partial = {b["title"] for b in branches if b.get("x-partial") is True}
    assert partial == set(PARTIAL)
    assert all("Partially documented" in b["description"] for b in branches if b.get("x-partial"))
    names = [b["properties"]["args"]["$ref"] for b in branches]
    assert len(set(names)) == len(names)


def test_plugin_option_serves_a_user_model(pytester: pytest.Pytester, models_dir: Path) -> None:
    pytester.makepyfile(
        test_user="""
import requests

def test_toy(shortapi_responses):
    body = {"model": "acme/toy-1/text-to-image", "args": {"prompt": "a fox"}}
    response = requests.post("https://api.shortapi.ai/api/v1/job/create", json=body,
                             headers={"Authorization": "Bearer k"})
    assert response.json()["data"]["amount"] == "0.01"
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", f"--shortapi-models-dir={models_dir}"
    )
    result.assert_outcomes(passed=1)
    (models_dir / "bad.json").write_text("{")
    result = pytester.runpytest_subprocess(
        "-p", "no:schemathesis", f"--shortapi-models-dir={models_dir}"
    )
    assert "bad.json" in result.stderr.str()


@pytest.mark.slow
def test_serve_takes_a_models_dir_and_unknown_models(models_dir: Path, tmp_path: Path) -> None:
    args = [*serve_args(tmp_path / "s.db"), "--models-dir", str(models_dir)]
    with served_mock(tmp_path, [*args, "--unknown-models", "accept"]) as mock:
        for model, amount in (("acme/toy-1/text-to-image", "0.01"), ("acme/new/edit", "0")):
            answer = requests.post(
                mock.url("/api/v1/job/create"),
                json={"model": model, "args": {"prompt": "a fox"}},
                headers={"Authorization": "Bearer k"},
            )
            assert answer.json()["data"]["amount"] == amount, answer.text
    (models_dir / "bad.json").write_text("[]")
    done = subprocess.run(
        [*MODULE_COMMAND, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "bad.json" in done.stderr


@pytest.mark.parametrize(
    "model",
    [
        "vidu/vidu-q2/reference-to-video",
        "suno/suno-v5.5/generate",
        "google/nano-banana-pro/edit",
        "alibaba/wan-2.6/reference-to-video",
    ],
)
def test_model_without_a_page_runs_to_a_real_file_of_its_kind(
    served: FlaskClient, model: str
) -> None:
    response = create(served, example(model))
    assert response.status_code == 200, response.json
    assert response.json["data"]["amount"] == "0"  # A-unpriced-models
    job_id = response.json["data"]["job_id"]
    advance(served, 3600)
    data = query(served, job_id).json["data"]
    output = SHIPPED[model].output
    assert data["status"] == 2 and list(data["result"]) == [output]
    url = data["result"][output][0]["url"]
    with served.get(url.split("localhost", 1)[1]) as file:
        assert file.status_code == 200
        content = file.data
    magic = {"videos": (4, b"ftyp"), "images": (0, b"\x89PNG"), "musics": (0, b"RIFF")}
    offset, signature = magic[output]
    assert content[offset : offset + len(signature)] == signature
