"""Hypothesis strategies generated from the JSON Schemas in ``schemas/``.

Valid requests come from the model's args schema (hypothesis-jsonschema's `from_schema`
for every leaf) and are then patched to satisfy the cross-field rules of `rules.py`.
Invalid requests break exactly one rule each and carry a label: the rule, the JSON pointer
the mock names, the answer they must get and the assumption ids they exercise.

Objects and arrays are composed here from the schema's own ``properties``, ``required``,
``minItems`` and ``maxItems``: hypothesis-jsonschema 0.23's object strategy relies on a
private Hypothesis API (``many.more``) that current Hypothesis releases no longer have.
"""

from __future__ import annotations

import importlib
import json
import re
import string
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from mock_server.catalog.pricing import amount
from mock_server.catalog.registry import KLING_O1_I2V, MODELS, ModelSpec
from mock_server.config import DEFAULTS
from mock_server.data import schemas
from mock_server.errors import AUTH_MISSING, BAD_REQUEST, INVALID_PARAMETER, NOT_FOUND
from mock_server.validation import rules

ENVELOPE_SCHEMA = "create-request.json"
CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"
BEARER = "Bearer $SHORTAPI_KEY"  # the run's key is put in by the transport, never stored
ALWAYS = ("A-error-codes", "A-error-message-info")
_URI_CHARS = string.ascii_letters + string.digits + "-._~/:?=&"
_FORMATS = Draft202012Validator.FORMAT_CHECKER
_URI_FORMAT = "shortapi-uri"
# The regex parser (private in 3.11+, where importing `sre_parse` warns).
_REGEX: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_JSON_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=8),
    "integer": st.integers(-10, 10),
    "number": st.floats(-10, 10, allow_nan=False).filter(lambda x: not x.is_integer()),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers(0, 9), max_size=2),
    "object": st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2),
}


@dataclass(frozen=True)
class Expected:
    """The answer a request must get: HTTP status and envelope code (0 when accepted)."""

    status: int
    code: int

    @property
    def accepted(self) -> bool:
        """Say whether the request must be accepted."""
        return self.status < 400


ACCEPTED = Expected(200, 0)
INVALID = Expected(400, INVALID_PARAMETER)


@dataclass(frozen=True, repr=False)
class BrokenRequest:
    """A request with exactly one rule broken, labelled with the rule and its answer."""

    label: str  # what is broken where, e.g. "schema.enum:/args/mode"
    rule: str  # the mock's rule name, e.g. "schema.enum" or "duration.frame_single_image"
    pointer: str | None  # the JSON pointer the mock's problem names; None: not a body problem
    expected: Expected
    assumptions: tuple[str, ...]
    body: bytes = b""
    content_type: str | None = "application/json"
    authorization: str | None = BEARER
    method: str = "POST"
    path: str = CREATE_PATH
    query: str = ""

    def json(self) -> Any:
        """Return the body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Print the short repr in Hypothesis reports (bodies can be a megabyte)."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 600 else self.body[:580] + b"..."
        return (
            f"BrokenRequest({self.label!r}, expected={self.expected}, {self.method} "
            f"{self.path}{'?' + self.query if self.query else ''}, "
            f"authorization={self.authorization!r}, content_type={self.content_type!r}, "
            f"body[{len(self.body)}]={body!r})"
        )


def encode(value: Any) -> bytes:
    """Return `value` as the UTF-8 JSON bytes a client sends."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def escape(key: str) -> str:
    """Return `key` escaped as one JSON pointer segment."""
    return key.replace("~", "~0").replace("/", "~1")


# --- schema walking ---------------------------------------------------------------------


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
    return base.filter(lambda s: _FORMATS.conforms(s, "uri"))


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


def _for_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
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


# --- valid requests ---------------------------------------------------------------------

MODEL = KLING_O1_I2V
ARGS = resolved(MODEL.args_schema)
ENVELOPE = resolved(ENVELOPE_SCHEMA)
_ARG = ARGS["properties"]

image_urls: st.SearchStrategy[str] = leaf(ARGS["$defs"]["image_url"])
elements: st.SearchStrategy[dict[str, Any]] = for_schema(ARGS["$defs"]["element"])
schema_args: st.SearchStrategy[dict[str, Any]] = for_schema(ARGS)
"""Args valid for the args schema alone; they may break a cross-field rule."""


def _errors(spec: ModelSpec, args: Mapping[str, Any], *, lenient: bool = False) -> set[str]:
    """Return the pointers where `spec`'s cross-field rules find an error (or any problem)."""
    ctx = rules.Context()
    found = (p for rule in spec.rules for p in rule(args, ctx))
    return {"/args" + p.pointer for p in found if lenient or p.severity == "error"}


