"""Valid create requests: schema-valid args patched until every cross-field rule holds.

Args come from the model's args schema (`from_schema.for_schema`); `valid_args` then
satisfies the cross-field rules of `mock_server.validation.rules`, with the rules
themselves as the oracle (`rule_errors`). `live_*` use the model page's own example images,
for jobs a paid target really runs; `price_bound` is the most a body can cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from mock_server.catalog.pricing import amount
from mock_server.catalog.registry import KLING_O1_I2V, MODELS, ModelSpec
from mock_server.validation import rules

from .from_schema import for_schema, leaf, resolved

__all__ = [
    "ARGS",
    "ENVELOPE",
    "ENVELOPE_SCHEMA",
    "MODEL",
    "SINGLE_FRAME_BAD_DURATIONS",
    "SINGLE_FRAME_DURATIONS",
    "documented_images",
    "elements",
    "envelope",
    "image_urls",
    "job_ids",
    "live_args",
    "live_requests",
    "price_bound",
    "rule_errors",
    "schema_args",
    "stripped",
    "valid_args",
    "valid_requests",
]

ENVELOPE_SCHEMA = "create-request.json"
MODEL = KLING_O1_I2V
ARGS = resolved(MODEL.args_schema)
ENVELOPE = resolved(ENVELOPE_SCHEMA)
_ARG = ARGS["properties"]

image_urls: st.SearchStrategy[str] = for_schema(ARGS["$defs"]["image_url"])
"""Images the mock accepts without a word: URLs with an image extension, small data: URIs."""
elements: st.SearchStrategy[dict[str, Any]] = for_schema(ARGS["$defs"]["element"])
schema_args: st.SearchStrategy[dict[str, Any]] = for_schema(ARGS)
"""Args valid for the args schema alone; they may break a cross-field rule."""


def rule_errors(spec: ModelSpec, args: Mapping[str, Any], *, lenient: bool = False) -> set[str]:
    """Return the pointers where `spec`'s cross-field rules find an error (or any problem)."""
    ctx = rules.Context()
    found = (p for rule in rules.for_model(spec.rules) for p in rule(args, ctx))
    return {"/args" + p.pointer for p in found if lenient or p.severity == "error"}


def _durations_rejected_for_single_frame() -> list[str]:
    """Return the schema's durations the single-frame rule rejects (the rule is the oracle)."""
    probe = {"action": "frame", "images": ["https://example.com/a.jpg"]}
    return [
        d
        for d in _ARG["duration"]["enum"]
        if rule_errors(MODEL, {**probe, "duration": d}, lenient=True)
    ]


SINGLE_FRAME_BAD_DURATIONS = _durations_rejected_for_single_frame()
SINGLE_FRAME_DURATIONS = [
    d for d in _ARG["duration"]["enum"] if d not in SINGLE_FRAME_BAD_DURATIONS
]
_REFERENCE = re.compile(r" \[@(?:image|element)\d+\]")


def _plain_prompt(prompt: str) -> str:
    """Return `prompt` without brackets, so it holds no reference or [mock:...] marker."""
    return prompt.replace("[", "(").replace("]", ")")


def _patched(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
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


@st.composite
def _satisfy_rules(draw: st.DrawFn, args: dict[str, Any]) -> dict[str, Any]:
    """Patch schema-valid args until every cross-field rule of the model is satisfied."""
    return _patched(draw, args)


_BUT_ELEMENTS = for_schema(
    {**ARGS, "properties": {k: v for k, v in _ARG.items() if k != "elements"}}
)


@st.composite
def _valid_args(draw: st.DrawFn) -> dict[str, Any]:
    """Draw schema-valid args, elements only as many as the inputs rule leaves room for
    (drawn and then cut, most of them would be thrown away), then patch them."""
    args = draw(_BUT_ELEMENTS)
    kept = args["images"][:2] if args["action"] == "frame" else args["images"]
    if draw(st.booleans()):  # elements is optional, as in the schema
        room = min(rules.MAX_INPUTS - len(kept), _ARG["elements"]["maxItems"])
        args["elements"] = draw(st.lists(elements, max_size=max(room, 0)))
    return _patched(draw, args)


def _references(args: Mapping[str, Any]) -> list[str]:
    images = [f"[@image{i}]" for i in range(1, len(args["images"]) + 1)]
    return images + [f"[@element{i}]" for i in range(1, len(args.get("elements", [])) + 1)]


valid_args: st.SearchStrategy[dict[str, Any]] = _valid_args()
"""Args valid for the schema and every cross-field rule (no error, no warning)."""


def envelope(args: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Return create bodies from the envelope schema's required keys, with `args`."""
    # The args are kling-o1's: the bodies name it (per-model strategies are a later step).
    fixed = {"model": st.just(MODEL.id), "args": args}
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


def stripped(body: dict[str, Any]) -> dict[str, Any]:
    """Return `body` with only the required args, one image and no prompt reference."""
    args = body["args"]
    kept = {k: args[k] for k in ARGS["required"]}
    prompt = _REFERENCE.sub("", kept["prompt"])
    return {**body, "args": {**kept, "prompt": prompt, "images": kept["images"][:1]}}


def price_bound(body: Any) -> str:
    """Return the most a create body can cost if a target accepts it (USD).

    A valid body costs its price (`pricing.amount`); where kling-o1's mode or duration is
    broken, the dearest mode and the longest duration are assumed. Another model's body
    costs the price of its args (per-model probes are not planned for paid targets).
    """
    body = body if isinstance(body, dict) else {}
    args = body.get("args") if isinstance(body.get("args"), dict) else {}
    model = body.get("model")
    spec = MODELS.get(model, MODEL) if isinstance(model, str) else MODEL
    if spec.id != MODEL.id:  # another model: the price of its args (per-model probes are
        try:  # sent to the mock only), its defaults' price where the args cannot be read
            return amount(spec, args)
        except (TypeError, ValueError, ArithmeticError):
            return amount(spec, {})
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
