"""A model's documentation page (the markdown ``/api/skill/<model>`` serves) from its model
file, and a model file from such a page: `render` and `parse` (plain Python, no Flask).

The page format is the live documentation's (A-skill-page-format): a title ``# <model> >
<description>``, an Overview list (Endpoint, Model ID, Category, Kind), a Pricing section, an
Input Schema list (``- **`name`** (`type`, _required_): text`` then ``- Default:``,
``- Options:``, ``- Range:`` sub-items, item fields indented under a list), an Output Schema
whose query example shows the result key, and a cURL example whose ``--data`` holds the
example args. Stored copies of pages may have lost their line breaks: `parse` reads both.

`parse` reads the page into a catalogue entry and builds the file with
`from_catalog.model_document`, so an imported file has the shipped files' form. What a page
cannot carry (x-fix texts, cross-field rules, item counts, string lengths, most of ``$defs``)
is left out and listed in the file's ``notes``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from mock_server.catalog import from_catalog
from mock_server.catalog.pricing_text import pricing_lines, read_pricing
from mock_server.catalog.tables import output_of
from mock_server.data import schemas

ENDPOINT = "https://api.shortapi.ai/api/v1/job/create"
PAGE_TYPES = {"string": "string", "integer": "int", "number": "float", "boolean": "bool"}
PAGE_TYPES |= {"array": "list", "object": "object"}
SCHEMA_TYPES = {page: schema for schema, page in PAGE_TYPES.items()}
CANNOT_KNOW = (
    "imported from a model page (shortapi-mock models import): the page cannot say x-fix "
    "texts, cross-field rules stated in prose (read the descriptions, add rules by hand), "
    "list item counts, string lengths or patterns, nor $defs beyond the shared image, video "
    "and audio definitions"
)
CATEGORIES = frozenset(
    {"text-to-video", "image-to-video", "video-to-video", "text-to-image", "image-to-image"}
    | {"text-to-music"}
)
MODELS_FOLDER = "models"
IMAGE_LISTS = from_catalog.IMAGE_LISTS  # lists of images: their items have no fields
_PARAM = re.compile(
    r"(?<!\S)-\s+\*\*`(?P<name>[^`]+)`\*\*\s+\(`(?P<type>[^`]+)`,\s*"
    r"_(?P<req>required|optional)_\):?"
)
_FACT = re.compile(r"\s-\s+(Default|Options|Range|Min|Max|Examples):\s*")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^,\s]+')


class PageError(ValueError):
    """The text is not a model page the importer can read (says what is missing)."""


# --- render ----------------------------------------------------------------------------------


def _resolve(node: Mapping[str, Any], doc: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/") and seen < 9:
        node, seen = doc.get("$defs", {}).get(node["$ref"].removeprefix("#/$defs/"), {}), seen + 1
    return node


def schema_type(node: Mapping[str, Any], doc: Mapping[str, Any]) -> str | None:
    """Return the JSON type of an input: its own, its definition's, or its branches' one."""
    node = _resolve(node, doc)
    if isinstance(node.get("type"), str):
        return str(node["type"])
    kinds = {schema_type(b, doc) for b in node.get("anyOf", node.get("oneOf", []))}
    return kinds.pop() if len(kinds) == 1 else None


def _int_span(values: list[Any]) -> tuple[int, int] | None:
    """Return (low, high) when `values` are the strings of every integer low..high (3+)."""
    if len(values) < 3 or not all(isinstance(v, str) and re.fullmatch(r"-?\d+", v) for v in values):
        return None
    numbers = [int(v) for v in values]
    low, high = numbers[0], numbers[-1]
    return (low, high) if numbers == list(range(low, high + 1)) else None


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _input_lines(
    name: str, node: Mapping[str, Any], required: bool, doc: Mapping[str, Any], indent: str
) -> list[str]:
    kind = schema_type(node, doc)
    page_type = PAGE_TYPES.get(kind or "string", "string")
    text = " ".join(str(node.get("description") or name).split()).rstrip(".")
    need = "required" if required else "optional"
    lines = [f"{indent}- **`{name}`** (`{page_type}`, _{need}_): {text}"]
    sub = indent + "  "
    if "default" in node:
        lines.append(f"{sub}- Default: `{_value(node['default'])}`")
    enum = node.get("enum")
    span = _int_span(list(enum)) if kind == "string" and enum else None
    if enum and span is None:
        lines.append(f"{sub}- Options: " + ", ".join(json.dumps(v) for v in enum))
    if span is not None:
        lines.append(f"{sub}- Range: `{span[0]}` to `{span[1]}`")
    elif "minimum" in node and "maximum" in node:
        lines.append(f"{sub}- Range: `{_value(node['minimum'])}` to `{_value(node['maximum'])}`")
    elif "minimum" in node or "maximum" in node:
        side = "minimum" if "minimum" in node else "maximum"
        lines.append(f"{sub}- {side[:3].title()}: `{_value(node[side])}`")
    item = _resolve(node.get("items", {}), doc) if kind == "array" else _resolve(node, doc)
    if kind in ("array", "object") and isinstance(item.get("properties"), Mapping):
        needed = set(item.get("required", []))
        for child, child_node in item["properties"].items():
            lines += _input_lines(child, child_node, child in needed, doc, sub)
    return lines


def render(doc: Mapping[str, Any]) -> str:
    """Return the documentation page of a model file, in the live pages' structure."""
    block = doc["x-shortapi"]
    model, category, output = block["model"], block["category"], block["output"]
    about = " ".join(str(doc.get("description") or f"{model} ({category})").split())
    required = set(doc.get("required", []))
    inputs = [
        line
        for name, node in doc.get("properties", {}).items()
        for line in _input_lines(name, node, name in required, doc, "")
    ]
    example = (doc.get("examples") or [{}])[0]
    body = json.dumps(
        {"model": model, "args": example, "callback_url": "CALLBACK_URL"}, ensure_ascii=False
    ).replace("'", "'\\''")
    result = json.dumps({"code": 0, "data": {"status": 2, "result": {output: [{"url": "..."}]}}})
    lines = [
        f"# {model} > {about}",
        "",
        "## Overview",
        "",
        f"- **Endpoint**: `{ENDPOINT}`",
        f"- **Model ID**: `{model}`",
        f"- **Category**: {category}",
        "- **Kind**: inference",
        "",
        "## Pricing",
        "",
        *pricing_lines(block["pricing"]),
        "",
        "For more details, please check our pricing page.",
        "",
        "## API Information",
        "",
        "This model can be used via our HTTP API. See the input and output schema below, as "
        "well as the usage example.",
        "",
        "### Input Schema",
        "",
        "The API accepts the following input parameters:",
        "",
        *inputs,
        "",
        "### Output Schema",
        "",
        "The API returns a JSON response with a `job_id` for tracking the request status.",
        "",
        "**Create Job Response:**",
        "",
        "```json",
        '{ "code": 0, "data": { "amount": "0.02", "job_id": "" } }',
        "```",
        "",
        "**Query Job Result (when status is 2, meaning succeeded):**",
        "",
        "```json",
        result,
        "```",
        "",
        "## Use Example",
        "",
        "To use this model, make an HTTP POST request to the API endpoint, then poll for "
        "results using the returned `job_id`.",
        "",
        "### Bash (cURL)",
        "",
        "```bash",
        "# Step 1: Create a job",
        "response=$(curl --request POST \\",
        f"  --url {ENDPOINT} \\",
        '  --header "Authorization: Bearer $SHORTAPI_KEY" \\',
        '  --header "Content-Type: application/json" \\',
        f"  --data '{body}')",
        "```",
    ]
    return "\n".join(lines) + "\n"


