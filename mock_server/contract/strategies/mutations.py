"""How a schema break changes the valid value at its spot: one `Mutation` per kind of
keyword (too long, not matching, too few or many items, wrong type, not in the enum, a key
left out or added), and `in_form` for a spot of two forms. `schema_breaks` picks them."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from .from_schema import DATA_URIS, FORMATS, for_schema, leaf

__all__ = [
    "JSON_TYPES",
    "Mutation",
    "in_form",
    "items",
    "not_in_enum",
    "not_matching",
    "too_long",
    "unknown_key",
    "value_schema",
    "without",
    "wrong_type",
]

Mutation = Callable[[st.DrawFn, Any], Any]  # draws a broken value from the valid one

JSON_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=8),
    "integer": st.integers(-10, 10),
    "number": st.floats(-10, 10, allow_nan=False).filter(lambda x: not x.is_integer()),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers(0, 9), max_size=2),
    "object": st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2),
}


def value_schema(schema: Mapping[str, Any], drop: str) -> Draft202012Validator:
    clean = {k: v for k, v in schema.items() if k != drop}
    return Draft202012Validator(clean, format_checker=FORMATS)


def too_long(schema: Mapping[str, Any]) -> Mutation:
    limit = int(schema["maxLength"])
    fits = value_schema(schema, "maxLength")

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        extra = draw(st.integers(1, 40))
        pad = "a" * (limit + extra)

        def candidates() -> Iterator[str]:  # made one at a time: 13 MB each at most
            yield value + pad
            yield value + "?" + pad
            yield pad + value
            yield value.rstrip("=") + pad

        found = next((c for c in candidates() if fits.is_valid(c)), None)
        assume(found is not None)
        return found

    return mutate


def not_matching(schema: Mapping[str, Any]) -> Mutation:
    pattern = re.compile(schema["pattern"])

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        stem = value.rsplit(".", 1)[0] if "." in value else value
        candidates = [" " * max(len(value), 1), stem + ".gif", value.replace(".", "_"), value + " "]
        if schema.get("format") == "uri":
            candidates.append("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAY=")
        candidates += [draw(st.text(max_size=20))]
        misses = [c for c in candidates if not pattern.search(c)]
        assume(misses)
        return draw(st.sampled_from(misses))

    return mutate


def items(schema: Mapping[str, Any], low: int, high: int) -> Mutation:
    item = for_schema(schema["items"])

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(st.lists(item, min_size=low, max_size=high))

    return mutate


def wrong_type(schema: Mapping[str, Any]) -> Mutation:
    kind = schema["type"]
    others = [t for t in JSON_TYPES if t != kind and not (kind == "number" and t == "integer")]

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(st.sampled_from(others).flatmap(lambda t: JSON_TYPES[t]))

    return mutate


def not_in_enum(schema: Mapping[str, Any]) -> Mutation:
    allowed = list(schema["enum"])
    near = [v.upper() for v in allowed if isinstance(v, str) and v.upper() != v]
    near += [v + " " for v in allowed if isinstance(v, str)]
    pick = st.one_of(st.sampled_from(near), st.text(max_size=8)) if near else st.text(max_size=8)

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(pick.filter(lambda v: v not in allowed))

    return mutate


def without(key: str) -> Mutation:
    return lambda draw, value: {k: v for k, v in value.items() if k != key}


def unknown_key(schema: Mapping[str, Any]) -> Mutation:
    known = set(schema.get("properties", {}))
    # Letters only: the mock does not escape "~" and "/" in the pointers it names.
    keys = st.text(string.ascii_letters + "_-", min_size=1, max_size=12).filter(
        lambda k: k not in known
    )

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return {**value, draw(keys): draw(JSON_TYPES["string"] | JSON_TYPES["integer"])}

    return mutate


def in_form(mutate: Mutation, condition: Mapping[str, Any], when: bool, form: Any) -> Mutation:
    """Return `mutate` run on a value of one form of a conditional spot: the value there if it
    is of that form (it meets the ``if`` `condition` exactly `when`), else a fresh one, and
    kept only if the broken value is still of that form (so the form's keyword fails)."""
    test = Draft202012Validator(condition, format_checker=FORMATS)
    fresh = st.sampled_from(DATA_URIS) if when else leaf(form)

    def in_form(draw: st.DrawFn, value: Any) -> Any:
        if test.is_valid(value) != when:
            value = draw(fresh.filter(lambda v: test.is_valid(v) == when))
        broken = mutate(draw, value)
        assume(test.is_valid(broken) == when)
        return broken

    return in_form
