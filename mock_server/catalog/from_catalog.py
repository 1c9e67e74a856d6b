"""Write the model files of ``schemas/models/`` from the catalogue of documented models.

``python -m mock_server.catalog.from_catalog`` reads ``fixtures/catalog/models.json`` (what
the public model pages state: inputs with type, required, default, options, range; prices)
and `readings.json` beside this module (what a page says in prose: conditions, named rules,
an example where the minimal one would break a condition) and writes one file per model that
has a page (`served`), skipping files that exist (``--force`` rewrites them; kling-o1's file is
written by hand and never touched). Run once; the files are committed and the runtime reads
only them. ``--media`` rewrites only the ``media`` readers of the files that exist (after a
change to `tables.media_block` or a reading's ``media``). ``--sync-defs`` copies kling-o1's
image definitions into ``_defs.json`` and the shared definitions into every model file (each
file carries its own copy: the image checks and the contract strategies follow local refs
only).

The functions are the mapping "an entry of models.json -> a model file"; a page importer that
parses a page into the same entry shape can reuse `model_document`.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mock_server.catalog.tables import media_block, output_of, pricing_block
from mock_server.data.schemas import data_dir

Entry = Mapping[str, Any]
HAND_WRITTEN = frozenset({"kwaivgi/kling-o1/image-to-video"})
KLING_FILE = "kling-o1-image-to-video.args.json"
KLING_DEFS = ("image_url", "image_http_url", "image_data_uri", "element")
DEFS_FILE = "_defs.json"
SCHEMA = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://schemas.shortapi-mock.dev/models/"
WIDTH = 96  # a JSON value shorter than this stays on one line

# Inputs by name: images use kling-o1's image definition and checks (A-image-checks-all-models).
IMAGE_NAMES = frozenset({"image", "image_url", "image_tail", "first_frame_image"})
IMAGE_LISTS = frozenset({"images", "image_urls", "reference_image_urls"})
VIDEO_NAMES = frozenset({"video", "video_url"})
AUDIO_NAMES = frozenset({"audio_url"})
IMAGE_DEFS = frozenset({"image_url", "image_http_url"})
TYPES = {
    "string": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
}
EXAMPLE_TEXT = "a black lab swims across a pool"
EXAMPLE_IMAGE = "https://example.com/images/{n}.jpg"
EXAMPLE_VIDEO = "https://example.com/videos/input.mp4"


def served(entry: Entry) -> bool:
    """Say whether the mock serves `entry`: a model page was found and shows inputs."""
    source = str(entry.get("source", ""))
    return bool(entry.get("inputs")) and ("shortapi.ai/" in source or source.startswith("seed-"))


def file_name(model: str) -> str:
    """Return the model file's name: the id without its vendor, slashes as dashes."""
    return model.split("/", 1)[1].replace("/", "-") + ".args.json"


def _typed(value: Any, kind: str | None) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def property_schema(inp: Entry, *, complete: bool = True) -> dict[str, Any]:
    """Return the JSON Schema of one input (as models.json states it)."""
    name, kind = str(inp["name"]), inp.get("type")
    text = str(inp.get("description") or name)
    description = text[0].upper() + text[1:] + "."
    if inp.get("notes"):
        description += f" Page: {inp['notes']}."
    schema: dict[str, Any] = {"description": description}
    if kind == "string" and name in IMAGE_NAMES | {"frontal_image_url"}:
        return {**schema, "$ref": "#/$defs/image_url"}
    if kind == "string" and name in VIDEO_NAMES:
        return {**schema, "$ref": "#/$defs/video_url"}
    if kind == "string" and name in AUDIO_NAMES:
        return {**schema, "$ref": "#/$defs/audio_url"}
    if kind in TYPES:
        schema["type"] = TYPES[kind]
    if kind == "list":
        schema.update(_items(inp, complete=complete))
    options, span = inp.get("options"), inp.get("range")
    if options and kind != "bool":
        schema["enum"] = [_typed(o, kind) for o in options]
    elif span and kind == "string":
        schema["enum"] = [str(i) for i in range(int(span["min"]), int(span["max"]) + 1)]
    elif span:
        schema.update(minimum=_typed(span["min"], kind), maximum=_typed(span["max"], kind))
    elif name == "duration" and kind == "int":  # the page states no range: at least 1 s
        schema.update({"exclusiveMinimum": 0, "x-assumption": "A-duration-positive"})
    if inp.get("default") is not None:
        schema["default"] = _typed(inp["default"], kind)
    if inp.get("max_length"):
        schema["maxLength"] = int(inp["max_length"])
    if name == "prompt" and inp.get("required"):
        schema["minLength"] = 1  # A-prompt-nonempty
    if fix := _fix(name, kind, schema):
        schema["x-fix"] = fix
    return schema


