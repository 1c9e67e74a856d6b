"""Leaf strategies from JSON Schema: hypothesis-jsonschema's `from_schema`, and the walking
that composes objects and arrays from a schema's own keywords.

Objects and arrays are composed here from the schema's own ``properties``, ``required``,
``minItems`` and ``maxItems``: hypothesis-jsonschema 0.23's object strategy relies on a
private Hypothesis API (``many.more``) that current Hypothesis releases no longer have.
Patterns are translated to `st.text` pieces where they are simple (`regex.matching`), and
``format: uri`` leaves get URIs made from the schema's own pattern. A string marked
``"x-image": true`` gets `image_values`: URLs of the schema's URL form that the mock's image
check finds nothing in (a pool sampled once from the pattern: `_quiet_urls`), and small real
images as data: URIs (`DATA_URIS`, made with Pillow: random base64 would not decode).
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from PIL import Image

from mock_server.data import schemas
from mock_server.validation import images
from mock_server.validation.rules import Context

from .regex import matching, one_class, sampler

__all__ = [
    "DATA_URIS",
    "for_schema",
    "image_values",
    "leaf",
    "matching",
    "resolve",
    "resolved",
]

FORMATS = Draft202012Validator.FORMAT_CHECKER
_URI_CHARS = string.ascii_letters + string.digits + "-._~/:?=&"
_URI_FORMAT = "shortapi-uri"


def resolve(node: Any, root: Mapping[str, Any]) -> Any:
    """Return `node` with local ``$ref``s of `root` inlined (siblings of $ref kept)."""
    if isinstance(node, list):
        return [resolve(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**resolve(target, root), **resolve(siblings, root)}
    return {key: resolve(value, root) for key, value in node.items()}


def resolved(name: str) -> dict[str, Any]:
    """Return schema file `name` with its local references inlined."""
    document = schemas.load(name)
    out: dict[str, Any] = resolve(document, document)
    return out


def _uris(pattern: str | None) -> st.SearchStrategy[str]:
    """Return URIs that satisfy `pattern` (the ``format: uri`` strategy for a leaf)."""
    base = matching(pattern, _URI_CHARS) if pattern else st.just("https://example.com/")
    return base.filter(lambda s: FORMATS.conforms(s, "uri"))


def leaf(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Return `from_schema` for a non-object, non-array schema (annotations dropped)."""
    return _cached(json.dumps(schema, sort_keys=True), _leaf)


def for_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Return values valid for `schema`; objects and arrays are composed from its keywords."""
    return _cached(json.dumps(schema, sort_keys=True), _for_schema)


_STRATEGIES: dict[tuple[str, str], st.SearchStrategy[Any]] = {}


def _cached(
    key: str, build: Callable[[Mapping[str, Any]], st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    """Build a schema's strategy once: building (and regex translation) is not cheap."""
    if (key, build.__name__) not in _STRATEGIES:
        _STRATEGIES[key, build.__name__] = build(json.loads(key))
    return _STRATEGIES[key, build.__name__]


_TEXT_KEYWORDS = {"type", "minLength", "maxLength", "pattern", "title", "description", "default"}


def _text(schema: Mapping[str, Any]) -> st.SearchStrategy[str] | None:
    """Return text for a string schema whose pattern asks for one character of a class
    (a prompt's ``\\S``: not only white space), or None: one draw, where
    hypothesis-jsonschema's `from_regex` makes a dozen."""
    pattern = schema.get("pattern")
    if schema.get("type") != "string" or set(schema) - _TEXT_KEYWORDS:
        return None
    if not isinstance(pattern, str) or not one_class(pattern):
        return None
    found = re.compile(pattern)
    text = st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength"))
    return text.filter(lambda s: found.search(s) is not None)


