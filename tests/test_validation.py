"""Every request rule: accepted, rejected with the envelope, pointer and fix-it message."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import body, create
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.data import schemas
from mock_server.errors import ApiError
from mock_server.validation.request import validate_create

IMG = "https://example.com/i.png"
# The args schema whose "examples" holds the documentation page's own example request.
DOCS_SCHEMA = "models/kling-o1-image-to-video.args.json"


def problems(
    payload: Any, *, profile: str = "default", strict_args: bool = False
) -> list[tuple[str, str, str]]:
    """Return (rule, pointer, severity) of each problem, or [] when valid with no warnings."""
    try:
        valid = validate_create(payload, profile=profile, strict_args=strict_args)
    except ApiError as error:
        return [(p.rule, p.pointer, p.severity) for p in error.problems]
    return [(p.rule, p.pointer, p.severity) for p in valid.warnings]


def errors(payload: Any, **kw: Any) -> list[tuple[str, str]]:
    return [(rule, ptr) for rule, ptr, sev in problems(payload, **kw) if sev == "error"]


def test_valid_minimal_frame_request_has_no_problems() -> None:
    assert problems(body()) == []


def test_docs_own_example_is_accepted_with_warnings_only() -> None:
    example = {
        "model": "kwaivgi/kling-o1/image-to-video",
        "args": copy.deepcopy(schemas.load(DOCS_SCHEMA)["examples"][0]),
        "callback_url": "CALLBACK_URL",
    }
    assert problems(example) == [
        ("callback_url.http", "/callback_url", "warning"),
        ("prompt.reference_exists", "/args/prompt", "warning"),
    ]
    assert errors(example, profile="strict") == [
        ("callback_url.http", "/callback_url"),
        ("prompt.reference_exists", "/args/prompt"),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"mode": "ultra"}, ("schema.enum", "/args/mode")),
        ({"action": "morph"}, ("schema.enum", "/args/action")),
        ({"prompt": None}, ("schema.required", "/args/prompt")),
        ({"prompt": ""}, ("schema.minLength", "/args/prompt")),
        ({"prompt": "   \n"}, ("schema.pattern", "/args/prompt")),
        ({"prompt": "x" * 2501}, ("schema.maxLength", "/args/prompt")),
        ({"prompt": 5}, ("schema.type", "/args/prompt")),
        ({"duration": 5}, ("schema.type", "/args/duration")),
        ({"duration": "11"}, ("schema.enum", "/args/duration")),
        ({"duration": "2"}, ("schema.enum", "/args/duration")),
        ({"images": None}, ("schema.required", "/args/images")),
        ({"images": []}, ("schema.minItems", "/args/images")),
        ({"images": "https://example.com/a.jpg"}, ("schema.type", "/args/images")),
        ({"images": ["https://example.com/a.gif"]}, ("schema.pattern", "/args/images/0")),
        ({"images": ["ftp://example.com/a.jpg"]}, ("schema.pattern", "/args/images/0")),
        # A data: URI's form passes the schema; its bytes (a PNG signature alone) do not decode.
        ({"images": ["data:image/png;base64,iVBORw0KGgo="]}, ("image.decodable", "/args/images/0")),
        ({"images": ["data:image/jpg;base64,iVBORw0KGgo="]}, ("schema.pattern", "/args/images/0")),
        ({"images": ["iVBORw0KGgoAAAANSUhEUg=="]}, ("schema.format", "/args/images/0")),
        ({"images": ["https://example.com/a.svg?x=1"]}, ("schema.pattern", "/args/images/0")),
        ({"images": ["https:///a.jpg"]}, ("schema.pattern", "/args/images/0")),
        ({"images": ["https://exa mple.com/a.jpg"]}, ("schema.format", "/args/images/0")),
        ({"aspect_ratio": "4:3", "action": "refer"}, ("schema.enum", "/args/aspect_ratio")),
        ({"aspect_ratio": "1:1"}, ("aspect_ratio.refer_only", "/args/aspect_ratio")),
        ({"duration": "3"}, ("duration.frame_single_image", "/args/duration")),
        ({"elements": [{}]}, ("schema.required", "/args/elements/0/frontal_image_url")),
        (
            {"elements": [{"frontal_image_url": IMG, "reference_image_urls": []}]},
            ("schema.minItems", "/args/elements/0/reference_image_urls"),
        ),
        (
            {"elements": [{"frontal_image_url": IMG, "reference_image_urls": [IMG] * 4}]},
            ("schema.maxItems", "/args/elements/0/reference_image_urls"),
        ),
        (
            {"elements": [{"frontal_image_url": IMG, "back": IMG}]},
            ("schema.additionalProperties", "/args/elements/0/back"),
        ),
        (
            {"images": [IMG] * 4, "elements": [{"frontal_image_url": IMG}] * 4, "action": "refer"},
            ("inputs.max_7", "/args/elements"),
        ),
        ({"images": [IMG] * 8, "action": "refer"}, ("schema.maxItems", "/args/images")),
    ],
)
def test_each_broken_rule_is_reported_at_its_pointer(
    args: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert errors(body(**args)) == [expected]
    assert errors(body(**args), strict_args=True) == [expected]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"mode": None}, ("schema.required", "/args/mode", "args.default_applied")),
        ({"action": None}, ("schema.required", "/args/action", "args.default_applied")),
        ({"duraton": "5"}, ("schema.additionalProperties", "/args/duraton", "args.unknown_key")),
    ],
)
def test_lenient_findings_warn_by_default_and_are_errors_under_strict_args(
    args: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    error, pointer, warning = expected
    assert problems(body(**args)) == [(warning, pointer, "warning")]
    assert errors(body(**args), strict_args=True) == [(error, pointer)]
    assert errors(body(**args), profile="strict") == [(error, pointer)]  # strict implies it


@pytest.mark.parametrize(
    "args",
    [
        {"duration": "5"},
        {"duration": "10"},
        {"duration": "3", "images": [IMG, IMG]},
        {"duration": "3", "action": "refer"},
        {"action": "refer", "aspect_ratio": "9:16", "duration": "7"},
        {"images": ["HTTPS://EXAMPLE.COM/A.JPEG?sig=1&x=2"]},
        {"images": ["http://127.0.0.1:9000/a.webp#frag"]},
        {"images": ["https://cdn.example.com/v1.2/o/abc123?sig=x"]},  # warns: no extension
        {"prompt": "x" * 2500},
        {"prompt": "ü" * 2500},
        {"images": [IMG] * 4, "elements": [{"frontal_image_url": IMG}] * 3, "action": "refer"},
        {"elements": [{"frontal_image_url": IMG, "reference_image_urls": [IMG] * 3}]},
    ],
)
def test_allowed_edge_values_are_accepted(args: dict[str, Any]) -> None:
    assert errors(body(**args)) == []


def test_format_uri_is_enforced_on_image_urls() -> None:
    # The pattern alone would let this through; only the uri format checker rejects it.
    assert errors(body(images=["https://exa[mple.com/a.jpg"])) == [
        ("schema.format", "/args/images/0")
    ]


def test_frame_job_with_extra_images_is_accepted_with_a_warning() -> None:
    assert problems(body(images=[IMG, IMG, IMG])) == [
        ("images.frame_extra_ignored", "/args/images/2", "warning")
    ]


def test_prompt_reference_to_missing_image_warns_by_default_and_fails_strict() -> None:
    payload = body(prompt="[@image1] meets [@image3]", images=[IMG, IMG])
    assert problems(payload) == [("prompt.reference_exists", "/args/prompt", "warning")]
    assert errors(payload, profile="strict") == [("prompt.reference_exists", "/args/prompt")]


def test_prompt_reference_to_existing_inputs_is_quiet() -> None:
    payload = body(
        prompt="[@image2] and [@element1]", images=[IMG, IMG], elements=[{"frontal_image_url": IMG}]
    )
    assert problems(payload) == []


@pytest.mark.parametrize("strict_args", [False, True])
def test_every_problem_is_reported_at_once(strict_args: bool) -> None:
    payload = {
        "model": "kwaivgi/kling-o1/image-to-video",
        "extra": 1,
        "args": {
            "mode": "x",
            "action": "frame",
            "prompt": "",
            "images": ["a.gif"],
            "aspect_ratio": "1:1",
            "duraton": "5",
        },
    }
    strict_only = [("schema.additionalProperties", "/args/duraton")] if strict_args else []
    assert sorted(errors(payload, strict_args=strict_args)) == sorted(
        [
            ("schema.additionalProperties", "/extra"),  # the envelope stays strict
            *strict_only,
            ("schema.enum", "/args/mode"),
            ("schema.minLength", "/args/prompt"),
            ("schema.format", "/args/images/0"),
            ("aspect_ratio.refer_only", "/args/aspect_ratio"),
        ]
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"args": {}}, [("schema.required", "/model")]),
        ({"model": "kwaivgi/kling-o1/image-to-video"}, [("schema.required", "/args")]),
        ({"model": 3, "args": {}}, [("schema.type", "/model")]),
        ({"model": "kwaivgi/kling-o1/image-to-video", "args": []}, [("schema.type", "/args")]),
        ({**body(), "callback_url": 7}, [("schema.type", "/callback_url")]),
    ],
)
def test_envelope_problems(payload: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert errors(payload) == expected


def test_unknown_key_suggests_the_closest_name(client: FlaskClient) -> None:
    response = create(client, body(aspect_ration="16:9"))
    assert response.status_code == 200, response.json
    assert "did you mean 'aspect_ratio'?" in response.headers["X-Mock-Warnings"]
    assert errors(body(aspect_ration="16:9"), strict_args=True) == [
        ("schema.additionalProperties", "/args/aspect_ration")
    ]


def test_invalid_model_answers_exact_upstream_text(client: FlaskClient) -> None:
    response = create(client, {"model": "no/such/model", "args": {}})
    assert response.status_code == 400
    assert response.json == {
        "code": 1201,
        "message": "invalid model: no/such/model",
        "info": "invalid model: no/such/model",
    }


def test_rejection_lists_problems_in_text_and_header_never_in_body(client: FlaskClient) -> None:
    response = create(client, body(mode="ultra", duration=5))
    assert response.status_code == 400
    assert set(response.json) == {"code", "message", "info"}
    assert response.json["code"] == 1201
    assert response.json["message"] == response.json["info"]
    text = response.json["message"]
    assert "2 problems" in text
    assert "/args/mode" in text and '"std", "pro"' in text
    assert "/args/duration" in text and 'e.g. "5"' in text
    listed = json.loads(response.headers["X-Mock-Errors"])
    assert {p["pointer"] for p in listed} == {"/args/mode", "/args/duration"}
    assert all(p["message"] for p in listed)


def test_strict_profile_rejects_the_docs_example(make_app: Any) -> None:
    client = make_app(PROFILE="strict").test_client()
    payload = body(prompt="[@element1] walks")
    response = create(client, payload)
    assert response.status_code == 400
    assert "[@element1]" in response.json["message"]


def test_accepted_request_returns_warnings_in_header(client: FlaskClient) -> None:
    response = create(client, body(prompt="[@image2] runs"))
    assert response.status_code == 200
    warnings = json.loads(response.headers["X-Mock-Warnings"])
    assert [w["rule"] for w in warnings] == ["prompt.reference_exists"]
    assert set(response.json["data"]) == {"amount", "job_id"}


# The fast yes/no check (jsonschema-rs) and the explaining validator (jsonschema) must agree,
# or a request could pass one and fail the other.
_url_texts = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, path, ext, tail: f"{scheme}://{host}/{path}{ext}{tail}",
        st.sampled_from(["http", "https", "HTTPS", "ftp", "data", ""]),
        st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=15),
        st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=15),
        st.sampled_from([".jpg", ".JPEG", ".png", ".webp", ".gif", "", ".jpg "]),
        st.sampled_from(["", "?a=1", "#x", "?q=a b", "%zz", "/"]),
    ),
)


@settings(max_examples=400, deadline=None)
@given(url=_url_texts)
def test_fast_check_agrees_with_jsonschema_on_image_urls(url: str) -> None:
    args = {**body()["args"], "images": [url]}
    name = "models/kling-o1-image-to-video.args.json"
    assert schemas.fast_check(name)(args) == schemas.validator(name).is_valid(args)


@settings(max_examples=200, deadline=None)
@given(
    args=st.dictionaries(
        st.sampled_from(
            ["mode", "action", "prompt", "duration", "images", "elements", "aspect_ratio", "extra"]
        ),
        st.none()
        | st.integers()
        | st.sampled_from(["std", "pro", "frame", "refer", "5", "16:9"])
        | st.text(max_size=30)
        | st.lists(st.text(max_size=30) | _url_texts, max_size=8)
        | st.lists(st.fixed_dictionaries({"frontal_image_url": _url_texts}), max_size=3),
    )
)
def test_fast_check_agrees_with_jsonschema_on_args(args: Any) -> None:
    name = "models/kling-o1-image-to-video.args.json"
    assert schemas.fast_check(name)(args) == schemas.validator(name).is_valid(args)


def test_pointers_escape_slash_and_tilde() -> None:
    assert problems(body(**{"a/b": 1, "c~d": 2})) == [
        ("args.unknown_key", "/args/a~1b", "warning"),
        ("args.unknown_key", "/args/c~0d", "warning"),
    ]
    assert errors(body(**{"a/b": 1, "c~d": 2}), strict_args=True) == [
        ("schema.additionalProperties", "/args/a~1b"),
        ("schema.additionalProperties", "/args/c~0d"),
    ]


def test_empty_model_is_one_problem() -> None:
    assert errors({"model": "", "args": {}}) == [("schema.minLength", "/model")]
