"""The one loader of the JSON Schemas, the OpenAPI document and the assumptions register.

The files live in the repository's ``schemas/`` folder; in a wheel they are shipped as
``mock_server/_data/schemas``. Everything that reads a schema goes through this module.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use: an idle mock checks with jsonschema-rs only
    from jsonschema import Draft202012Validator
    from referencing import Registry

BASE_URI = "https://schemas.shortapi-mock.dev/"
LENIENT = "lenient:"  # prefix of a model file's name: its lenient variant (`lenient_args`)
_PACKAGE = Path(__file__).resolve().parent.parent  # mock_server/


def data_dir(name: str) -> Path:
    """Return the folder of shipped data `name` (``schemas``, ``videos`` or the contract suite,
    ``contract_tests``): in the wheel's ``_data``, else in the checkout."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    source = {
        "schemas": "schemas",
        "videos": "fixtures/videos",
        "contract_tests": "contract_tests",
    }[name]
    return _PACKAGE.parent / source


@functools.cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed JSON file `name`, a path relative to the schemas folder; a name
    prefixed `LENIENT` is the lenient variant of a model file (`lenient_args`)."""
    if name.startswith(LENIENT):
        return lenient_args(load(name.removeprefix(LENIENT)))
    with open(data_dir("schemas") / name, encoding="utf-8") as fh:
        document: dict[str, Any] = json.load(fh)
    return document


def lenient_args(document: dict[str, Any]) -> dict[str, Any]:
    """Return a model file's args schema as the live API reads it (A-envelope-unknown-keys,
    A-required-with-default): top-level keys it does not name allowed, and a field that is
    required *with a default* optional (the default applies). Nested objects stay as they are."""
    properties = document.get("properties", {})
    lenient = {k: v for k, v in document.items() if k != "additionalProperties"}
    if document.get("additionalProperties") not in (None, False):
        lenient["additionalProperties"] = document["additionalProperties"]
    if "required" in document:
        lenient["required"] = [
            k for k in document["required"] if "default" not in properties.get(k, {})
        ]
    return lenient


def args_variant(name: str, *, strict: bool) -> str:
    """Return the name `load` reads model file `name` under: itself when `strict`, else its
    lenient variant."""
    return name if strict else LENIENT + name


def _schema_files() -> list[str]:
    root = data_dir("schemas")
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*.json") if p.name != "openapi.json"
    )


@functools.cache
def registry() -> Registry:  # type: ignore[type-arg,unused-ignore]
    """Return a `referencing` registry holding every schema under its ``$id``."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for name in _schema_files():
        document = load(name)
        uri = document.get("$id", BASE_URI + name)
        resources.append((uri, Resource.from_contents(document, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """Return a validator for schema file `name` that also enforces ``format``."""
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    if "uri" not in checker.checkers:  # pragma: no cover - a broken install
        raise RuntimeError("format 'uri' is not enforced: install rfc3986-validator")
    return Draft202012Validator(load(name), registry=registry(), format_checker=checker)


@functools.cache
def fast_check(name: str) -> Callable[[Any], bool]:
    """Return a quick ``is_valid`` for schema file `name` (jsonschema-rs when installed).

    Only a yes/no: `validator` explains what is wrong. A test keeps the two in agreement.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a platform without wheels
        return validator(name).is_valid
    rust = jsonschema_rs.validator_for(load(name), validate_formats=True)
    checked: Callable[[Any], bool] = rust.is_valid
    return checked


def reload() -> None:
    """Forget every file read and validator built (a user model file changed on disk)."""
    for cached in (load, registry, validator, fast_check):
        cached.cache_clear()


def assumptions() -> list[dict[str, Any]]:
    """Return the entries of the assumptions register."""
    entries: list[dict[str, Any]] = load("assumptions.json")["assumptions"]
    return entries


def assumption_ids() -> set[str]:
    """Return the ids of the assumptions register."""
    return {entry["id"] for entry in assumptions()}


def _component_name(file_name: str) -> str:
    stem = Path(file_name).name.removesuffix(".json")
    return "".join(part.capitalize() for part in stem.replace(".", "-").split("-"))


def bundled_openapi(
    models: Iterable[tuple[str, str]], *, strict_args: bool = False
) -> dict[str, Any]:
    """Return the OpenAPI document with every file ``$ref`` inlined under components.

    `models` pairs a model id with its args schema file; the create request gets one
    ``oneOf`` branch per model, so tools that read only this document see every model.
    Unless `strict_args`, each model's args are its lenient variant (`lenient_args`), what
    the mock accepts by default.
    """
    document = copy.deepcopy(load("openapi.json"))
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    pending = [
        "create-request.json",
        "create-response.json",
        "query-response.json",
        "upload-response.json",
        "callback.json",
        "error.json",
    ]
    branches = []
    for model, file in models:
        args_file = args_variant(file, strict=strict_args)
        pending.append(args_file)
        branch: dict[str, Any] = {
            "title": model,
            "properties": {
                "model": {"const": model},
                "args": {"$ref": f"#/components/schemas/{_component_name(args_file)}"},
            },
        }
        block = load(args_file).get("x-shortapi", {})
        if block.get("complete") is False:  # A-partial-models
            cut = f" ({block['cut_note']})" if block.get("cut_note") else ""
            branch["description"] = (
                f"Partially documented: the model's page was cut{cut}. The args it shows are "
                "enforced; others are accepted with a warning (X-Mock-Warnings)."
            )
            branch["x-partial"] = True
        branches.append(branch)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        schema = copy.deepcopy(load(name))
        schema.pop("$id", None)
        schema.pop("$schema", None)
        prefix = f"#/components/schemas/{_component_name(name)}"
        schemas[_component_name(name)] = _rewrite_refs(schema, name, prefix, pending)
    if branches:
        schemas["CreateRequest"]["oneOf"] = branches
    return _rewrite_refs(document, "openapi.json", "#", [])  # type: ignore[no-any-return]


def _rewrite_refs(node: Any, owner: str, prefix: str, pending: list[str]) -> Any:
    """Point file refs at components and local refs at the owner's new place."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if value.startswith("#"):
                    value = prefix + value[1:] if prefix != "#" else value
                else:
                    target = str(Path(owner).parent / value) if "/" in owner else value
                    target = target.removeprefix("./")
                    pending.append(target)
                    value = f"#/components/schemas/{_component_name(target)}"
            out[key] = _rewrite_refs(value, owner, prefix, pending)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, owner, prefix, pending) for item in node]
    return node