# --- parse -----------------------------------------------------------------------------------


def _section(text: str, start: str, ends: tuple[str, ...]) -> str:
    at = text.find(start)
    if at < 0:
        return ""
    rest = text[at + len(start) :]
    cut = min((i for i in (rest.find(e) for e in ends) if i >= 0), default=len(rest))
    return rest[:cut]


def _typed(raw: str, page_type: str) -> Any:
    raw = raw.strip()
    try:
        if page_type == "int":
            return int(raw)
        if page_type == "float":
            return float(raw)
        if page_type == "bool":
            return {"true": True, "false": False}[raw.lower()]
        if page_type in ("list", "object"):
            return json.loads(raw)
    except (ValueError, KeyError):
        return raw
    return raw


def _options(raw: str, page_type: str) -> list[Any]:
    out = []
    for token in _TOKEN.findall(raw):
        value = json.loads(token) if token.startswith('"') else token
        out.append(_typed(str(value), page_type) if page_type != "string" else str(value))
    return out


def _read_input(match: re.Match[str], body: str, depth: int) -> dict[str, Any]:
    page_type = match["type"].strip().lower()
    parts = _FACT.split(" " + body)
    item: dict[str, Any] = {
        "name": match["name"],
        "type": page_type,
        "required": match["req"] == "required",
        "default": None,
        "options": None,
        "range": None,
        "description": " ".join(parts[0].split()),
        "notes": None,
        "_depth": depth,
    }
    for label, raw in zip(parts[1::2], parts[2::2], strict=True):
        raw = raw.strip()
        if label == "Default":
            item["default"] = _typed(raw.strip("`"), page_type)
        elif label == "Options":
            item["options"] = _options(raw, page_type)
        elif label in ("Range", "Min", "Max"):
            ends = re.findall(r"`([^`]*)`", raw)
            bound = "float" if page_type == "float" else "int"
            values = [_typed(e, bound) for e in ends]
            span = item["range"] or {}
            if label == "Range" and len(values) == 2:
                span = {"min": values[0], "max": values[1]}
            elif values:
                span[label.lower()] = values[0]
            item["range"] = span or None
    if item["range"] is not None and set(item["range"]) != {"min", "max"}:
        item["_bounds"], item["range"] = item["range"], None  # one side: set by `_exact`
    return item


