"""Per-model strategies: valid requests and one-keyword schema breaks for every served model.

`valid_args_for(model_id)` draws args from the model's own args schema (`for_schema`, so
``x-image`` strings get the image strategies), makes the ``allOf`` if/then conditions hold
(a field a ``then`` forbids is dropped, one it requires is drawn) and keeps the draw when the
mock's own checks (schema, named rules, images: `args_problems`) find no error. After a few
misses it falls back to the model's ``examples[0]`` with its enum fields redrawn where the
checks still agree. kling-o1 keeps its own strategies (`valid.valid_args`).

`schema_breaks_for(model_id)` breaks each constraining keyword of the model's args (the
`schema_breaks` machinery over its spots) on a valid request, kept only when the mock finds
that one error and no other; the breaks only strict args reject (an unknown key, a required
field with a default left out) only with ``strict_args=True``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mock_server.catalog.registry import MODELS, ModelSpec
from mock_server.errors import ApiError
from mock_server.validation.request import validate_create

from .from_schema import FORMATS, for_schema, resolved
from .labels import ALWAYS, INVALID, BrokenRequest, encode
from .schema_breaks import Break, Spot, apply, breaks_at, pointer_of, walk
from .valid import ENVELOPE, MODEL, valid_args, valid_requests

__all__ = [
    "GENERATION_TRIES",
    "error_pointers",
    "example_args",
    "schema_breaks_for",
    "valid_args_for",
    "valid_requests_for",
]

GENERATION_TRIES = 4  # schema draws before the example fallback
_HUGE = 100_000  # a maxLength this long (data: URIs) is not broken per model: megabytes each


def error_pointers(body: Mapping[str, Any], *, strict_args: bool = False) -> set[str]:
    """Return the pointers where the mock finds an error in create body `body` (the oracle)."""
    try:
        validate_create(dict(body), strict_args=strict_args)
    except ApiError as refused:
        found = {p.pointer for p in refused.problems if p.severity == "error"}
        return found or {"(body)"}
    return set()


def _args_schema(spec: ModelSpec) -> dict[str, Any]:
    return resolved(spec.args_schema)


def _free_text(schema: Mapping[str, Any]) -> bool:
    """Say whether a property is free text (no enum, pattern or format to keep)."""
    return schema.get("type") == "string" and not {"enum", "const", "pattern", "format"} & set(
        schema
    )


def _plain(schema: Mapping[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Return `args` with brackets out of free text: no [mock:...] marker, no reference."""
    properties = schema.get("properties", {})
    return {
        k: v.replace("[", "(").replace("]", ")")
        if isinstance(v, str) and _free_text(properties.get(k, {}))
        else v
        for k, v in args.items()
    }


def _conditioned(
    draw: st.DrawFn, schema: Mapping[str, Any], args: dict[str, Any]
) -> dict[str, Any]:
    """Return `args` patched so each ``allOf`` condition holds: the ``then`` of an ``if``
    that holds, else its ``else`` (fields it forbids dropped, fields it requires drawn)."""
    properties = schema.get("properties", {})
    for _ in range(2):  # a patch may switch on another condition
        for part in schema.get("allOf", ()):
            condition = part.get("if")
            if not isinstance(condition, Mapping):
                continue
            branch = part.get("then" if _holds(condition, args) else "else")
            if isinstance(branch, Mapping):
                _meet(draw, properties, branch, args)
    return args


