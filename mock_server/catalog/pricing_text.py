"""A model file's pricing table as a page's Pricing text, and back (for `pages`).

`pricing_lines` writes one line a rate, which `read_pricing` reads back exactly:
``- $0.075 per second when mode = "std"``; ``- $0.04 base (first 1 s) + $0.05 per further
second [$0.05 at 2 s] when resolution = "720p"``; ``- Megapixels per image by resolution:
"1K" = "1"``. A live page states its prices in prose ("The billing rate for Standard mode
video is $0.075 per second, while Pro mode is $0.1 per request"): `read_pricing` reads each
"$N per unit" and the option words before it (mode, resolution, performance, audio), and
says in notes what it could not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mock_server.catalog.tables import _dimension, decimal

WORDS = {"second": "second", "request": "request", "image": "image", "megapixel": "megapixel"}
PROSE_UNITS = {"clip": "request", "generation": "request", "video": "request", **WORDS}
DIMENSIONS = ("mode", "resolution", "performance", "quality")
_PAIR = re.compile(r'(\w+) = ("(?:[^"\\]|\\.)*"|\[[^\]]*\]|true|false|-?\d+(?:\.\d+)?)')
_SIMPLE = re.compile(r"\$([0-9.]+) per (second|request|image|megapixel)\b(?: when (.*))?", re.S)
_BASE = re.compile(
    r"\$([0-9.]+) base \(first (\d+) s\) \+ \$([0-9.]+) per further second"
    r"(?: \[([^\]]*)\])?(?: when (.*))?",
    re.S,
)
_STEP = re.compile(r"\$([0-9.]+) at (\d+) s")
_PROSE = re.compile(r"\$\s?([0-9]+(?:\.[0-9]+)?)\s*(?:per|/|an?)\s*(\w+)", re.I)


def _when(when: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in when.items())


def pricing_lines(pricing: Mapping[str, Any]) -> list[str]:
    """Return the Pricing section's lines for a model file's pricing table."""
    unit = str(pricing["unit"])
    lines = ["Prices by the job's arguments (the first line that matches applies):", ""]
    for rate in pricing["rates"]:
        if unit == "base-plus-second":
            line = (
                f"- ${rate['base_usd']} base (first {pricing.get('base_seconds', 1)} s) + "
                f"${rate['per_second_usd']} per further second"
            )
            if rate.get("steps"):
                line += " [" + ", ".join(f"${v} at {k} s" for k, v in rate["steps"].items()) + "]"
        else:
            line = f"- ${rate['usd']} per {unit}"
        if rate.get("when"):
            line += f" when {_when(rate['when'])}"
        lines.append(line)
    if pricing.get("megapixels"):
        sizes = ", ".join(
            f"{json.dumps(k)} = {json.dumps(v)}" for k, v in pricing["megapixels"].items()
        )
        lines.append(f"- Megapixels per image by resolution: {sizes}")
    return lines


def _pairs(text: str | None) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in _PAIR.findall(text or "")}


def _structured(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Read the lines `pricing_lines` writes; None when the text has none."""
    block: dict[str, Any] = {}
    rates: list[dict[str, Any]] = []
    for chunk in re.split(r"(?<!\S)-\s+(?=\$|Megapixels)", text)[1:]:
        if base := _BASE.match(chunk):
            block.update(unit="base-plus-second", base_seconds=int(base[2]))
            rate: dict[str, Any] = {"when": _pairs(base[5])}
            rate.update(base_usd=decimal(base[1]), per_second_usd=decimal(base[3]))
            if base[4]:
                rate["steps"] = {s: decimal(v) for v, s in _STEP.findall(base[4])}
            rates.append(rate)
        elif simple := _SIMPLE.match(chunk):
            block["unit"] = simple[2]
            rates.append({"when": _pairs(simple[3]), "usd": decimal(simple[1])})
        elif chunk.startswith("Megapixels per image by resolution:"):
            sizes = re.findall(r'"([^"]+)" = "([^"]+)"', chunk)
            block["megapixels"] = {k: v for k, v in sizes}
    return (block, rates) if rates else None


def _abbreviates(word: str, option: str) -> bool:
    """Say whether `word` spells `option` out ("Standard" for "std")."""
    word, option = word.lower(), option.lower()
    if len(option) < 2 or len(word) <= len(option) or word[0] != option[0]:
        return False
    letters = iter(word)
    return all(letter in letters for letter in option)


def _options_in(context: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-]*", context)
    when: dict[str, Any] = {}
    for name in DIMENSIONS:
        options = [o for o in properties.get(name, {}).get("enum", []) if isinstance(o, str)]
        exact = [o for o in options if any(w.lower() == o.lower() for w in words)]
        spelled = [o for o in options if any(_abbreviates(w, o) for w in words)]
        if chosen := exact or spelled:
            when[name] = chosen[0]
    lowered = context.lower()
    if "audio" in lowered or "sound" in lowered:
        when["audio"] = not re.search(r"without|no audio|silent|muted", lowered)
    return when


def _prose(text: str, properties: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """Read "$N per unit" phrases and the options named before each."""
    unit, rates, notes, start = "", [], [], 0
    for found in _PROSE.finditer(text):
        word = found[2].lower().removesuffix("s")
        if word not in PROSE_UNITS:
            continue
        rate: dict[str, Any] = {"when": _options_in(text[start : found.start()], properties)}
        rate["usd"] = decimal(found[1])
        start = found.end()
        unit = unit or PROSE_UNITS[word]
        if PROSE_UNITS[word] != unit:
            rate["page"] = {"unit": f"per {word}"}
            notes.append(
                f"the page words ${found[1]} as 'per {word}' while the first rate is "
                f"per {unit}: read as per {unit} (check)"
            )
        rates.append(rate)
    if len({json.dumps(r["when"], sort_keys=True) for r in rates}) < len(rates):
        notes.append("some prices name no option the importer could tie to an argument: check")
    if "base price" in text.lower():
        notes.append("the page states a base price, which the importer does not read")
    return unit, rates, notes


def read_pricing(text: str, properties: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the pricing table a page's Pricing text states, and notes on what it could not
    read (an unread price is kept as $0 with the page's words)."""
    page = " ".join(text.replace("For more details, please check our pricing page.", "").split())
    notes: list[str] = []
    structured = _structured(text)
    if structured is not None:
        block, rates = structured
    else:
        unit, rates, notes = _prose(text, properties)
        block = {"unit": unit or "request"}
        if not rates:
            rates = [{"when": {}, "usd": "0", "note": "price not read from the page"}]
            notes.append(f"pricing not read from the page text ({page[:160]!r}): $0 kept")
    out: dict[str, Any] = {"unit": block["unit"], "page": page[:300] or "not on the page"}
    dims = list(dict.fromkeys(d for rate in rates for d in rate["when"]))
    if dims:
        out["by"] = {d: _dimension(d, properties, rates) for d in sorted(dims)}
    out["rates"] = rates
    if out["unit"] == "base-plus-second":
        out["base_seconds"] = block.get("base_seconds", 1)
    if out["unit"] == "megapixel":
        sizes = properties.get("resolution", {}).get("enum", ["1K"])
        out["megapixels"] = block.get("megapixels") or {str(s): "1" for s in sizes}
        if "megapixels" not in block:
            notes.append("megapixels per resolution not on the page: 1 assumed for each")
    return out, notes
