"""What a documentation page carries of a model file (`facts`), and where two model files
disagree on it (`differences`): the round-trip test and the docs drift check compare these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.catalog.pages import schema_type

RATE_FIELDS = ("when", "usd", "base_usd", "per_second_usd", "steps")
INPUT_FIELDS = ("enum", "default", "minimum", "maximum")


def facts(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a page carries of a model file: category, output, the pricing rates and
    each input's type, enum, default, required-ness and bounds."""
    block, required = doc["x-shortapi"], set(doc.get("required", []))
    inputs = {}
    for name, node in doc.get("properties", {}).items():
        fact: dict[str, Any] = {"type": schema_type(node, doc), "required": name in required}
        fact.update({k: node[k] for k in INPUT_FIELDS if k in node})
        inputs[name] = fact
    pricing = block["pricing"]
    rates = [{k: r[k] for k in RATE_FIELDS if k in r} for r in pricing["rates"]]
    return {
        "category": block["category"],
        "output": block["output"],
        "pricing": {"unit": pricing["unit"], "rates": rates},
        "inputs": inputs,
    }


def differences(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Return (where, our value, their value) for each page fact two model files disagree on."""
    mine, other = facts(ours), facts(theirs)
    found = [
        (k, mine[k], other[k]) for k in ("category", "output", "pricing") if mine[k] != other[k]
    ]
    for name in sorted(set(mine["inputs"]) | set(other["inputs"])):
        a, b = mine["inputs"].get(name), other["inputs"].get(name)
        if a is None or b is None:
            found.append((f"inputs.{name}", a, b))
            continue
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key) or type(a.get(key)) is not type(b.get(key)):
                found.append((f"inputs.{name}.{key}", a.get(key), b.get(key)))
    return found
