"""What a job costs: the model's price per second times the duration, as exact decimals."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mock_server.catalog.registry import ModelSpec


def format_amount(value: Decimal) -> str:
    """Return `value` as a plain decimal string without trailing zeros ("0.375", "1")."""
    text = format(value.normalize(), "f")
    return text


def amount(
    spec: ModelSpec, args: Mapping[str, Any], table: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """Return the price of a job (assumption A-amount-per-second) as a decimal string."""
    mode = str(args.get("mode", spec.default_mode))
    prices = {
        **spec.price_per_second,
        **{m: Decimal(p) for m, p in (table or {}).get(spec.id, {}).items()},
    }
    return format_amount(prices[mode] * spec.duration(args))