def _durations_rejected_for_single_frame() -> list[str]:
    """Return the schema's durations the single-frame rule rejects (the rule is the oracle)."""
    probe = {"action": "frame", "images": ["https://example.com/a.jpg"]}
    return [
        d
        for d in _ARG["duration"]["enum"]
        if _errors(MODEL, {**probe, "duration": d}, lenient=True)
    ]


SINGLE_FRAME_BAD_DURATIONS = _durations_rejected_for_single_frame()
SINGLE_FRAME_DURATIONS = [
    d for d in _ARG["duration"]["enum"] if d not in SINGLE_FRAME_BAD_DURATIONS
]


_REFERENCE = re.compile(r" \[@(?:image|element)\d+\]")


def _plain_prompt(prompt: str) -> str:
    """Return `prompt` without brackets, so it holds no reference or [mock:...] marker."""
    return prompt.replace("[", "(").replace("]", ")")


@st.composite
def _satisfy_rules(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    """Patch schema-valid args until every cross-field rule of the model is satisfied."""
    args = dict(args)
    args["prompt"] = _plain_prompt(args["prompt"])
    if args["action"] != "refer":
        args.pop("aspect_ratio", None)
    if args["action"] == "frame":
        args["images"] = args["images"][:2]
    if "elements" in args:
        args["elements"] = args["elements"][: rules.MAX_INPUTS - len(args["images"])]
    single = args["action"] == "frame" and len(args["images"]) == 1
    if single and args.get("duration") in SINGLE_FRAME_BAD_DURATIONS:
        args["duration"] = draw(st.sampled_from(SINGLE_FRAME_DURATIONS))
    references = draw(st.lists(st.sampled_from(_references(args)), max_size=2, unique=True))
    tail = "".join(" " + r for r in references)
    head = args["prompt"][: _ARG["prompt"]["maxLength"] - len(tail)]
    if re.search(r"\S", head):  # the prompt stays valid without its references
        args["prompt"] = head + tail
    return args


def _references(args: Mapping[str, Any]) -> list[str]:
    images = [f"[@image{i}]" for i in range(1, len(args["images"]) + 1)]
    return images + [f"[@element{i}]" for i in range(1, len(args.get("elements", [])) + 1)]


valid_args: st.SearchStrategy[dict[str, Any]] = schema_args.flatmap(_satisfy_rules)
"""Args valid for the schema and every cross-field rule (no error, no warning)."""


def envelope(args: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Return create bodies from the envelope schema's required keys, with `args`."""
    fixed = {"model": st.sampled_from(sorted(MODELS)), "args": args}
    return st.fixed_dictionaries({k: fixed[k] for k in ENVELOPE["required"]})


valid_requests: st.SearchStrategy[dict[str, Any]] = envelope(valid_args)

documented_images: list[str] = [
    url for example in ARGS.get("examples", []) for url in example.get("images", [])
]
"""The model page's own example images: real files, for jobs a paid target runs."""


def _documented(args: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    count = len(args["images"])
    pick = st.lists(st.sampled_from(documented_images), min_size=count, max_size=count)
    return pick.map(
        lambda urls: {**{k: v for k, v in args.items() if k != "elements"}, "images": urls}
    )


live_args: st.SearchStrategy[dict[str, Any]] = valid_args.flatmap(_documented).flatmap(
    _satisfy_rules
)
"""Valid args whose images are the documentation's own (fetchable) example images."""
live_requests: st.SearchStrategy[dict[str, Any]] = envelope(live_args)
job_ids: st.SearchStrategy[str] = leaf(resolved("job.json")["properties"]["id"]).filter(
    lambda s: bool(s.strip())
)


# --- invalid requests: schema keywords ----------------------------------------------------


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
            yield from _walk((key,), schema, ())
    yield from _walk(("args",), {**ENVELOPE["properties"]["args"], **ARGS}, ())


def _walk(
    path: tuple[str, ...], schema: Mapping[str, Any], inherited: tuple[str, ...]
) -> Iterator[Spot]:
    own = (schema["x-assumption"],) if "x-assumption" in schema else ()
    ids = own or inherited
    yield Spot(path, schema, ids)
    for key, child in schema.get("properties", {}).items():
        yield from _walk((*path, key), child, ids)
    if isinstance(schema.get("items"), Mapping):
        yield from _walk((*path, "*"), schema["items"], ids)


SPOTS: dict[tuple[str, ...], Spot] = {spot.path: spot for spot in spots()}


def _schema_at(path: tuple[str, ...]) -> Mapping[str, Any]:
    return SPOTS[path].schema


Mutation = Callable[[st.DrawFn, Any], Any]  # draws a broken value from the valid one


@dataclass(frozen=True)
class Break:
    """One schema keyword broken at one spot: how to mutate the value there."""

    label: str
    rule: str
    spot: Spot
    pointer: str
    mutate: Mutation  # the value at the spot -> its broken value
    assumptions: tuple[str, ...]


def _value_schema(schema: Mapping[str, Any], drop: str) -> Draft202012Validator:
    clean = {k: v for k, v in schema.items() if k != drop}
    return Draft202012Validator(clean, format_checker=_FORMATS)


def _too_long(schema: Mapping[str, Any]) -> Mutation:
    limit = int(schema["maxLength"])
    fits = _value_schema(schema, "maxLength")

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        extra = draw(st.integers(1, 40))
        pad = "a" * (limit + extra)
        candidates = [value + pad, value + "?" + pad, pad + value]
        found = [c for c in candidates if fits.is_valid(c)]
        assume(found)
        return found[0]

    return mutate


def _not_matching(schema: Mapping[str, Any]) -> Mutation:
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


def _items(schema: Mapping[str, Any], low: int, high: int) -> Mutation:
    item = for_schema(schema["items"])

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(st.lists(item, min_size=low, max_size=high))

    return mutate


def _wrong_type(schema: Mapping[str, Any]) -> Mutation:
    kind = schema["type"]
    others = [t for t in _JSON_TYPES if t != kind and not (kind == "number" and t == "integer")]

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(st.sampled_from(others).flatmap(lambda t: _JSON_TYPES[t]))

    return mutate


def _not_in_enum(schema: Mapping[str, Any]) -> Mutation:
    allowed = list(schema["enum"])
    near = [v.upper() for v in allowed if isinstance(v, str) and v.upper() != v]
    near += [v + " " for v in allowed if isinstance(v, str)]
    pick = st.one_of(st.sampled_from(near), st.text(max_size=8)) if near else st.text(max_size=8)

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return draw(pick.filter(lambda v: v not in allowed))

    return mutate


def _without(key: str) -> Mutation:
    return lambda draw, value: {k: v for k, v in value.items() if k != key}


def _unknown_key(schema: Mapping[str, Any]) -> Mutation:
    known = set(schema.get("properties", {}))
    # Letters only: the mock does not escape "~" and "/" in the pointers it names.
    keys = st.text(string.ascii_letters + "_-", min_size=1, max_size=12).filter(
        lambda k: k not in known
    )

    def mutate(draw: st.DrawFn, value: Any) -> Any:
        return {**value, draw(keys): draw(_JSON_TYPES["string"] | _JSON_TYPES["integer"])}

    return mutate


def _breaks_at(spot: Spot) -> Iterator[Break]:
    schema, where, pointer = spot.schema, spot.where, spot.pointer
    ids = spot.assumptions

    def make(
        keyword: str,
        mutate: Mutation,
        *,
        at: str = pointer,
        label_at: str = where,
        assumptions: tuple[str, ...] = ids,
    ) -> Break:
        return Break(
            f"schema.{keyword}:{label_at}", f"schema.{keyword}", spot, at, mutate, assumptions
        )

    if "type" in schema and spot.path:
        yield make("type", _wrong_type(schema))
    if "enum" in schema:
        yield make("enum", _not_in_enum(schema))
    if schema.get("minLength", 0) > 0:
        yield make("minLength", lambda draw, value: "")
    if "maxLength" in schema:
        yield make("maxLength", _too_long(schema))
    if "pattern" in schema:
        yield make("pattern", _not_matching(schema))
    if schema.get("minItems", 0) > 0:
        yield make("minItems", _items(schema, 0, schema["minItems"] - 1))
    if "maxItems" in schema:
        yield make("maxItems", _items(schema, schema["maxItems"] + 1, schema["maxItems"] + 2))
    for key in schema.get("required", ()):
        child = schema["properties"][key]
        own = (child["x-assumption"],) if "x-assumption" in child else ()
        yield make(
            "required",
            _without(key),
            at=f"{pointer}/{escape(key)}",
            label_at=f"{where}/{escape(key)}",
            assumptions=own,
        )
    if schema.get("additionalProperties") is False:
        yield make(
            "additionalProperties",
            _unknown_key(schema),
            label_at=f"{where}/*",
            assumptions=("A-envelope-unknown-keys",),
        )


SCHEMA_BREAKS: dict[str, Break] = {b.label: b for s in SPOTS.values() for b in _breaks_at(s)}
"""Every schema keyword of the create request, broken one at a time, by label."""


def _strip(body: dict[str, Any]) -> dict[str, Any]:
    """Return `body` with only the required args, one image and no prompt reference."""
    args = body["args"]
    kept = {k: args[k] for k in ARGS["required"]}
    prompt = _REFERENCE.sub("", kept["prompt"])
    return {**body, "args": {**kept, "prompt": prompt, "images": kept["images"][:1]}}


def _materialize(draw: st.DrawFn, body: dict[str, Any], path: tuple[str, ...]) -> None:
    """Make sure every container on `path` exists in `body`, drawing valid values."""
    node: Any = body
    for depth, part in enumerate(path[:-1]):
        here = path[: depth + 1]
        if part == "*":
            if not node:
                node.append(draw(for_schema(_schema_at(here))))
            node = node[0]
            continue
        if part not in node:
            schema = _schema_at(here)
            value = draw(for_schema(schema))
            if isinstance(value, list) and not value and path[depth + 1] == "*":
                value = [draw(for_schema(schema["items"]))]
            node[part] = value
        node = node[part]
    if path and path[-1] != "*" and path[-1] not in node:
        node[path[-1]] = draw(for_schema(_schema_at(path)))
    if path and path[-1] == "*" and not node:
        node.append(draw(for_schema(_schema_at(path))))


def _apply(draw: st.DrawFn, body: dict[str, Any], chosen: Break) -> dict[str, Any]:
    """Return a copy of `body` with `chosen` broken (the spot made to exist first)."""
    body = json.loads(json.dumps(body))  # a deep copy
    path = chosen.spot.path
    if not path:  # the envelope itself: a key removed or added
        broken: dict[str, Any] = chosen.mutate(draw, body)
        return broken
    _materialize(draw, body, path)
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
    return _errors(spec, args) <= {pointer}


def _pointer_of(chosen: Break, body: dict[str, Any]) -> str:
    if chosen.rule != "schema.additionalProperties":
        return chosen.pointer
    target: Any = body
    for part in chosen.spot.path:
        target = target[0] if part == "*" else target[part]
    known = set(chosen.spot.schema.get("properties", {}))
    extra = next(k for k in target if k not in known)
    return f"{chosen.pointer}/{escape(extra)}"


def _schema_break(chosen: Break) -> st.SearchStrategy[BrokenRequest]:
    @st.composite
    def build(draw: st.DrawFn) -> BrokenRequest:
        base = draw(valid_requests)
        body = _apply(draw, base, chosen) if draw(st.booleans()) else None
        if body is None or not _only_break(body, _pointer_of(chosen, body)):
            body = _apply(draw, _strip(base), chosen)
        pointer = _pointer_of(chosen, body)
        assume(_only_break(body, pointer))
        return BrokenRequest(
            chosen.label,
            chosen.rule,
            pointer,
            INVALID,
            (*chosen.assumptions, *ALWAYS),
            encode(body),
        )

    return build()


# --- invalid requests: cross-field rules, model, transport, auth, query ------------------

BAD_BODY = Expected(400, BAD_REQUEST)
Patch = Callable[[st.DrawFn, dict[str, Any]], dict[str, Any]]


def broken(
    label: str, expected: Expected, ids: tuple[str, ...], body: bytes = b"", **fields: Any
) -> BrokenRequest:
    """Return a `BrokenRequest` whose rule is its label, with the always-exercised ids."""
    extra = () if expected.accepted else ALWAYS
    return BrokenRequest(
        label, label, fields.pop("pointer", None), expected, (*ids, *extra), body, **fields
    )


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
        body = _strip(draw(valid_requests))
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


def _too_large(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    size = int(DEFAULTS["MAX_CONTENT_LENGTH"]) + draw(st.integers(1, 64))
    return {**body, "args": {**body["args"], "prompt": "x" * size}}


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
    **{label: _schema_break(b) for label, b in SCHEMA_BREAKS.items()},
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
}
"""Rules that only warn in the default profile: the request is accepted (and paid)."""

lenient_requests: st.SearchStrategy[BrokenRequest] = _pick(LENIENT_BREAKS)


def price_bound(body: Any) -> str:
    """Return the most a create body can cost if a target accepts it (USD).

    A valid body costs its price (`pricing.amount`); where the mode or duration is broken,
    the dearest mode and the longest duration are assumed.
    """
    body = body if isinstance(body, dict) else {}
    args = body.get("args") if isinstance(body.get("args"), dict) else {}
    model = body.get("model")
    spec = MODELS.get(model, MODEL) if isinstance(model, str) else MODEL
    modes, durations = spec.price_per_second, _ARG["duration"]["enum"]
    mode, duration = args.get("mode"), args.get("duration", spec.default_duration)
    dearest = max(modes, key=modes.__getitem__)
    longest = max(durations, key=int)
    return amount(
        spec,
        {
            "mode": mode if isinstance(mode, str) and mode in modes else dearest,
            "duration": duration
            if isinstance(duration, str) and duration in durations
            else longest,
        },
    )
