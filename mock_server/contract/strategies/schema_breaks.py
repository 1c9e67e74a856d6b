"""Schema breaks: every constraining keyword of the create request's schemas, broken alone.

`SPOTS` are the places of the request (the envelope, then the model's args, "*" for an
array's first item); each keyword found at a spot gives a `Break` (how to mutate the valid
value there). A spot whose value takes one of two forms (``if``/``then``/``else``, as an
image is a data: URI or a URL) also gets the breaks of each form's keywords, with a value of
that form: ``else`` keeps the spot's labels, ``then`` adds ``:then`` to them.
`SCHEMA_BREAK_REQUESTS` turns each into a labelled `BrokenRequest` built on a valid request,
kept only when no cross-field rule finds an error elsewhere.

Two breaks of the args are errors only under strict args (validation/leniency.py): an
unknown key, and a required field with a default left out. By default the mock (and, per
public evidence, the live API) takes them with a warning, so they are `ARGS_LENIENT_BREAKS`
(accepted, the warning kind as their rule); `STRICT_ARGS_BREAKS` labels the same requests
rejected, for a mock serving ``--strict-args``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from mock_server.catalog.registry import MODELS
from mock_server.validation.leniency import DEFAULT_APPLIED, UNKNOWN_KEY

from .from_schema import for_schema
from .labels import ACCEPTED, ALWAYS, INVALID, BrokenRequest, Expected, encode, escape
from .mutations import (
    Mutation,
    in_form,
    items,
    not_in_enum,
    not_matching,
    too_long,
    unknown_key,
    without,
    wrong_type,
)
from .valid import ARGS, ENVELOPE, rule_errors, stripped, valid_requests

__all__ = [
    "ARGS_LENIENT_BREAKS",
    "SCHEMA_BREAKS",
    "SCHEMA_BREAK_REQUESTS",
    "SPOTS",
    "STRICT_ARGS_BREAKS",
    "Break",
    "Mutation",
    "Spot",
    "spots",
]


@dataclass(frozen=True)
class Spot:
    """A place in the request schema: its path ("*" is an array's first item) and schema."""

    path: tuple[str, ...]
    schema: Mapping[str, Any]
    assumptions: tuple[str, ...]

    @property
    def where(self) -> str:
        """The path as a JSON pointer with "*" for array items (used in labels)."""
        return "".join("/" + escape(p) for p in self.path)

    @property
    def pointer(self) -> str:
        """The JSON pointer of this spot in a request (first item of each array)."""
        return self.where.replace("/*", "/0")


def spots() -> Iterator[Spot]:
    """Yield every place of the create request: the envelope, then the model's args."""
    yield Spot((), ENVELOPE, ())
    for key, schema in ENVELOPE["properties"].items():
        if key != "args":
            yield from walk((key,), schema, ())
    yield from walk(("args",), {**ENVELOPE["properties"]["args"], **ARGS}, ())


def walk(
    path: tuple[str, ...], schema: Mapping[str, Any], inherited: tuple[str, ...]
) -> Iterator[Spot]:
    own = (schema["x-assumption"],) if "x-assumption" in schema else ()
    ids = own or inherited
    yield Spot(path, schema, ids)
    for key, child in schema.get("properties", {}).items():
        yield from walk((*path, key), child, ids)
    if isinstance(schema.get("items"), Mapping):
        yield from walk((*path, "*"), schema["items"], ids)


SPOTS: dict[tuple[str, ...], Spot] = {spot.path: spot for spot in spots()}


def _schema_at(
    path: tuple[str, ...], at: Mapping[tuple[str, ...], Spot] = SPOTS
) -> Mapping[str, Any]:
    return at[path].schema


@dataclass(frozen=True)
class Break:
    """One schema keyword broken at one spot: how to mutate the value there."""

    label: str
    rule: str
    spot: Spot
    pointer: str
    mutate: Mutation  # the value at the spot -> its broken value
    assumptions: tuple[str, ...]
    # The warning kind when only strict args make this an error (leniency.py), else None.
    lenient: str | None = None


def _form_breaks(spot: Spot) -> Iterator[Break]:
    """Yield the breaks of the keywords of each form (``then``, ``else``) of a conditional spot."""
    schema = spot.schema
    if not isinstance(schema.get("if"), Mapping):
        return
    for branch, when in (("else", False), ("then", True)):
        form = schema.get(branch)
        if not isinstance(form, Mapping):
            continue
        ids = (form["x-assumption"],) if "x-assumption" in form else spot.assumptions
        suffix = "" if branch == "else" else ":then"
        own = {k: v for k, v in form.items() if k != "type"}  # the spot breaks the type
        for found in breaks_at(Spot(spot.path, own, ids)):
            yield Break(
                found.label + suffix,
                found.rule,
                spot,
                found.pointer,
                in_form(found.mutate, schema["if"], when, form),
                found.assumptions,
            )


def breaks_at(spot: Spot) -> Iterator[Break]:
    schema, where, pointer = spot.schema, spot.where, spot.pointer
    ids = spot.assumptions
    yield from _form_breaks(spot)

    def make(
        keyword: str,
        mutate: Mutation,
        *,
        at: str = pointer,
        label_at: str = where,
        assumptions: tuple[str, ...] = ids,
        lenient: str | None = None,
    ) -> Break:
        label = f"schema.{keyword}:{label_at}"
        return Break(label, f"schema.{keyword}", spot, at, mutate, assumptions, lenient)

    top_args = spot.path == ("args",)  # where the live API is lenient (leniency.py)

    if "type" in schema and spot.path:
        yield make("type", wrong_type(schema))
    if "enum" in schema:
        yield make("enum", not_in_enum(schema))
    if schema.get("minLength", 0) > 0:
        yield make("minLength", lambda draw, value: "")
    if "maxLength" in schema:
        yield make("maxLength", too_long(schema))
    if "pattern" in schema:
        yield make("pattern", not_matching(schema))
    if schema.get("minItems", 0) > 0:
        yield make("minItems", items(schema, 0, schema["minItems"] - 1))
    if "maxItems" in schema:
        yield make("maxItems", items(schema, schema["maxItems"] + 1, schema["maxItems"] + 2))
    for key in schema.get("required", ()):
        child = schema["properties"][key]
        own = (child["x-assumption"],) if "x-assumption" in child else ()
        defaulted = top_args and "default" in child
        yield make(
            "required",
            without(key),
            at=f"{pointer}/{escape(key)}",
            label_at=f"{where}/{escape(key)}",
            assumptions=(*own, "A-required-with-default") if defaulted else own,
            lenient=DEFAULT_APPLIED if defaulted else None,
        )
    if schema.get("additionalProperties") is False:
        yield make(
            "additionalProperties",
            unknown_key(schema),
            label_at=f"{where}/*",
            assumptions=("A-envelope-unknown-keys",),
            lenient=UNKNOWN_KEY if top_args else None,
        )


SCHEMA_BREAKS: dict[str, Break] = {b.label: b for s in SPOTS.values() for b in breaks_at(s)}
"""Every schema keyword of the create request, broken one at a time, by label."""


def _materialize(
    draw: st.DrawFn,
    body: dict[str, Any],
    path: tuple[str, ...],
    at: Mapping[tuple[str, ...], Spot] = SPOTS,
) -> None:
    """Make sure every container on `path` exists in `body`, drawing valid values (the
    schemas of `at`'s spots)."""
    node: Any = body
    for depth, part in enumerate(path[:-1]):
        here = path[: depth + 1]
        if part == "*":
            if not node:
                node.append(draw(for_schema(_schema_at(here, at))))
            node = node[0]
            continue
        if part not in node:
            schema = _schema_at(here, at)
            value = draw(for_schema(schema))
            if isinstance(value, list) and not value and path[depth + 1] == "*":
                value = [draw(for_schema(schema["items"]))]
            node[part] = value
        node = node[part]
    if path and path[-1] != "*" and path[-1] not in node:
        node[path[-1]] = draw(for_schema(_schema_at(path, at)))
    if path and path[-1] == "*" and not node:
        node.append(draw(for_schema(_schema_at(path, at))))


def apply(
    draw: st.DrawFn,
    body: dict[str, Any],
    chosen: Break,
    at: Mapping[tuple[str, ...], Spot] = SPOTS,
) -> dict[str, Any]:
    """Return a copy of `body` with `chosen` broken (the spot, one of `at`, made to exist)."""
    body = json.loads(json.dumps(body))  # a deep copy
    path = chosen.spot.path
    if not path:  # the envelope itself: a key removed or added
        broken: dict[str, Any] = chosen.mutate(draw, body)
        return broken
    _materialize(draw, body, path, at)
    parent: Any = body
    for part in path[:-1]:
        parent = parent[0] if part == "*" else parent[part]
    key: Any = 0 if path[-1] == "*" else path[-1]
    parent[key] = chosen.mutate(draw, parent[key])
    return body


def _only_break(body: dict[str, Any], pointer: str) -> bool:
    """Say whether no cross-field rule finds an error elsewhere than `pointer`."""
    model, args = body.get("model"), body.get("args")
    spec = MODELS.get(model) if isinstance(model, str) else None
    if not isinstance(args, dict) or spec is None:
        return True
    return rule_errors(spec, args) <= {pointer}


def pointer_of(chosen: Break, body: dict[str, Any]) -> str:
    if chosen.rule != "schema.additionalProperties":
        return chosen.pointer
    target: Any = body
    for part in chosen.spot.path:
        target = target[0] if part == "*" else target[part]
    known = set(chosen.spot.schema.get("properties", {}))
    extra = next(k for k in target if k not in known)
    return f"{chosen.pointer}/{escape(extra)}"


def _schema_break(chosen: Break, *, strict_args: bool = False) -> st.SearchStrategy[BrokenRequest]:
    """Return requests breaking `chosen`: rejected, or (a lenient break outside strict args)
    accepted with its warning kind as the rule."""
    accepted = chosen.lenient is not None and not strict_args
    expected: Expected = ACCEPTED if accepted else INVALID
    rule = chosen.lenient if accepted and chosen.lenient else chosen.rule

    @st.composite
    def build(draw: st.DrawFn) -> BrokenRequest:
        base = draw(valid_requests)
        body = apply(draw, base, chosen) if draw(st.booleans()) else None
        if body is None or not _only_break(body, pointer_of(chosen, body)):
            body = apply(draw, stripped(base), chosen)
        pointer = pointer_of(chosen, body)
        assume(_only_break(body, pointer))
        return BrokenRequest(
            chosen.label,
            rule,
            pointer,
            expected,
            (*chosen.assumptions, *(() if accepted else ALWAYS)),
            encode(body),
        )

    return build()


SCHEMA_BREAK_REQUESTS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    label: _schema_break(b) for label, b in SCHEMA_BREAKS.items() if b.lenient is None
}
"""A labelled request for each schema break that is an error in every mode, by label."""
ARGS_LENIENT_BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    label: _schema_break(b) for label, b in SCHEMA_BREAKS.items() if b.lenient is not None
}
"""The args breaks the mock takes by default with a warning (its kind is the rule)."""
STRICT_ARGS_BREAKS: dict[str, st.SearchStrategy[BrokenRequest]] = {
    label: _schema_break(b, strict_args=True)
    for label, b in SCHEMA_BREAKS.items()
    if b.lenient is not None
}
"""The same breaks, rejected: what a mock serving ``--strict-args`` answers."""