def _leaf(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    clean = {k: v for k, v in schema.items() if not k.startswith("x-") and k != "examples"}
    if (text := _text(clean)) is not None:
        return text
    if clean.get("format") != "uri":
        return from_schema(clean)
    # Renamed so hypothesis-jsonschema takes our URIs (made from the schema's own pattern)
    # without a warning about overriding its standard "uri" format.
    clean["format"] = _URI_FORMAT
    return from_schema(clean, custom_formats={_URI_FORMAT: _uris(schema.get("pattern"))})


def _data_uri(fmt: str, size: tuple[int, int], color: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f"data:{images.CONTENT_TYPES[fmt]};base64,{encoded}"


DATA_URIS: tuple[str, ...] = (
    _data_uri("PNG", (images.MIN_SIDE, images.MIN_SIDE), (200, 40, 40)),
    _data_uri("JPEG", (480, 320), (40, 160, 90)),
    _data_uri("WEBP", (320, 640), (30, 60, 200)),
    _data_uri("PNG", (int(images.MIN_SIDE * images.MAX_RATIO), images.MIN_SIDE), (9, 9, 9)),
)
"""Small valid images as data: URIs (the smallest side, the widest ratio, each format)."""


def _quiet(value: str) -> bool:
    """Say whether the mock's image check finds nothing, not even a warning, in `value`."""
    return not any(images.check_value(value, "", Context()))


POOL = 256  # quiet URLs drawn once per URL form of an x-image schema
_POOL_TRIES = 20 * POOL


def _quiet_pool(form: Mapping[str, Any]) -> list[str] | None:
    """Return `POOL` URLs of one URL form (its pattern, ``format: uri``, its length) that the
    image check is quiet about, sampled once with a fixed seed, shortest first; None when
    `regex.sampler` does not take the pattern.

    Drawn by Hypothesis and filtered, half of them (no image extension: a warning) cost an
    example its every draw (a filter gives up after three misses); from a pool an image is
    one choice.
    """
    sample = sampler(form["pattern"], _URI_CHARS) if "pattern" in form else None
    if sample is None:
        return None
    rng, check = random.Random(json.dumps(form, sort_keys=True)), Draft202012Validator(form)
    found: dict[str, None] = {}
    for _ in range(_POOL_TRIES):
        url = sample(rng)
        if FORMATS.conforms(url, "uri") and check.is_valid(url) and _quiet(url):
            found[url] = None
            if len(found) == POOL:
                break
    return sorted(found, key=lambda u: (len(u), u))


def image_values(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    """Return values for an ``x-image`` string: URLs of its URL forms (``format: uri``: the
    schema itself, or its ``then``/``else``/``anyOf``/``oneOf`` forms) that the image check
    finds nothing in (`_quiet_pool`), and `DATA_URIS`, each form as likely."""
    forms = [schema, schema.get("then"), schema.get("else")]
    forms += [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    url_forms = [
        {k: v for k, v in f.items() if k != images.KEYWORD}
        for f in forms
        if isinstance(f, Mapping) and f.get("format") == "uri"
    ]
    # The data: URIs the schema takes; else the bare base64 of them, where a form takes that.
    check = Draft202012Validator({k: v for k, v in schema.items() if k != images.KEYWORD})
    inline = [d for d in DATA_URIS if check.is_valid(d)]
    inline = inline or [b for b in (d.split(",", 1)[1] for d in DATA_URIS) if check.is_valid(b)]
    pools = [_quiet_pool(f) for f in url_forms]
    choices = [*(p for p in pools if p), inline or list(DATA_URIS)]
    if None not in pools:  # one draw among them all, each form weighing the same
        return st.sampled_from([c[i % len(c)] for c in choices for i in range(POOL)])
    urls = [leaf(f).filter(_quiet) for f, pool in zip(url_forms, pools, strict=True) if not pool]
    return st.one_of(*urls, *(st.sampled_from(c) for c in choices))


def _for_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if schema.get(images.KEYWORD) is True:
        return image_values(schema)
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        properties: Mapping[str, Any] = schema["properties"]
        required = [k for k in properties if k in schema.get("required", ())]
        return st.fixed_dictionaries(
            {k: for_schema(properties[k]) for k in required},
            optional={k: for_schema(v) for k, v in properties.items() if k not in required},
        )
    if kind == "array" and "items" in schema:
        return st.lists(
            for_schema(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems"),
        )
    return leaf(schema)
