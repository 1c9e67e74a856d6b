"""Image inputs as upstream takes them: data: URIs read with Pillow, URLs by their form (an
extensionless one warns), the mock's own uploads by their bytes; the body limit fits them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import body, create
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pictures import data_uri, image_bytes, picture

from mock_server.config import DEFAULTS
from mock_server.data import schemas
from mock_server.errors import ApiError
from mock_server.validation import images
from mock_server.validation.request import validate_create
from mock_server.validation.rules import Context

ARGS_SCHEMA = "models/kling-o1-image-to-video.args.json"
URL = "https://example.com/a.png"


def problems(payload: Any, **kw: Any) -> list[tuple[str, str, str]]:
    """Return (rule, pointer, severity) of every problem of `payload` (warnings included)."""
    try:
        valid = validate_create(payload, **kw)
    except ApiError as error:
        return [(p.rule, p.pointer, p.severity) for p in error.problems]
    return [(p.rule, p.pointer, p.severity) for p in valid.warnings]


def messages(payload: Any, **kw: Any) -> dict[str, str]:
    """Return {pointer: message} of the problems of `payload`."""
    try:
        valid = validate_create(payload, **kw)
    except ApiError as error:
        return {p.pointer: p.message for p in error.problems}
    return {p.pointer: p.message for p in valid.warnings}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_data_uris_of_each_format_are_accepted_quietly(fmt: str) -> None:
    assert problems(body(images=[picture(640, 480, fmt)])) == []


@pytest.mark.parametrize(
    ("size", "rule"),
    [
        ((300, 300), None),
        ((299, 300), "image.min_side"),
        ((300, 299), "image.min_side"),
        ((750, 300), None),  # 2.5:1, the widest allowed
        ((751, 300), "image.aspect_ratio"),
        ((300, 750), None),  # 1:2.5
        ((300, 751), "image.aspect_ratio"),
        ((100, 100), "image.min_side"),
    ],
)
def test_sides_and_aspect_ratio_limits(size: tuple[int, int], rule: str | None) -> None:
    found = problems(body(images=[picture(*size)]))
    assert found == ([] if rule is None else [(rule, "/args/images/0", "error")])


def test_every_image_field_is_checked_at_its_own_pointer() -> None:
    small = picture(200, 200)
    payload = body(
        action="refer",
        images=[picture(), small],
        elements=[
            {"frontal_image_url": small},
            {"frontal_image_url": URL, "reference_image_urls": [URL, small]},
        ],
    )
    assert sorted(problems(payload)) == [
        ("image.min_side", "/args/elements/0/frontal_image_url", "error"),
        ("image.min_side", "/args/elements/1/reference_image_urls/1", "error"),
        ("image.min_side", "/args/images/1", "error"),
    ]


def test_messages_say_what_is_wrong_and_how_to_fix_it() -> None:
    found = messages(body(images=[picture(200, 150), picture(1000, 300)]))
    assert "200x150 px" in found["/args/images/0"] and "at least 300 px" in found["/args/images/0"]
    assert "1:2.5 and 2.5:1" in found["/args/images/1"] and "crop" in found["/args/images/1"]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (data_uri(image_bytes(400, 400, "GIF")), "image.format"),  # GIF bytes labelled png
        (data_uri(image_bytes(400, 400)[:-40]), "image.decodable"),  # truncated PNG
        (
            data_uri(image_bytes(400, 400, "JPEG", noise=True)[:3000], "image/jpeg"),
            "image.decodable",
        ),
        (
            data_uri(image_bytes(400, 400, "WEBP", noise=True)[:3000], "image/webp"),
            "image.decodable",
        ),
        (data_uri(b"not an image at all"), "image.decodable"),
        ("data:image/png;base64,iVBORw0KGgo", "image.base64"),  # padding missing
        ("data:image/png;base64,", "schema.pattern"),
        (
            "data:image/gif;base64," + base64.b64encode(image_bytes(400, 400, "GIF")).decode(),
            "schema.pattern",
        ),
        ("data:image/png;base64,iVBO\nRw0KGgo=", "schema.pattern"),  # no line breaks
    ],
)
def test_data_uris_that_are_not_good_images_are_refused(value: str, rule: str) -> None:
    assert problems(body(images=[value])) == [(rule, "/args/images/0", "error")]


def test_jpg_is_not_a_content_type_and_the_fix_says_jpeg() -> None:
    payload = body(images=["data:image/jpg;base64," + base64.b64encode(image_bytes()).decode()])
    assert problems(payload) == [("schema.pattern", "/args/images/0", "error")]
    assert "image/jpeg" in messages(payload)["/args/images/0"]


def test_ten_megabytes_decoded_is_the_most() -> None:
    biggest = image_bytes(1800, 1800, noise=True, compress_level=0)  # 9.7 MB, incompressible
    assert 9_000_000 < len(biggest) <= images.MAX_BYTES
    assert problems(body(images=[data_uri(biggest)])) == []
    over = data_uri(b"\x89PNG" + bytes(images.MAX_BYTES - 3))  # 10,000,001 bytes
    assert problems(body(images=[over])) == [("image.max_size", "/args/images/0", "error")]
    assert "10,000,001 bytes" in messages(body(images=[over]))["/args/images/0"]


def test_a_data_uri_longer_than_the_schema_allows_is_a_schema_error() -> None:
    limit = schemas.load(ARGS_SCHEMA)["$defs"]["image_data_uri"]["maxLength"]
    value = "data:image/png;base64," + "A" * limit
    assert problems(body(images=[value])) == [("schema.maxLength", "/args/images/0", "error")]


def test_declared_type_other_than_the_bytes_warns_and_fails_strict() -> None:
    jpeg_as_png = data_uri(image_bytes(400, 400, "JPEG"), "image/png")
    payload = body(images=[jpeg_as_png])
    assert problems(payload) == [("image.declared_type", "/args/images/0", "warning")]
    assert problems(payload, profile="strict") == [
        ("image.declared_type", "/args/images/0", "error")
    ]
    assert "data:image/jpeg;base64," in messages(payload)["/args/images/0"]


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/o/3f9a2c",
        "https://storage.example.com/bucket/obj?X-Amz-Signature=abc&X-Amz-Expires=600",
        "http://127.0.0.1:9000/v1.2/image",
        "https://example.com/",
        "https://example.com",
    ],
)
def test_urls_without_extension_are_accepted_with_a_warning(url: str) -> None:
    for profile in ("default", "strict"):
        found = problems(body(images=[url]), profile=profile)
        assert found == [("image.url_no_extension", "/args/images/0", "warning")]


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a.gif", "https://example.com/a.svg?x=1", "https://e.com/a.gif#b.png"],
)
def test_urls_with_another_extension_are_refused(url: str) -> None:
    assert problems(body(images=[url])) == [("schema.pattern", "/args/images/0", "error")]
    assert "or has no extension" in messages(body(images=[url]))["/args/images/0"]


def test_the_warning_reaches_the_client_in_x_mock_warnings(client: FlaskClient) -> None:
    response = create(client, body(images=["https://cdn.example.com/signed/abc?sig=1"]))
    assert response.status_code == 200, response.json
    warnings = json.loads(response.headers["X-Mock-Warnings"])
    assert [(w["rule"], w["pointer"]) for w in warnings] == [
        ("image.url_no_extension", "/args/images/0")
    ]


def test_create_with_images_over_a_megabyte_is_accepted(client: FlaskClient) -> None:
    """Seven noisy images of about 1.1 MB: a body of 10 MB, far over the old 1 MiB limit."""
    frames = [data_uri(image_bytes(700, 700, noise=True)) for _ in range(2)]
    refs = [data_uri(image_bytes(700, 700, "JPEG", noise=True, quality=100), "image/jpeg")] * 5
    payload = body(action="refer", images=frames + refs)
    assert len(json.dumps(payload)) > 10_000_000
    response = create(client, payload)
    assert response.status_code == 200, response.json
    assert "X-Mock-Warnings" not in response.headers


def test_create_answers_each_bad_image_in_the_envelope(client: FlaskClient) -> None:
    response = create(client, body(images=[picture(100, 100), data_uri(b"junk")]))
    assert response.status_code == 400
    assert set(response.json) == {"code", "message", "info"}
    assert "2 problems" in response.json["message"]
    listed = json.loads(response.headers["X-Mock-Errors"])
    assert [(p["rule"], p["pointer"]) for p in listed] == [
        ("image.min_side", "/args/images/0"),
        ("image.decodable", "/args/images/1"),
    ]


def test_the_body_limit_fits_the_largest_documented_request() -> None:
    """25 data: URIs at the schema's longest (1 image + 6 elements of 1 + 3) fit the limit."""
    args = schemas.load(ARGS_SCHEMA)
    props, element = args["properties"], args["$defs"]["element"]["properties"]
    most = 7  # images + elements (rules.MAX_INPUTS)
    count = max(
        i + e * (1 + element["reference_image_urls"]["maxItems"])
        for i in range(props["images"]["minItems"], props["images"]["maxItems"] + 1)
        for e in range(props["elements"]["maxItems"] + 1)
        if i + e <= most
    )
    assert count == 25
    longest = args["$defs"]["image_data_uri"]["maxLength"]
    json_rest = 1024 * 1024  # quotes, keys, a 2,500-character prompt escaped, the envelope
    assert count * (longest + 3) + json_rest <= DEFAULTS["MAX_CONTENT_LENGTH"]
    assert DEFAULTS["MAX_CONTENT_LENGTH"] <= 400 * 1024 * 1024  # and not much more


