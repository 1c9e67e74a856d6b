"""Labelled single-rule breaks below and beside the schema, and the tables of every break.

`RULE_BREAKS`: the cross-field rules of `mock_server.validation.rules` that are errors in
the default profile, and the model id. `TRANSPORT_BREAKS`: framing, content type, size,
auth and the query route. `LENIENT_BREAKS`: rules that only warn (the request is accepted).
`BREAKS` joins them with the schema breaks; `invalid_requests` picks any of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from mock_server.catalog.registry import MODELS
from mock_server.config import DEFAULTS
from mock_server.errors import AUTH_MISSING, BAD_REQUEST, NOT_FOUND
from mock_server.validation import rules

from .from_schema import leaf
from .labels import (
    ACCEPTED,
    BAD_BODY,
    BEARER,
    INVALID,
    QUERY_PATH,
    BrokenRequest,
    Expected,
    broken,
    encode,
)
from .schema_breaks import ARGS_LENIENT_BREAKS, SCHEMA_BREAK_REQUESTS
from .valid import (
    ARGS,
    ENVELOPE,
    SINGLE_FRAME_BAD_DURATIONS,
    SINGLE_FRAME_DURATIONS,
    elements,
    image_urls,
    job_ids,
    stripped,
    valid_requests,
)

__all__ = [
    "BREAKS",
    "LENIENT_BREAKS",
    "RULE_BREAKS",
    "TRANSPORT_BREAKS",
    "Patch",
    "auth_breaks",
    "invalid_requests",
    "lenient_requests",
]

_ARG = ARGS["properties"]

Patch = Callable[[st.DrawFn, dict[str, Any]], dict[str, Any]]


def _query(
    label: str,
    expected: Expected,
    ids: tuple[str, ...],
    query: str,
    authorization: str | None = BEARER,
) -> BrokenRequest:
    return broken(
        label,
        expected,
        ids,
        content_type=None,
        authorization=authorization,
        method="GET",
        path=QUERY_PATH,
        query=query,
    )


def _with_args(
    patch: Patch, label: str, pointer: str, ids: tuple[str, ...], expected: Expected = INVALID
) -> st.SearchStrategy[BrokenRequest]:
    @st.composite
    def build(draw: st.DrawFn) -> BrokenRequest:
        body = stripped(draw(valid_requests))
        body["args"] = patch(draw, body["args"])
        return broken(label, expected, ids, encode(body), pointer=pointer)

    return build()


def _with_body(
    make: Callable[[st.DrawFn, dict[str, Any]], Any],
    label: str,
    expected: Expected,
    ids: tuple[str, ...] = (),
    **fields: Any,
) -> st.SearchStrategy[BrokenRequest]:
    @st.composite
    def build(draw: st.DrawFn) -> BrokenRequest:
        body = make(draw, draw(valid_requests))
        data = body if isinstance(body, bytes) else encode(body)
        return broken(label, expected, ids, data, **fields)

    return build()


def _too_many_inputs(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    most_images, most_elements = _ARG["images"]["maxItems"], _ARG["elements"]["maxItems"]
    images = draw(st.integers(rules.MAX_INPUTS + 1 - most_elements, most_images))
    count = draw(st.integers(rules.MAX_INPUTS + 1 - images, most_elements))
    return {
        **args,
        "action": "refer",
        "images": draw(st.lists(image_urls, min_size=images, max_size=images)),
        "elements": draw(st.lists(elements, min_size=count, max_size=count)),
    }


def _single_frame_duration(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    duration = draw(st.sampled_from(SINGLE_FRAME_BAD_DURATIONS))
    return {**args, "action": "frame", "duration": duration}


def _frame_with_ratio(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    ratio = draw(st.sampled_from(_ARG["aspect_ratio"]["enum"]))
    duration = draw(st.sampled_from(SINGLE_FRAME_DURATIONS))
    return {**args, "action": "frame", "duration": duration, "aspect_ratio": ratio}


def _unknown_model(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    models = leaf(ENVELOPE["properties"]["model"]).filter(lambda m: m not in MODELS)
    return {**body, "model": draw(models)}


def _truncated(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    text = encode(body)
    return text[: draw(st.integers(1, len(text) - 1))]


def _not_utf8(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
    return encode(body)[:-1] + bad + b"}"


def _not_object(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    return draw(st.sampled_from([[body], "args", 5, None, True]))


_PAD = "\x01"  # JSON escapes it; where it is, the prompt's characters go in as bytes


def _too_large(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """Return `body` encoded with a prompt past the body limit (320 MiB of "x"): the bytes
    `encode` gives, spliced together (`json.dumps` of the whole takes a second)."""
    size = int(DEFAULTS["MAX_CONTENT_LENGTH"]) + draw(st.integers(1, 64))
    head, *rest = encode({**body, "args": {**body["args"], "prompt": _PAD}}).split(
        encode(_PAD)[1:-1]
    )
    if len(rest) != 1:  # the marker is elsewhere too: encode the whole
        return encode({**body, "args": {**body["args"], "prompt": "x" * size}})
    return b"".join((head, b"x" * size, rest[0]))


def _same(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    return body


_CONTENT_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "text/json"]
_MALFORMED_AUTH = ["Bearer", "Bearer ", "Token abc123", "Basic dXNlcjpwYXNz", ""]
_MISSING_ID = ["", "id=", "id=%20", "job_id=abc"]
_AUTH_MISSING = Expected(401, AUTH_MISSING)


def _by_query(
    label: str,
    expected: Expected,
    ids: tuple[str, ...],
    queries: st.SearchStrategy[str],
    auth: st.SearchStrategy[str | None],
) -> st.SearchStrategy[BrokenRequest]:
    return st.builds(lambda q, a: _query(label, expected, ids, q, a), queries, auth)


_ID_QUERIES = job_ids.map(lambda i: urlencode({"id": i}))
RULE_BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    "inputs.max_7": _with_args(
        _too_many_inputs, "inputs.max_7", "/args/elements", ("A-images-elements-max",)
    ),
    "duration.frame_single_image": _with_args(
        _single_frame_duration,
        "duration.frame_single_image",
        "/args/duration",
        ("A-duration-frame-single-image",),
    ),
    "aspect_ratio.refer_only": _with_args(
        _frame_with_ratio,
        "aspect_ratio.refer_only",
        "/args/aspect_ratio",
        ("A-aspect-ratio-refer-only",),
    ),
    "model.known": _with_body(
        _unknown_model, "model.known", INVALID, ("A-invalid-model-message",), pointer="/model"
    ),
}
"""The cross-field rules of `rules.py` (errors in the default profile) and the model id."""
TRANSPORT_BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    "body.not_json": _with_body(_truncated, "body.not_json", BAD_BODY),
    "body.not_utf8": _with_body(_not_utf8, "body.not_utf8", BAD_BODY),
    "body.not_object": _with_body(_not_object, "body.not_object", BAD_BODY),
    "body.max_size": _with_body(
        _too_large, "body.max_size", Expected(413, BAD_REQUEST), ("A-body-limit",)
    ),
    "content_type.json": st.sampled_from(_CONTENT_TYPES).flatmap(
        lambda kind: _with_body(
            _same,
            "content_type.json",
            Expected(415, BAD_REQUEST),
            ("A-content-type",),
            content_type=kind,
        )
    ),
    "auth.missing": _with_body(
        _same, "auth.missing", _AUTH_MISSING, ("A-auth",), authorization=None
    ),
    "auth.malformed": st.sampled_from(_MALFORMED_AUTH).flatmap(
        lambda header: _with_body(
            _same, "auth.malformed", _AUTH_MISSING, ("A-auth",), authorization=header
        )
    ),
    "auth.query_missing": _by_query(
        "auth.query_missing", _AUTH_MISSING, ("A-auth",), _ID_QUERIES, st.none()
    ),
    "query.unknown_id": _by_query(
        "query.unknown_id",
        Expected(404, NOT_FOUND),
        ("A-job-visibility",),
        _ID_QUERIES,
        st.just(BEARER),
    ),
    "query.id_required": _by_query(
        "query.id_required",
        INVALID,
        ("A-query-missing-id",),
        st.sampled_from(_MISSING_ID),
        st.just(BEARER),
    ),
}
"""Breaks below the body schema: framing, content type, size, auth and the query route."""
BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    **SCHEMA_BREAK_REQUESTS,
    **RULE_BREAKS,
    **TRANSPORT_BREAKS,
}
"""Every way to break exactly one rule, by label."""


def _pick(
    table: Mapping[str, st.SearchStrategy[BrokenRequest]],
) -> st.SearchStrategy[BrokenRequest]:
    return st.sampled_from(sorted(table)).flatmap(lambda label: table[label])


invalid_requests: st.SearchStrategy[BrokenRequest] = _pick(BREAKS)
"""Requests with exactly one rule broken; each says the answer it must get."""
auth_breaks: st.SearchStrategy[BrokenRequest] = _pick(
    {k: v for k, v in BREAKS.items() if k.startswith("auth.")}
)


# --- lenient rules: warnings in the default profile, accepted ------------------------------


def _dangling_reference(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["image", "element"]))
    have = len(args["images"]) if kind == "image" else len(args.get("elements", []))
    reference = f" [@{kind}{have + draw(st.integers(1, 3))}]"
    head = args["prompt"][: _ARG["prompt"]["maxLength"] - len(reference)]
    return {**args, "prompt": head + reference}


def _extra_frames(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    count = draw(st.integers(3, _ARG["images"]["maxItems"]))
    images = draw(st.lists(image_urls, min_size=count, max_size=count))
    return {**args, "action": "frame", "images": images}


def _callback_not_http(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    urls = leaf(ENVELOPE["properties"]["callback_url"]).filter(
        lambda u: not re.match(r"^https?://[^/\s]+", u, re.IGNORECASE)
    )
    return {**body, "callback_url": draw(urls)}


LENIENT_BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    "prompt.reference_exists": _with_args(
        _dangling_reference,
        "prompt.reference_exists",
        "/args/prompt",
        ("A-prompt-references",),
        ACCEPTED,
    ),
    "images.frame_extra_ignored": _with_args(
        _extra_frames,
        "images.frame_extra_ignored",
        "/args/images/2",
        ("A-frame-extra-images",),
        ACCEPTED,
    ),
    "callback_url.http": _with_body(
        _callback_not_http,
        "callback_url.http",
        ACCEPTED,
        ("A-callback-url-form",),
        pointer="/callback_url",
    ),
    **ARGS_LENIENT_BREAKS,  # an unknown args key, a required field with a default left out
}
"""Rules that only warn in the default profile: the request is accepted (and paid)."""
lenient_requests: st.SearchStrategy[BrokenRequest] = _pick(LENIENT_BREAKS)
