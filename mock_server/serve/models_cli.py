"""``shortapi-mock models list``: the models the mock serves, as text, JSON or the README's
markdown table (one generator for all three, so the README cannot drift: a test compares);
``models show ID``: one model in full (`models_show`)."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from mock_server.catalog import registry
from mock_server.catalog.registry import ModelSpec
from mock_server.errors import ConfigError
from mock_server.serve import models_import, models_show
from mock_server.validation import rules

UNITS = models_show.UNITS
COLUMNS = ("model", "category", "output", "price", "status", "facts from")


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
    show = actions.add_parser(
        "show", help="one model: its inputs, what leniency does with each, prices, sources"
    )
    show.add_argument("model", metavar="ID", help="the model id, e.g. google/veo-3.1/text-to-video")
    show.add_argument(
        "--models-dir", metavar="DIR", help="also load the model files of this folder"
    )
    show.add_argument("--json", action="store_true", help="as one JSON object")
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
        "known_from": spec.known_from,
        "user_file": user,
        "replaces_shipped": user and spec.id in registry.SHIPPED,
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
        status
        + (", user file" if item["user_file"] else "")
        + (" replacing the shipped one" if item.get("replaces_shipped") else ""),
        item["known_from"],
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


def replaced() -> list[str]:
    """Return the shipped models a loaded user file replaces."""
    return sorted(
        m for m, spec in registry.MODELS.items() if registry.SHIPPED.get(m, spec) is not spec
    )


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
    if args.models_command == "show":
        return show(args.model, as_json=args.json)
    user = [m for m, spec in registry.MODELS.items() if registry.SHIPPED.get(m) is not spec]
    items = rows(registry.MODELS.values(), user)
    if args.json:
        print(json.dumps(items, indent=2))
    elif args.markdown:
        print(markdown(items), end="")
    else:
        print(text(items), end="")
    return 0


def show(model: str, *, as_json: bool) -> int:
    """Print one model in full (``models show``); 2 with a hint when the id is not served."""
    spec = registry.MODELS.get(model)
    if spec is None:
        close = difflib.get_close_matches(model, list(registry.MODELS), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        print(
            f"shortapi-mock: no model {model!r}{hint} (shortapi-mock models list)", file=sys.stderr
        )
        return 2
    facts = models_show.describe(spec)
    print(
        json.dumps(facts, indent=2, ensure_ascii=False) if as_json else models_show.text(facts),
        end="\n" if as_json else "",
    )
    return 0
