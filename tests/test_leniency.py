"""Args read as the live API reads them (validation/leniency.py): undocumented args and
required-with-default fields left out are accepted with a warning by default, run to a real
result, and answer 400 with pointers under strict args (--strict-args, STRICT_ARGS, the strict
profile); what stays an error in both modes; the OpenAPI document follows the mode."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from helpers import advance, create, query

from mock_server import close_app, create_app
from mock_server.catalog import pricing
from mock_server.catalog.registry import SHIPPED
from mock_server.data import schemas

IMG = "https://example.com/images/1.jpg"
# The requests public clients send that the pages, read strictly, refuse (DESIGN.md section 2).
CLIENT_REQUESTS = {
    # Dapappa/paixao: the live API made a 6.0 s 1920x1080 MP4 from exactly this job.
    "veo-3.1-no-mode-negative-prompt": (
        "google/veo-3.1/image-to-video",
        {
            "prompt": "a slow aura around the hero",
            "image": IMG,
            "negative_prompt": "blurry, low quality",
            "aspect_ratio": "16:9",
            "resolution": "1080p",
            "duration": "6",
            "generate_audio": False,
        },
        {"/args/mode": "args.default_applied", "/args/negative_prompt": "args.unknown_key"},
    ),
    "z-image-width-height": (
        "shortapi/z-image/text-to-image",
        {"prompt": "a lighthouse", "aspect_ratio": "16:9", "width": 1344, "height": 768},
        {"/args/width": "args.unknown_key", "/args/height": "args.unknown_key"},
    ),
    "vidu-q2-movement-amplitude": (
        "vidu/vidu-q2/image-to-video",
        {"mode": "pro", "prompt": "waves", "image": IMG, "movement_amplitude": "auto"},
        {"/args/movement_amplitude": "args.unknown_key"},
    ),
    "kling-3.0-no-multi-shot": (
        "kwaivgi/kling-3.0/image-to-video",
        {"mode": "std", "duration": "5", "prompt": "a fox runs", "image": IMG},
        {"/args/multi_shot": "args.default_applied"},
    ),
}
SIGNATURES = {"videos": (4, b"ftyp"), "images": (0, b"\x89PNG"), "musics": (0, b"RIFF")}
SPECS = sorted(SHIPPED.values(), key=lambda s: s.id)
COMPLETE = [s.id for s in SPECS if s.complete]
WITH_DEFAULTS = [(s.id, k) for s in SPECS for k in sorted(s.required_defaults)]


def _client(**config: Any) -> Iterator[FlaskClient]:
    app = create_app({"CLOCK": "manual", "BACKGROUND": False, **config})
    yield app.test_client()
    close_app(app)


@pytest.fixture(scope="module")
def lenient() -> Iterator[FlaskClient]:
    yield from _client()


@pytest.fixture(scope="module")
def strict() -> Iterator[FlaskClient]:
    yield from _client(STRICT_ARGS=True)


def _listed(response: Any, header: str) -> dict[str, str]:
    return {p["pointer"]: p["rule"] for p in json.loads(response.headers.get(header, "[]"))}


def _example(model: str) -> dict[str, Any]:
    return copy.deepcopy(schemas.load(SHIPPED[model].args_schema)["examples"][0])


@pytest.mark.parametrize("case", sorted(CLIENT_REQUESTS))
def test_client_request_is_accepted_with_warnings_and_runs_to_a_real_file(
    lenient: FlaskClient, case: str
) -> None:
    model, args, warned = CLIENT_REQUESTS[case]
    response = create(lenient, {"model": model, "args": args})
    assert response.status_code == 200, response.json
    assert warned.items() <= _listed(response, "X-Mock-Warnings").items()
    spec = SHIPPED[model]
    # The price reads the default where the args leave a field out.
    assert response.json["data"]["amount"] == pricing.amount(
        spec, {**spec.required_defaults, **args}
    )
    job_id = response.json["data"]["job_id"]
    advance(lenient, 3600)
    data = query(lenient, job_id).json["data"]
    assert data["status"] == 2
    assert data["args"] == args  # stored as sent: no default written in, the extras kept
    url = data["result"][spec.output][0]["url"]
    with lenient.get(urlsplit(url).path) as served:  # a video is an open file: close it
        assert served.status_code == 200
        content = served.data
    offset, magic = SIGNATURES[spec.output]
    assert content[offset : offset + len(magic)] == magic


@pytest.mark.parametrize("case", sorted(CLIENT_REQUESTS))
def test_client_request_is_refused_with_pointers_under_strict_args(
    strict: FlaskClient, case: str
) -> None:
    model, args, warned = CLIENT_REQUESTS[case]
    response = create(strict, {"model": model, "args": args})
    assert response.status_code == 400
    assert response.json["code"] == 1201
    errors = _listed(response, "X-Mock-Errors")
    strictly = {
        p for p, rule in warned.items() if rule in ("args.unknown_key", "args.default_applied")
    }
    if not SHIPPED[model].complete:  # a partial page's unknown keys warn in both modes
        strictly -= {p for p, rule in warned.items() if rule == "args.unknown_key"}
    assert strictly and strictly <= set(errors), errors


@pytest.mark.parametrize("model", [s.id for s in SPECS])
def test_every_model_keeps_an_unknown_key_with_a_warning(
    lenient: FlaskClient, strict: FlaskClient, model: str
) -> None:
    args = {**_example(model), "zz_undocumented": 7}
    response = create(lenient, {"model": model, "args": args})
    assert response.status_code == 200, response.json
    assert _listed(response, "X-Mock-Warnings")["/args/zz_undocumented"] == "args.unknown_key"
    job_id = response.json["data"]["job_id"]
    assert query(lenient, job_id).json["data"]["args"]["zz_undocumented"] == 7
    refused = create(strict, {"model": model, "args": args})
    if model in COMPLETE:
        assert refused.status_code == 400
        assert _listed(refused, "X-Mock-Errors") == {
            "/args/zz_undocumented": "schema.additionalProperties"
        }
    else:
        assert refused.status_code == 200  # partial pages: A-partial-models, both modes


@pytest.mark.parametrize(("model", "name"), WITH_DEFAULTS)
def test_every_required_field_with_a_default_may_be_left_out(
    lenient: FlaskClient, strict: FlaskClient, model: str, name: str
) -> None:
    args = _example(model)
    args.pop(name, None)
    response = create(lenient, {"model": model, "args": args})
    assert response.status_code == 200, response.json
    assert _listed(response, "X-Mock-Warnings")[f"/args/{name}"] == "args.default_applied"
    spec = SHIPPED[model]
    with_default = {**args, name: spec.required_defaults[name]}
    assert response.json["data"]["amount"] == pricing.amount(spec, with_default)
    refused = create(strict, {"model": model, "args": args})
    assert refused.status_code == 400
    assert _listed(refused, "X-Mock-Errors") == {f"/args/{name}": "schema.required"}


@pytest.mark.parametrize(
    ("args", "pointer"),
    [
        ({"generate_audio": "false"}, "/args/generate_audio"),  # wrong type
        ({"resolution": "8k"}, "/args/resolution"),  # outside the options
        ({"prompt": None}, "/args/prompt"),  # required without a default
    ],
)
def test_wrong_values_stay_errors_by_default(
    lenient: FlaskClient, args: dict[str, Any], pointer: str
) -> None:
    merged = {**CLIENT_REQUESTS["veo-3.1-no-mode-negative-prompt"][1], **args}
    response = create(
        lenient,
        {
            "model": "google/veo-3.1/image-to-video",
            "args": {k: v for k, v in merged.items() if v is not None},
        },
    )
    assert response.status_code == 400
    assert pointer in _listed(response, "X-Mock-Errors")


def test_strict_profile_implies_strict_args() -> None:
    model, args, _ = CLIENT_REQUESTS["vidu-q2-movement-amplitude"]
    for client in _client(PROFILE="strict"):
        assert create(client, {"model": model, "args": args}).status_code == 400


def test_strict_args_is_a_runtime_setting(lenient: FlaskClient) -> None:
    model, args, _ = CLIENT_REQUESTS["vidu-q2-movement-amplitude"]
    assert lenient.post("/_mock/settings", json={"strict_args": True}).status_code == 200
    try:
        assert create(lenient, {"model": model, "args": args}).status_code == 400
    finally:
        lenient.post("/_mock/settings", json={"strict_args": False})
    assert create(lenient, {"model": model, "args": args}).status_code == 200
    assert lenient.post("/_mock/settings", json={"strict_args": 1}).status_code == 400


def _args_component(document: dict[str, Any], model: str) -> dict[str, Any]:
    branch = next(
        b
        for b in document["components"]["schemas"]["CreateRequest"]["oneOf"]
        if b["title"] == model
    )
    name = branch["properties"]["args"]["$ref"].rsplit("/", 1)[-1]
    component: dict[str, Any] = document["components"]["schemas"][name]
    return component


def test_openapi_document_follows_the_mode(lenient: FlaskClient, strict: FlaskClient) -> None:
    model = "google/veo-3.1/image-to-video"
    loose = _args_component(lenient.get("/openapi.json").json, model)
    assert "additionalProperties" not in loose
    assert "mode" not in loose["required"]
    tight = _args_component(strict.get("/openapi.json").json, model)
    assert tight["additionalProperties"] is False
    assert "mode" in tight["required"]


@pytest.mark.parametrize("model", COMPLETE[:12])
def test_fast_check_agrees_with_jsonschema_on_the_lenient_variant(model: str) -> None:
    name = schemas.args_variant(SHIPPED[model].args_schema, strict=False)
    for args in (_example(model), {**_example(model), "zz": 1}, {}, {"prompt": 3}):
        assert schemas.fast_check(name)(args) == schemas.validator(name).is_valid(args)


def test_warnings_reach_the_journal_and_the_dashboard(lenient: FlaskClient) -> None:
    model, args, _ = CLIENT_REQUESTS["z-image-width-height"]
    job_id = create(lenient, {"model": model, "args": args}).json["data"]["job_id"]
    [entry] = [
        e for e in lenient.get("/_mock/requests").json["requests"] if e.get("job_id") == job_id
    ]
    assert {(p["rule"], p["pointer"]) for p in entry["problems"]} >= {
        ("args.unknown_key", "/args/width"),
        ("args.unknown_key", "/args/height"),
    }
    page = lenient.get(f"/_mock/ui/jobs/{job_id}").get_data(as_text=True)
    assert "args.unknown_key" in page and "unknown key &#39;width&#39;" in page


def test_strict_args_option_reaches_serve_and_proxy_config() -> None:
    from mock_server.serve import cli, proxy_cli

    parser = cli.build_parser()
    assert cli.app_config(parser.parse_args(["serve"]))["STRICT_ARGS"] is False
    assert cli.app_config(parser.parse_args(["serve", "--strict-args"]))["STRICT_ARGS"] is True
    proxy = parser.parse_args(["proxy", "--target", "http://127.0.0.1:9", "--strict-args"])
    assert proxy_cli.proxy_config(proxy)["STRICT_ARGS"] is True