def test_x_image_marks_image_values_in_any_model_schema() -> None:
    """Another model's file reuses the keyword: the walk follows properties, items, $ref."""
    schema = {
        "type": "object",
        "properties": {
            "first_frame": {"$ref": "#/$defs/img"},
            "mask": {"type": "string", "x-image": True},
            "refs": {"type": "array", "items": {"$ref": "#/$defs/img"}},
            "nested": {"type": "object", "properties": {"a~b/c": {"$ref": "#/$defs/img"}}},
            "prompt": {"type": "string"},
        },
        "$defs": {"img": {"type": "string", "x-image": True}},
    }
    args = {
        "first_frame": "f",
        "mask": "m",
        "refs": ["r0", "r1"],
        "nested": {"a~b/c": "n"},
        "prompt": "not an image",
    }
    assert list(images.image_values(schema, args, "/args")) == [
        ("/args/first_frame", "f"),
        ("/args/mask", "m"),
        ("/args/refs/0", "r0"),
        ("/args/refs/1", "r1"),
        ("/args/nested/a~0b~1c", "n"),
    ]
    bad = {**args, "mask": picture(100, 100), "refs": [picture(), "https://e.com/x"]}
    found = [(p.rule, p.pointer) for p in images.check_args(schema, bad, Context(), prefix="")]
    assert found == [("image.min_side", "/mask"), ("image.url_no_extension", "/refs/1")]