def _items(inp: Entry, *, complete: bool) -> dict[str, Any]:
    name, out = str(inp["name"]), dict[str, Any]()
    if name in IMAGE_LISTS:
        out["items"] = {"$ref": "#/$defs/image_url"}
    elif name == "elements":
        out["items"] = {"$ref": "#/$defs/element"}
    elif inp.get("item_fields"):
        fields = inp["item_fields"]
        item: dict[str, Any] = {"type": "object"}
        if complete:
            item["additionalProperties"] = False
        item["required"] = [str(f["name"]) for f in fields if f.get("required")]
        item["properties"] = {str(f["name"]): property_schema(f) for f in fields}
        for field in fields:  # "at least 1" on a shot's length
            if "at least 1" in str(field.get("notes") or ""):
                item["properties"][str(field["name"])]["minimum"] = 1
        out["items"] = item
    if inp.get("min_items") or (inp.get("required") and name in IMAGE_LISTS):
        out["minItems"] = int(inp.get("min_items") or 1)
    if inp.get("max_items"):
        out["maxItems"] = int(inp["max_items"])
    return out


def _fix(name: str, kind: Any, schema: Mapping[str, Any]) -> str | None:
    example = schema.get("default", (schema.get("enum") or [None])[0])
    if kind == "bool":
        return f"send {name} as a JSON boolean, true or false (not a string)"
    if name == "duration" and kind == "string":
        return f'send the duration as a string of seconds, e.g. "{example or 5}"'
    if name == "duration" and kind == "int":
        return f"send the duration as an integer number of seconds, e.g. {example or 5}"
    if kind in ("int", "float") and "minimum" in schema:
        return f"send a number from {schema['minimum']} to {schema['maximum']}"
    return None


