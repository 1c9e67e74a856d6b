"""``shortapi-mock models list``: the models the mock serves, as text, JSON or the README's
markdown table (one generator for all three, so the README cannot drift: a test compares)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from mock_server.catalog import registry
from mock_server.catalog.registry import ModelSpec
from mock_server.errors import ConfigError
from mock_server.serve import models_import
from mock_server.validation import rules

UNITS = {
    "second": "per second",
    "request": "per request",
    "image": "per image",
    "megapixel": "per megapixel",
    "base-plus-second": "base + per second",
}
COLUMNS = ("model", "category", "output", "price", "status")


def add_parser(commands: Any) -> None:
    """Add ``models list`` to the command's subparsers."""
    models = commands.add_parser("models", help="the model catalogue the mock serves")
    actions = models.add_subparsers(dest="models_command", required=True)
    listing = actions.add_parser("list", help="list the models: id, category, output, price")
    listing.add_argument(
        "--models-dir", metavar="DIR", help="also load the model files of this folder"
    )
    form = listing.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object per model, a list")
    form.add_argument("--markdown", action="store_true", help="a markdown table (the README's)")
    models_import.add_parser(actions)


def price_range(spec: ModelSpec) -> str:
    """Return the prices of a model's rates, "0.075-0.1" (the base price for base + per second)."""
    values = sorted(
        {Decimal(r.get("usd") or r.get("base_usd") or 0) for r in spec.pricing.get("rates", [])}
    )
    if not values:
        return "0"
    low, high = (format(v.normalize(), "f") for v in (values[0], values[-1]))
    return low if low == high else f"{low}-{high}"


def row(spec: ModelSpec, *, user: bool = False) -> dict[str, Any]:
    """Return what `models list` says of one model."""
    unit = UNITS.get(spec.price_unit, spec.price_unit)
    return {
        "model": spec.id,
        "category": spec.category,
        "output": spec.output,
        "price_unit": unit,
        "price_usd": price_range(spec),
        "complete": spec.complete,
        "user_file": user,
    }


def rows(specs: Iterable[ModelSpec], user: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Return the rows of `specs`, sorted by model id; `user` names models from user files."""
    users = set(user)
    return [row(s, user=s.id in users) for s in sorted(specs, key=lambda s: s.id)]


def _cells(item: dict[str, Any]) -> tuple[str, ...]:
    status = "complete" if item["complete"] else "partial"
    return (
        item["model"],
        item["category"],
        item["output"],
        f"${item['price_usd']} {item['price_unit']}",
        status + (", user file" if item["user_file"] else ""),
    )


def markdown(items: list[dict[str, Any]]) -> str:
    """Return the models as a markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for item in items:
        model, *rest = _cells(item)
        lines.append("| " + " | ".join([f"`{model}`", *rest]) + " |")
    return "\n".join(lines) + "\n"


def text(items: list[dict[str, Any]]) -> str:
    """Return the models as aligned columns, with a count."""
    table = [COLUMNS, *(_cells(item) for item in items)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    partial = sum(not item["complete"] for item in items)
    out.append(f"{len(items)} models ({len(items) - partial} complete, {partial} partial)")
    return "\n".join(out) + "\n"


def load(directory: str) -> str | None:
    """Load a user models folder into the catalogue; return what is wrong with it, or None."""
    try:
        registry.load_models_dir(directory, known_rules=rules.RULES)
    except ConfigError as exc:
        return str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    """Print the models (``models list``), or import a page (``models import``)."""
    if args.models_command == "import":
        return models_import.run(args)
    if args.models_dir and (problem := load(args.models_dir)):
        print(f"shortapi-mock: {problem}", file=sys.stderr)
        return 2
    user = [m for m, spec in registry.MODELS.items() if registry.SHIPPED.get(m) is not spec]
    items = rows(registry.MODELS.values(), user)
    if args.json:
        print(json.dumps(items, indent=2))
    elif args.markdown:
        print(markdown(items), end="")
    else:
        print(text(items), end="")
    return 0
