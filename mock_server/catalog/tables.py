"""The tables of a model file's ``x-shortapi`` block, from a catalogue entry (models.json):
its pricing (unit, how each dimension is read from the args, the rates as exact decimals) and
its media readers (which arg holds the duration, aspect ratio, count and resolution).
`mock_server.catalog.from_catalog` assembles the file; `pricing.py` and `registry.py` read it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

Entry = Mapping[str, Any]


def output_of(category: str) -> str:
    """Return the output kind of a catalogue category."""
    if category.endswith("-image"):
        return "images"
    return "musics" if "music" in category else "videos"


def decimal(value: Any) -> str:
    """Return a price as an exact decimal string ("0.075", "0.1")."""
    return format(Decimal(str(value)).normalize(), "f")


def pricing_block(
    entry: Entry, properties: Mapping[str, Any], reading: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the pricing table of a model: its unit, how dimensions are read, its rates."""
    page = entry["pricing"]
    unit = _unit(str(page["unit"]))
    rates = [rate for raw in page["rates"] for rate in _rates(raw)]
    block: dict[str, Any] = {"unit": unit, "page": str(page["unit"])}
    dims = sorted({dim for rate in rates for dim in rate["when"]})
    if dims:
        block["by"] = {dim: _dimension(dim, properties, rates) for dim in dims}
    block["rates"] = rates
    if unit == "base-plus-second":
        span = next((i.get("range") for i in entry["inputs"] if i["name"] == "duration"), None)
        block["base_seconds"] = int(span["min"]) if span else 1
    if unit in ("second", "base-plus-second") and "duration" not in properties:
        block["assumption"] = "A-duration-unknown-default"  # charged as a 5-second result
    block.update(reading.get("pricing", {}))
    if page.get("notes"):
        block["notes"] = str(page["notes"])
    return block


def _unit(text: str) -> str:
    lowered = text.lower()
    for needle, unit in (
        ("megapixel", "megapixel"),
        ("base price", "base-plus-second"),
        ("per clip", "request"),
        ("per image", "image"),
        ("per second", "second"),
        ("per request", "request"),
    ):
        if needle in lowered:
            return unit
    raise ValueError(f"unknown pricing unit {text!r}")