def _holds(schema: Mapping[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema, format_checker=FORMATS).is_valid(value)


def _meet(
    draw: st.DrawFn, properties: Mapping[str, Any], branch: Mapping[str, Any], args: dict[str, Any]
) -> None:
    """Patch `args` in place until `branch` (one condition's ``then`` or ``else``) holds."""
    for key, rule in branch.get("properties", {}).items():
        if rule.get("not") == {}:
            args.pop(key, None)
            continue
        merged = {**properties.get(key, {}), **rule}
        if key in args and not _holds(merged, args[key]):
            args[key] = draw(for_schema(merged))
    for key in branch.get("required", ()):
        if key not in args and key in properties:
            merged = {**properties[key], **branch.get("properties", {}).get(key, {})}
            args[key] = draw(for_schema(merged))


def example_args(model_id: str) -> dict[str, Any]:
    """Return a copy of the model file's first example (the args the docs show)."""
    examples = _args_schema(MODELS[model_id]).get("examples") or [{}]
    first: dict[str, Any] = json.loads(json.dumps(examples[0]))
    return first


def _body(model_id: str, args: Any) -> dict[str, Any]:
    return {"model": model_id, "args": args}


def _from_example(model_id: str, schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Return the first example with each enum field redrawn where the mock still agrees."""
    choices = {
        k: list(p["enum"])
        for k, p in schema.get("properties", {}).items()
        if isinstance(p, Mapping) and "enum" in p
    }

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        args = example_args(model_id)
        for key in draw(st.permutations(sorted(choices))):
            candidate = {**args, key: draw(st.sampled_from(choices[key]))}
            if not error_pointers(_body(model_id, candidate)):
                args = candidate
        return args

    return mutated()


@functools.cache
def valid_args_for(model_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Return args of `model_id` the mock accepts without an error (kling-o1: `valid_args`)."""
    if model_id == MODEL.id:
        return valid_args
    spec = MODELS[model_id]
    schema = _args_schema(spec)
    drawn = for_schema({k: v for k, v in schema.items() if k != "allOf"})
    fallback = _from_example(model_id, schema)
    if error_pointers(_body(model_id, example_args(model_id))):
        raise ValueError(f"{model_id}: the model file's examples[0] is not valid")

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        for _ in range(GENERATION_TRIES):
            args = _conditioned(draw, schema, _plain(schema, draw(drawn)))
            if not error_pointers(_body(model_id, args)):
                return args
        return draw(fallback)

    return build()


@functools.cache
def valid_requests_for(model_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Return create bodies of `model_id` the mock accepts (kling-o1: `valid_requests`)."""
    if model_id == MODEL.id:
        return valid_requests
    fixed = {"model": st.just(model_id), "args": valid_args_for(model_id)}
    return st.fixed_dictionaries({k: fixed[k] for k in ENVELOPE["required"]})


def _spots(model_id: str) -> dict[tuple[str, ...], Spot]:
    args = {**ENVELOPE["properties"]["args"], **_args_schema(MODELS[model_id])}
    return {spot.path: spot for spot in walk(("args",), args, ())}


def _breakable(found: Break) -> bool:
    """Say whether to break `found` per model (not a limit of megabytes: a data: URI's)."""
    schema = found.spot.schema
    form = schema.get("then", {}) if found.label.endswith(":then") else schema.get("else", {})
    limit = schema.get("maxLength", form.get("maxLength", 0))
    return not (found.rule == "schema.maxLength" and limit > _HUGE)


def _broken(
    model_id: str, chosen: Break, at: Mapping[tuple[str, ...], Spot], *, strict_args: bool
) -> Any:
    requests = valid_requests_for(model_id)

    @st.composite
    def build(draw: st.DrawFn) -> BrokenRequest:
        body = apply(draw, draw(requests), chosen, at)
        pointer = pointer_of(chosen, body)
        assume(error_pointers(body, strict_args=strict_args) == {pointer})
        ids = (*chosen.assumptions, *ALWAYS)
        return BrokenRequest(chosen.label, chosen.rule, pointer, INVALID, ids, encode(body))

    return build()


@functools.cache
def schema_breaks_for(
    model_id: str, *, strict_args: bool = False
) -> dict[str, st.SearchStrategy[BrokenRequest]]:
    """Return a labelled request for each keyword of `model_id`'s args broken alone, each
    rejected by a mock reading args leniently (the default) or, with `strict_args`, strictly
    (then the unknown key and the defaulted fields left out are among them)."""
    at = _spots(model_id)
    found = (
        b
        for spot in at.values()
        for b in breaks_at(spot)
        if _breakable(b) and (strict_args or b.lenient is None)
    )
    return {b.label: _broken(model_id, b, at, strict_args=strict_args) for b in found}