def _nest(items: list[dict[str, Any]], example: Mapping[str, Any], flat: bool) -> list[str]:
    """Move item fields under their list (by indentation, or guessed on a one-line page);
    return notes on the guesses."""
    notes: list[str] = []
    top: list[dict[str, Any]] = []
    for item in items:
        parent = top[-1] if top else None
        listed = parent is not None and parent["type"] == "list"
        if flat and parent is not None and listed and parent["name"] not in IMAGE_LISTS:
            singular = parent["name"].removesuffix("s")
            mentions = singular in item["description"].lower()
            nested = bool(parent.get("item_fields"))
            plain = item["default"] is None and item["options"] is None
            if item["name"] not in example and plain and (mentions or nested):
                parent.setdefault("item_fields", []).append(item)
                where = f"{parent['name']} items"
                notes.append(f"{item['name']} read as a field of {where} (guessed: one-line page)")
                continue
        if not flat and parent is not None and item["_depth"] > parent["_depth"]:
            parent.setdefault("item_fields", []).append(item)
            continue
        top.append(item)
    items[:] = top
    for item in items:
        for field in [item, *item.get("item_fields", [])]:
            field.pop("_depth", None)
    return notes


def _example(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for marker in ("--data '", "payload = ", "JSON.stringify("):
        at = text.find(marker)
        if at < 0:
            continue
        try:
            rest = text[at + len(marker) :].replace("'\\''", "'")
            body, _ = decoder.raw_decode(rest.lstrip())
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("args"), dict):
            return dict(body["args"])
    return None


def _field(text: str, label: str) -> str | None:
    found = re.search(rf"\*\*{label}\*\*:\s*`?([^`\s]+)`?", text)
    return found.group(1) if found else None


def parse(text: str, *, source: str = "a model page") -> dict[str, Any]:
    """Return the model file a documentation page describes (raises `PageError`)."""
    try:
        return _parse(text, source)
    except PageError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise PageError(
            f"the page cannot be read as a model: {type(exc).__name__}: {exc}"
        ) from None


def _parse(text: str, source: str) -> dict[str, Any]:
    model, category = _field(text, "Model ID"), _field(text, "Category")
    if not model:
        raise PageError("no **Model ID** in the Overview: not a model page")
    if category not in CATEGORIES:
        raise PageError(f"category {category!r} is not one of {sorted(CATEGORIES)}")
    title = re.search(r"#\s+\S+\s+>\s+(.*?)\s*(?:##\s|$)", text, re.DOTALL)
    ends = ("### Output Schema", "## Use Example", "\n## ")
    section = _section(text, "### Input Schema", ends)
    matches = list(_PARAM.finditer(section))
    if not matches:
        raise PageError("no inputs under ### Input Schema")
    items = [
        _read_input(
            m,
            section[m.end() : nxt.start() if nxt else len(section)],
            m.start() - section.rfind("\n", 0, m.start()) - 1,
        )
        for m, nxt in zip(matches, [*matches[1:], None], strict=True)
    ]
    example = _example(text)
    notes = [CANNOT_KNOW]
    notes += _nest(items, example or {}, flat="\n" not in section.strip())
    result = re.search(r'"result"\s*:\s*\{\s*"(\w+)"', _section(text, "### Output Schema", ends))
    output = output_of(category)
    if result and result.group(1) != output:
        notes.append(f"the page's output example shows result.{result.group(1)}, {output} kept")
    pricing_text = _section(text, "## Pricing", ("## API Information", "## ", "### "))
    entry = {
        "model": model,
        "category": category,
        "source": source,
        "complete": True,
        "pricing": {"unit": "per request", "rates": [{"usd": 0}]},  # replaced below
        "inputs": items,
        "used_by": [],
    }
    defs = schemas.load(f"{MODELS_FOLDER}/{from_catalog.DEFS_FILE}")["$defs"]
    try:
        doc = from_catalog.model_document(entry, defs, {"example": example} if example else {})
    except ValueError as invalid:
        doc = from_catalog.model_document(entry, defs)
        notes.append(f"the page's example was not kept ({invalid}); a minimal one was made")
    doc.pop("$id", None)
    if title:
        doc["description"] = " ".join(title.group(1).split())
    _exact(doc["properties"], items)
    block = doc["x-shortapi"]
    block["pricing"], pricing_notes = read_pricing(pricing_text, doc["properties"])
    block["notes"] = "; ".join(notes + pricing_notes)
    return doc


def _exact(properties: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """Set each input's type, enum, default and bounds to what the page states exactly."""
    for item in items:
        node, page_type = properties[item["name"]], item["type"]
        if "$ref" not in node and page_type in SCHEMA_TYPES:
            node["type"] = SCHEMA_TYPES[page_type]
        if item["options"] is not None:
            node["enum"] = copy.deepcopy(item["options"])
        if item["default"] is not None:
            node["default"] = item["default"]
        span = item.get("_bounds") or item["range"] or {}
        if page_type in ("int", "float"):
            for side, key in (("min", "minimum"), ("max", "maximum")):
                if side in span:
                    node[key] = span[side]