def _lookup(stored: dict[str, bytes]) -> Callable[[str], bytes | None]:
    def lookup(url: str) -> bytes | None:
        if not url.startswith("http://mock/files/uploads/"):
            return None
        return stored[url]  # KeyError: one of the mock's, not kept

    return lookup


def test_the_mocks_own_uploads_are_checked_by_their_bytes() -> None:
    lookup = _lookup(
        {
            "http://mock/files/uploads/good.png": image_bytes(),
            "http://mock/files/uploads/small.png": image_bytes(100, 100),
        }
    )
    payload = body(
        action="refer",
        images=[
            "http://mock/files/uploads/good.png",
            "http://mock/files/uploads/small.png",
            "http://mock/files/uploads/gone.png",
            "https://example.com/other.png",  # not the mock's: by its form only
        ],
    )
    assert problems(payload, uploads=lookup) == [
        ("image.min_side", "/args/images/1", "error"),
        ("image.upload_unknown", "/args/images/2", "error"),
    ]
    assert "POST /api/v1/image/send" in messages(payload, uploads=lookup)["/args/images/2"]


def test_schema_errors_are_not_checked_again() -> None:
    """A value the schema already flagged gets one problem, not a second from Pillow."""
    assert problems(body(images=["data:image/png;base64,!!!!"])) == [
        ("schema.pattern", "/args/images/0", "error")
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.one_of(
        st.binary(max_size=200),
        st.sampled_from([image_bytes(300, 300), image_bytes(400, 300, "JPEG")]).flatmap(
            lambda good: st.integers(0, len(good)).map(lambda n: good[:n])
        ),
    ),
    mime=st.sampled_from(["image/png", "image/jpeg", "image/webp"]),
)
def test_any_bytes_get_a_problem_or_pass_never_an_exception(payload: bytes, mime: str) -> None:
    found = problems(body(images=[data_uri(payload, mime)]))
    assert all(rule.startswith(("image.", "schema.")) for rule, _, _ in found)


def test_a_video_url_without_extension_is_accepted_with_a_warning(client: FlaskClient) -> None:
    model = "kwaivgi/kling-3.0/motion-control"
    args = {"prompt": "a lab", "image": "https://e.com/a.jpg", "character_orientation": "image"}
    signed = create(client, {"model": model, "args": {**args, "video": "https://e.com/v/a1?s=2"}})
    assert signed.status_code == 200, signed.json
    warnings = json.loads(signed.headers["X-Mock-Warnings"])
    assert [(w["rule"], w["pointer"]) for w in warnings] == [
        ("video.url_no_extension", "/args/video")
    ]
    plain = create(client, {"model": model, "args": {**args, "video": "https://e.com/a.MP4"}})
    assert plain.status_code == 200, plain.json
    assert "X-Mock-Warnings" not in plain.headers


def test_a_remembered_data_uri_check_answers_as_a_fresh_one() -> None:
    """Small data: URIs' checks are remembered: the same image sent again, at another
    pointer or under another profile, gets exactly the problems a fresh check finds."""
    small, mislabeled = picture(100, 100), picture().replace("image/png", "image/jpeg", 1)
    fresh = list(images._check_data_uri(small, "/args/images/1", "warning"))
    for _ in range(2):
        found = list(images.check_value(small, "/args/images/1", Context()))
        assert found == fresh and [p.rule for p in found] == ["image.min_side"]
    assert [p.pointer for p in images.check_value(small, "/a/0", Context())] == ["/a/0"]
    for profile, severity in (("default", "warning"), ("strict", "error"), ("default", "warning")):
        (found,) = images.check_value(mislabeled, "/x", Context(profile=profile))
        assert (found.rule, found.severity) == ("image.declared_type", severity)
