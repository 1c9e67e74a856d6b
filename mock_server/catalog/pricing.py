"""What a job costs: the model file's pricing table evaluated on the args, in exact decimals.

A table has a unit and rates; the first rate whose ``when`` matches the job's dimensions
(mode, resolution, audio, clip, duration, ... each read from the args as the table's ``by``
says) applies:

- ``second``: usd x the duration in seconds (A-amount-per-second for kling-o1);
- ``request``: usd (a clip priced by resolution and duration is a request with duration as a
  dimension);
- ``image``: usd x the images a job makes (``num_images``);
- ``megapixel``: usd x the megapixels of one image (the table's ``megapixels`` by resolution
  option) x the images (A-price-megapixel);
- ``base-plus-second``: the price at ``base_seconds`` (or at the last ``steps`` point at or
  below the duration) plus per_second_usd for each further second (A-price-base-plus-second).

Where no rate matches (a partial page's missing cell) the dearest rate applies, so a budget
built on the mock's amounts is never short (A-price-no-rate). A model the mock does not know
costs 0 (A-unknown-models).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mock_server.catalog.registry import ModelSpec

Table = Mapping[str, Mapping[str, str]]
"""Price overrides, {model id: {mode: usd}} (config ``PRICES``): the rate of that mode (or of
every rate, under the key "*") costs usd per unit instead (per second for base-plus-second)."""


def format_amount(value: Decimal) -> str:
    """Return `value` as a plain decimal string without trailing zeros ("0.375", "1")."""
    text = format(value.normalize(), "f")
    return text


def amount(spec: ModelSpec, args: Mapping[str, Any], table: Table | None = None) -> str:
    """Return the price of a job as a decimal string ("0.375")."""
    return format_amount(price(spec, args, table))


def price(spec: ModelSpec, args: Mapping[str, Any], table: Table | None = None) -> Decimal:
    """Return the price of a job in USD."""
    rates = spec.pricing.get("rates", [])
    if not rates:
        return Decimal(0)
    dims = dimensions(spec, args)
    overrides = (table or {}).get(spec.id, {})
    matching = [rate for rate in rates if _matches(rate["when"], dims)]
    candidates = matching[:1] or rates  # no rate for these dimensions: the dearest
    return max(_cost(spec, args, _override(rate, overrides, dims)) for rate in candidates)


def dimensions(spec: ModelSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    """Return the value of each dimension the pricing table names, read from `args`."""
    out: dict[str, Any] = {}
    for dim, how in spec.pricing.get("by", {}).items():
        arg = how.get("arg")
        value = spec.value(args, arg) if arg else None
        if value is None:
            value = how.get("default")
        mapping = how.get("map", {})
        out[dim] = mapping.get(value, value) if isinstance(value, str) else value
    return out


def _matches(when: Mapping[str, Any], dims: Mapping[str, Any]) -> bool:
    for dim, wanted in when.items():
        have = dims.get(dim)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(have == o and type(have) is type(o) for o in options):
            return False
    return True


def _override(
    rate: Mapping[str, Any], overrides: Mapping[str, str], dims: Mapping[str, Any]
) -> Mapping[str, Any]:
    key = str(dims.get("mode", "*"))
    usd = overrides.get(key, overrides.get("*"))
    if usd is None:
        return rate
    return {**rate, "per_second_usd" if "per_second_usd" in rate else "usd": usd}


def _cost(spec: ModelSpec, args: Mapping[str, Any], rate: Mapping[str, Any]) -> Decimal:
    unit = spec.price_unit
    if unit == "base-plus-second":
        return _base_plus_second(spec, args, rate)
    usd = Decimal(rate["usd"])
    if unit == "second":
        return usd * spec.duration(args)
    if unit == "image":
        return usd * spec.count(args)
    if unit == "megapixel":
        table: Mapping[str, str] = spec.pricing["megapixels"]
        resolution = spec.resolution(args)
        known = table.get(resolution) if resolution is not None else None
        megapixels = Decimal(known) if known else max(Decimal(v) for v in table.values())
        return usd * megapixels * spec.count(args)
    return usd


def _base_plus_second(spec: ModelSpec, args: Mapping[str, Any], rate: Mapping[str, Any]) -> Decimal:
    seconds = spec.duration(args)
    points = {int(spec.pricing["base_seconds"]): Decimal(rate["base_usd"])}
    points.update({int(s): Decimal(usd) for s, usd in rate.get("steps", {}).items()})
    start = max((s for s in points if s <= seconds), default=min(points))
    return points[start] + Decimal(rate["per_second_usd"]) * max(seconds - start, 0)