def _rates(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten one rate of models.json: a resolution x duration table becomes one per cell."""
    when: dict[str, Any] = {}
    cells: list[tuple[dict[str, Any], Any]] = []
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("usd", "base_usd", "per_second_usd"):
            out[key] = decimal(value)
        elif key == "note":
            out["note"] = str(value)
        elif isinstance(value, dict):  # "540p": {"5s": 0.128, ...}
            cells += [
                ({"resolution": key, "duration": d.removesuffix("s")}, v) for d, v in value.items()
            ]
        else:
            when[key] = value.split("/") if isinstance(value, str) and "/" in value else value
    note = out.get("note", "")
    if typo := re.search(r"typo for ([0-9.]+)", note):
        out["page"], out["base_usd"] = {"base_usd": out["base_usd"]}, decimal(typo.group(1))
    if step := re.search(r"base ([0-9.]+) at (\d+) s", note):
        out["steps"] = {step.group(2): decimal(step.group(1))}
    if cells:
        return [{"when": {**when, **cell}, "usd": decimal(usd)} for cell, usd in cells]
    return [{"when": when, **out}]


def _dimension(dim: str, properties: Mapping[str, Any], rates: Sequence[Any]) -> dict[str, Any]:
    if dim == "audio":
        if "generate_audio" in properties:
            return {"arg": "generate_audio"}
        if "sound" in properties:
            return {"arg": "sound", "map": {"on": True, "off": False}}
        return {"default": False}  # the page's audio switch is not visible (A-price-audio-unseen)
    if dim == "clip" and "clip" not in properties:
        return {"default": "single"}
    if dim not in properties:
        return {"default": rates[0]["when"][dim]}
    out: dict[str, Any] = {"arg": dim}
    values = {v for rate in rates for v in _listed(rate["when"].get(dim))}
    options = properties[dim].get("enum", [])
    mapping = {o: o.lower() for o in options if o not in values and o.lower() in values}
    if mapping:
        out["map"] = mapping
    return out


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The args that switch a video's sound on, in the order they are looked for, with how their
# values read (A-result-mp4): a boolean as it is; "on"/"yes" as true; a URL (wan-2.6's
# background music) as true when given.
AUDIO_ARGS: dict[str, dict[str, Any]] = {
    "generate_audio": {},
    "sound": {"map": {"on": True, "off": False}},
    "audio": {},
    "with_audio": {},
    "keep_audio": {},  # video-to-video: the source's sound is kept
    "keep_original_sound": {"map": {"yes": True, "no": False}},
    "audio_url": {},
}
DEFAULT_VIDEO_RESOLUTION = "720p"  # a video model without a resolution option (A-result-mp4)
# Kling's modes are its resolutions: std makes 720p, pro 1080p (A-result-mp4).
KLING_MODES = {"std": "720p", "pro": "1080p"}
FORMAT_ARGS = ("output_format", "format")  # an image model's file format option


def media_block(
    entry: Entry, properties: Mapping[str, Any], reading: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return how the result's shape is read from the args (readers merged from the reading's
    ``media``, where a page's prose says more)."""
    output = output_of(str(entry["category"]))
    media: dict[str, Any] = {}
    if output == "videos":
        duration = properties.get("duration", {})
        first = duration.get("default", (duration.get("enum") or [duration.get("minimum", 5)])[0])
        # No duration arg: the result lasts as long as the input video (A-duration-unknown-default).
        media["duration"] = (
            {"arg": "duration", "default": int(first)} if duration else {"default": 5}
        )
    ratio = properties.get("aspect_ratio")
    fallback = "16:9" if output == "videos" else "1:1"
    if ratio is not None:
        media["aspect_ratio"] = {"arg": "aspect_ratio", "default": ratio.get("default", fallback)}
    elif "size" in properties:
        sizes = [s for s in properties["size"].get("enum", []) if re.fullmatch(r"\d+x\d+", s)]
        media["aspect_ratio"] = {
            "arg": "size",
            "map": {s: _ratio(s) for s in sizes},
            "default": "1:1",
        }
    elif "width" in properties and "height" in properties:
        media["aspect_ratio"] = {"width": "width", "height": "height", "default": fallback}
    elif output != "musics":
        media["aspect_ratio"] = {"default": fallback}
    if output == "images":
        count = properties.get("num_images")
        media["count"] = (
            {"arg": "num_images", "default": count.get("default", 1)} if count else {"default": 1}
        )
        media.update(_image_readers(properties))
    if "resolution" in properties:
        media["resolution"] = {"arg": "resolution"}
        if "default" in properties["resolution"]:
            media["resolution"]["default"] = properties["resolution"]["default"]
    elif output == "videos":
        modes = set(properties.get("mode", {}).get("enum", []))
        default = properties.get("mode", {}).get("default")
        if modes and modes <= set(KLING_MODES):
            media["resolution"] = {
                "arg": "mode",
                "map": {m: KLING_MODES[m] for m in sorted(modes)},
                "default": KLING_MODES.get(default, DEFAULT_VIDEO_RESOLUTION),
            }
        else:
            media["resolution"] = {"default": DEFAULT_VIDEO_RESOLUTION}
    if output == "videos":
        media["audio"] = _audio_reader(properties)
    for what, reader in (reading or {}).get("media", {}).items():
        media[what] = {**media.get(what, {}), **reader}
    return media


def _audio_reader(properties: Mapping[str, Any]) -> dict[str, Any]:
    name = next((n for n in AUDIO_ARGS if n in properties), None)
    if name is None:
        return {"default": False}
    return {"arg": name, **AUDIO_ARGS[name], "default": False}


def _image_readers(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Return the readers of an image's exact pixel size and file format, where it has one."""
    out: dict[str, Any] = {}
    if "size" in properties:  # gpt-image-2: "1536x1024", or "auto" (a square)
        out["size"] = {"arg": "size", "map": {"auto": "1024x1024"}, "default": "1024x1024"}
    elif "image_size" in properties:
        out["size"] = {"arg": "image_size"}
    elif "width" in properties and "height" in properties:
        out["size"] = {"width": "width", "height": "height"}
    name = next((n for n in FORMAT_ARGS if n in properties), None)
    if name is not None:
        out["format"] = {"arg": name, "default": properties[name].get("default", "png")}
    return out


def _ratio(size: str) -> str:
    width, height = (int(x) for x in size.split("x"))
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"