def args_schema(
    entry: Entry, reading: Mapping[str, Any], defs: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the JSON Schema of a model's args (without the x-shortapi block)."""
    complete = bool(entry["complete"])
    skip = set(reading.get("skip_inputs", []))
    inputs = [i for i in entry["inputs"] if i["name"] not in skip]
    properties = {str(i["name"]): property_schema(i, complete=complete) for i in inputs}
    properties.update(copy.deepcopy(reading.get("add_properties", {})))
    for name, extra in reading.get("properties", {}).items():
        merged = {**properties[name], **extra}
        properties[name] = {k: v for k, v in merged.items() if v is not None}
    model = str(entry["model"])
    doc: dict[str, Any] = {
        "$schema": SCHEMA,
        "$id": BASE_ID + file_name(model),
        "title": f"{model} args",
        "description": f"The `args` object of a create request for {model}, as its page states "
        + ("it." if complete else f"it; the page was only partly seen ({entry.get('cut_note')}).")
        + " Generated by mock_server/catalog/from_catalog.py from fixtures/catalog/models.json.",
        "type": "object",
    }
    if complete:
        doc["additionalProperties"] = False
    # Required and defaulted on a page: required (A-required-with-default).
    doc["required"] = [str(i["name"]) for i in inputs if i.get("required")]
    doc["properties"] = properties
    if reading.get("allOf"):
        doc["allOf"] = copy.deepcopy(reading["allOf"])
    return doc


def _refs(node: Any) -> set[str]:
    """Return the names of the local definitions `node` refers to, with theirs."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref.removeprefix("#/$defs/"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _closure(names: set[str], defs: Mapping[str, Any]) -> set[str]:
    done: set[str] = set()
    while names - done:
        name = (names - done).pop()
        done.add(name)
        names |= _refs(defs.get(name, {}))
    return done


def model_document(
    entry: Entry, defs: Mapping[str, Any], reading: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the model file of one catalogue entry: args schema, x-shortapi block, example."""
    reading = reading or {}
    doc = args_schema(entry, reading, defs)
    used = _closure(_refs(doc), defs)
    doc["$defs"] = {name: copy.deepcopy(defs[name]) for name in defs if name in used}
    notes = [n for n in (entry.get("notes"), reading.get("notes")) if n]
    doc["x-shortapi"] = {
        "model": str(entry["model"]),
        "category": str(entry["category"]),
        "output": output_of(str(entry["category"])),
        "complete": bool(entry["complete"]),
        "cut_note": entry.get("cut_note"),
        "pricing": pricing_block(entry, doc["properties"], reading),
        "rules": list(reading.get("rules", [])),
        "media": media_block(entry, doc["properties"], reading),
        "sources": [str(entry["source"])],
        "used_by": [str(u) for u in entry.get("used_by") or []],
        "notes": "; ".join(str(n) for n in notes) or None,
    }
    doc["examples"] = [copy.deepcopy(reading["example"]) if "example" in reading else example(doc)]
    from jsonschema import Draft202012Validator  # generating or importing a page only

    errors = list(Draft202012Validator(doc).iter_errors(doc["examples"][0]))
    if errors:
        raise ValueError(f"{entry['model']}: the example is invalid: {errors[0].message}")
    return doc


def example(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return minimal args: the required inputs (and a prompt), each at its default or first
    option, images and videos as example URLs."""
    properties: Mapping[str, Any] = doc["properties"]
    names = [n for n in properties if n in doc.get("required", []) or n == "prompt"]
    out: dict[str, Any] = {}
    for name in names:
        schema = properties[name]
        if "default" in schema:
            out[name] = schema["default"]
        elif "enum" in schema:
            out[name] = schema["enum"][0]
        elif _refs(schema) & IMAGE_DEFS and schema.get("type") == "array":
            out[name] = [EXAMPLE_IMAGE.format(n=1)]
        elif _refs(schema) & IMAGE_DEFS:
            out[name] = EXAMPLE_IMAGE.format(
                n=sum(str(v).startswith("https") for v in out.values()) + 1
            )
        elif _refs(schema) & {"video_url"}:
            out[name] = EXAMPLE_VIDEO
        elif "minimum" in schema:
            out[name] = schema["minimum"]
        else:
            out[name] = EXAMPLE_TEXT
    return out


def dumps(value: Any, indent: int = 0, prefix: int = 0) -> str:
    """Return `value` as indented JSON, short lists and objects kept on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value or indent + prefix + len(flat) <= WIDTH:
        return flat
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            label = json.dumps(key, ensure_ascii=False)
            parts.append(f"{inner}{label}: {dumps(item, indent + 2, len(label) + 2)}")
    else:
        parts = [inner + dumps(item, indent + 2) for item in value]
    bracket = "{}" if isinstance(value, dict) else "[]"
    return bracket[0] + "\n" + ",\n".join(parts) + "\n" + " " * indent + bracket[1]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, doc: Any) -> None:
    path.write_text(dumps(doc) + "\n", encoding="utf-8")


def sync_defs(folder: Path) -> list[str]:
    """Copy kling-o1's image definitions into _defs.json, and the shared definitions into every
    generated model file; return the names of the files changed."""
    shared = _load(folder / DEFS_FILE)
    kling = _load(folder / KLING_FILE)["$defs"]
    changed = []
    if any(shared["$defs"].get(n) != kling[n] for n in KLING_DEFS):
        shared["$defs"].update({n: kling[n] for n in KLING_DEFS})
        _write(folder / DEFS_FILE, shared)
        changed.append(DEFS_FILE)
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_") or path.name == KLING_FILE:
            continue
        doc = _load(path)
        defs = doc.get("$defs", {})
        fresh = {n: shared["$defs"].get(n, d) for n, d in defs.items()}
        if fresh != defs:
            doc["$defs"] = fresh
            _write(path, doc)
            changed.append(path.name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Write the model files (or, with --sync-defs, refresh their shared definitions)."""
    root = data_dir("schemas")
    parser = argparse.ArgumentParser(prog="python -m mock_server.catalog.from_catalog")
    parser.add_argument(
        "--catalog", type=Path, default=root.parent / "fixtures/catalog/models.json"
    )
    parser.add_argument("--out", type=Path, default=root / "models")
    parser.add_argument("--force", action="store_true", help="rewrite files that exist")
    parser.add_argument("--sync-defs", action="store_true", help="only refresh shared definitions")
    parser.add_argument(
        "--media", action="store_true", help="only refresh the media readers of existing files"
    )
    args = parser.parse_args(argv)
    if args.sync_defs:
        print("\n".join(sync_defs(args.out)) or "definitions already in agreement")
        return 0
    defs = _load(args.out / DEFS_FILE)["$defs"]
    readings = _load(Path(__file__).with_name("readings.json"))["models"]
    for entry in _load(args.catalog):
        if not served(entry) or entry["model"] in HAND_WRITTEN:
            continue
        path = args.out / file_name(entry["model"])
        if args.media and path.exists():
            doc = _load(path)
            media = media_block(entry, doc["properties"], readings.get(entry["model"]))
            if doc["x-shortapi"]["media"] != media:
                doc["x-shortapi"]["media"] = media
                _write(path, doc)
                print(path)
            continue
        if path.exists() and not args.force:
            continue
        _write(path, model_document(entry, defs, readings.get(entry["model"])))
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover - the script
    raise SystemExit(main())
