"""``shortapi-mock models show ID``: one model's inputs (type, options, default, required, and
what the default lenient reading and ``--strict-args`` do with each), its prices and where the
facts come from; as text or ``--json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mock_server.catalog.registry import ModelSpec
from mock_server.data import schemas
from mock_server.validation import leniency

UNITS = {
    "second": "per second",
    "request": "per request",
    "image": "per image",
    "megapixel": "per megapixel",
    "base-plus-second": "base + per second",
}
_LIMITS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def _resolve(doc: Mapping[str, Any], node: Mapping[str, Any], depth: int = 0) -> Mapping[str, Any]:
    """Return the schema a property's local ``$ref`` points at, merged under its own keys
    (at most 9 references deep: a user's file may hold a cycle)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and depth < 9:
        target = doc.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        own = {k: v for k, v in node.items() if k != "$ref"}
        return {**_resolve(doc, target, depth + 1), **own}
    return node


def _kind(doc: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    schema = _resolve(doc, node)
    if schema.get("x-image"):
        return "image"
    if schema.get("x-video"):
        return "video"
    if schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        return f"array of {_kind(doc, schema['items'])}"
    if "anyOf" in schema:
        return " or ".join(_kind(doc, branch) for branch in schema["anyOf"])
    return str(schema.get("type", "any"))


def inputs(spec: ModelSpec) -> list[dict[str, Any]]:
    """Return one entry per input of `spec`, in its file's order."""
    doc = schemas.load(spec.args_schema)
    found = []
    for name, node in doc.get("properties", {}).items():
        schema = _resolve(doc, node)
        entry: dict[str, Any] = {
            "name": name,
            "type": _kind(doc, node),
            "required": name in spec.required,
            "default": schema.get("default"),
            "options": schema.get("enum"),
            "limits": {k: schema[k] for k in _LIMITS if k in schema} or None,
            "description": schema.get("description"),
            "by_default": leniency.what_leniency_does(spec, name),
            "strict_args": "required" if name in spec.required else "optional",
        }
        found.append(entry)
    return found


def unknown_keys(spec: ModelSpec) -> dict[str, str]:
    """Say what each mode does with an arg the model file does not name."""
    if not spec.complete:
        both = "accepted, kept in args, an args.unknown_key warning (partial model)"
        return {"by_default": both, "strict_args": both}
    return {
        "by_default": "accepted, kept in args, an args.unknown_key warning",
        "strict_args": "a 400 at its pointer (schema.additionalProperties)",
    }


def describe(spec: ModelSpec) -> dict[str, Any]:
    """Return everything `models show` says of `spec`, JSON-ready."""
    doc = schemas.load(spec.args_schema)
    block = doc.get("x-shortapi", {})
    return {
        "model": spec.id,
        "category": spec.category,
        "output": spec.output,
        "complete": spec.complete,
        "known_from": spec.known_from,
        "cut_note": spec.cut_note,
        "sources": list(spec.sources),
        "used_by": block.get("used_by") or [],
        "notes": block.get("notes"),
        "inputs": inputs(spec),
        "unknown_keys": unknown_keys(spec),
        "rules": list(spec.rules),
        "pricing": dict(spec.pricing),
        "example": (doc.get("examples") or [None])[0],
    }


def _value(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False)


def _rate(rate: Mapping[str, Any]) -> str:
    when = ", ".join(f"{k}={_value(v)}" for k, v in rate.get("when", {}).items()) or "any args"
    if "usd" in rate:
        price = f"${rate['usd']}"
    else:
        price = f"${rate['base_usd']} + ${rate['per_second_usd']}/s"
    note = f"  ({rate['note']})" if rate.get("note") else ""
    return f"  {when}: {price}{note}"


def text(facts: Mapping[str, Any]) -> str:
    """Return `describe`'s facts as text for a terminal."""
    status = "complete" if facts["complete"] else "partial"
    lines = [
        f"{facts['model']}  ({facts['category']}, result {facts['output']}, {status})",
        f"facts from: {facts['known_from']}",
        *(f"  source: {s}" for s in facts["sources"]),
        *(f"  used by: {u}" for u in facts["used_by"]),
    ]
    if facts["cut_note"]:
        lines.append(f"  cut: {facts['cut_note']}")
    if facts["notes"]:
        lines.append(f"  notes: {facts['notes']}")
    lines += ["", "inputs:"]
    for entry in facts["inputs"]:
        required = "required" if entry["required"] else "optional"
        lines.append(f"  {entry['name']}: {entry['type']}, {required}")
        if entry["options"] is not None:
            lines.append(f"      options: {', '.join(_value(o) for o in entry['options'])}")
        if entry["default"] is not None:
            lines.append(f"      default: {_value(entry['default'])}")
        if entry["limits"]:
            limits = ", ".join(f"{k} {v}" for k, v in entry["limits"].items())
            lines.append(f"      limits: {limits}")
        lines.append(
            f"      by default: {entry['by_default']}; --strict-args: {entry['strict_args']}"
        )
    unknown = facts["unknown_keys"]
    lines.append(f"  any other key: {unknown['by_default']}")
    lines.append(f"      --strict-args: {unknown['strict_args']}")
    if facts["rules"]:
        lines.append(f"rules: {', '.join(facts['rules'])}")
    pricing = facts["pricing"]
    unit = UNITS.get(str(pricing.get("unit")), str(pricing.get("unit", "per request")))
    lines += ["", f"prices, USD {unit} (the page: {pricing.get('page', '-')}):"]
    lines += [_rate(rate) for rate in pricing.get("rates", [])]
    if pricing.get("assumption"):
        lines.append(f"  see {pricing['assumption']} (schemas/assumptions.json)")
    if facts["example"] is not None:
        lines += ["", f"example args: {_value(facts['example'])}"]
    return "\n".join(lines) + "\n"
