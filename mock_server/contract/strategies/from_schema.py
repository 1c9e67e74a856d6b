"""Leaf strategies from JSON Schema: hypothesis-jsonschema's `from_schema`, and the walking
that composes objects and arrays from a schema's own keywords.

Objects and arrays are composed here from the schema's own ``properties``, ``required``,
``minItems`` and ``maxItems``: hypothesis-jsonschema 0.23's object strategy relies on a
private Hypothesis API (``many.more``) that current Hypothesis releases no longer have.
Patterns are translated to `st.text` pieces where they are simple (`matching`), and
``format: uri`` leaves get URIs made from the schema's own pattern. A string marked
``"x-image": true`` gets `image_values`: URLs of the schema's URL form that the mock's image
check finds nothing in, and small real images as data: URIs (`DATA_URIS`, made with Pillow:
random base64 would not decode).
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import string
import sys
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from PIL import Image

from mock_server.data import schemas
from mock_server.validation import images
from mock_server.validation.rules import Context

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
# The regex parser (private in 3.11+, where importing `sre_parse` warns).
_REGEX: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")


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


class _Unsupported(Exception):
    """A regex construct the fast translation does not handle."""


_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _in_class(char: str, items: Any) -> bool:
    negate, hit = False, False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or ord(char) == arg
        elif name == "RANGE":
            hit = hit or arg[0] <= ord(char) <= arg[1]
        elif name == "CATEGORY" and str(arg) in _CATEGORIES:
            hit = hit or _CATEGORIES[str(arg)](char)
        else:
            raise _Unsupported(name)
    return hit != negate


def _chars(op: Any, arg: Any, alphabet: str) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "NOT_LITERAL":
        return "".join(c for c in alphabet if ord(c) != arg)
    if name == "ANY":
        return alphabet.replace("\n", "")
    if name == "IN":
        return "".join(c for c in alphabet if _in_class(c, arg))
    raise _Unsupported(name)


def _sequence(items: Any, alphabet: str) -> st.SearchStrategy[str]:
    parts = [_piece(op, arg, alphabet) for op, arg in items]
    return st.tuples(*parts).map("".join)


def _piece(op: Any, arg: Any, alphabet: str) -> st.SearchStrategy[str]:
    name = str(op)
    if name == "AT":
        return st.just("")
    if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        return st.sampled_from(_chars(op, arg, alphabet))
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, inner = arg
        high = low + 16 if high == _REGEX.MAXREPEAT else high  # short, readable values
        if len(inner) == 1 and str(inner[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            char_op, char_arg = inner[0]
            return st.text(_chars(char_op, char_arg, alphabet), min_size=low, max_size=high)
        return st.lists(_sequence(inner, alphabet), min_size=low, max_size=high).map("".join)
    if name == "SUBPATTERN" and not arg[1] and not arg[2]:
        return _sequence(arg[3], alphabet)
    if name == "BRANCH":
        return st.one_of([_sequence(branch, alphabet) for branch in arg[1]])
    raise _Unsupported(name)


def matching(pattern: str, alphabet: str) -> st.SearchStrategy[str]:
    """Return strings over `alphabet` that match `pattern` in full.

    Simple patterns (literals, classes, repeats, groups, alternation) are translated into
    `st.text` pieces, several times faster than `st.from_regex`; others use `from_regex`.
    """
    try:
        return _sequence(_REGEX.parse(pattern), alphabet)
    except _Unsupported:
        return st.from_regex(pattern, fullmatch=True, alphabet=alphabet)


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


def _leaf(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    clean = {k: v for k, v in schema.items() if not k.startswith("x-") and k != "examples"}
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


def image_values(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    """Return values for an ``x-image`` string: URLs of its URL forms (``format: uri``: the
    schema itself, or its ``then``/``else``/``anyOf``/``oneOf`` forms) that the image check
    finds nothing in, and `DATA_URIS`."""
    forms = [schema, schema.get("then"), schema.get("else")]
    forms += [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    url_forms = [f for f in forms if isinstance(f, Mapping) and f.get("format") == "uri"]
    urls = [leaf({k: v for k, v in f.items() if k != images.KEYWORD}) for f in url_forms]
    # The data: URIs the schema takes; else the bare base64 of them, where a form takes that.
    check = Draft202012Validator({k: v for k, v in schema.items() if k != images.KEYWORD})
    inline = [d for d in DATA_URIS if check.is_valid(d)]
    inline = inline or [b for b in (d.split(",", 1)[1] for d in DATA_URIS) if check.is_valid(b)]
    return st.one_of(*[u.filter(_quiet) for u in urls], st.sampled_from(inline or DATA_URIS))


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
