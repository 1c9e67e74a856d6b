"""The schemas, the OpenAPI document and the assumptions register hold together."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mock_server.catalog.registry import MODELS
from mock_server.data import schemas

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted(
    str(p.relative_to(ROOT / "schemas"))
    for p in (ROOT / "schemas").rglob("*.json")
    if p.name not in ("openapi.json", "assumptions.json")
)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(schemas.load(name))


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_examples_validate(name: str) -> None:
    for example in schemas.load(name).get("examples", []):
        schemas.validator(name).validate(example)


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_assumptions_register_is_valid_and_unique() -> None:
    register = schemas.load("assumptions.json")
    schemas.validator("assumptions.schema.json").validate(register)
    ids = [entry["id"] for entry in register["assumptions"]]
    assert len(ids) == len(set(ids))


def test_every_assumption_named_in_schemas_and_code_is_registered() -> None:
    named = {
        node["x-assumption"]
        for name in SCHEMA_FILES
        for node in _walk(schemas.load(name))
        if "x-assumption" in node
    }
    for source in (ROOT / "mock_server").rglob("*.py"):
        named |= set(re.findall(r"\bA-[a-z0-9]+(?:-[a-z0-9]+)*", source.read_text()))
    assert named, "nothing names an assumption"
    assert named - schemas.assumption_ids() == set()


def test_format_checker_rejects_a_bad_uri_in_responses() -> None:
    bad = {
        "code": 0,
        "data": {
            "id": "j",
            "status": 2,
            "result": {"images": [{"url": "http://exa mple.com/x.mp4"}]},
        },
    }
    assert list(schemas.validator("query-response.json").iter_errors(bad))


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"id": "j", "status": 0}, True),
        ({"id": "j", "status": 1}, True),
        ({"id": "j", "status": 2, "result": {"videos": [{"url": "https://x/y.mp4"}]}}, True),
        ({"id": "j", "status": 3, "refunded": True, "reason": "timeout"}, True),
        ({"id": "j", "status": 2}, False),
        ({"id": "j", "status": 0, "result": {"images": [{"url": "https://x/y.mp4"}]}}, False),
        ({"id": "j", "status": 3, "reason": "timeout"}, False),
        ({"id": "j", "status": 4}, False),
        ({"id": "j", "status": 2, "result": {"images": []}}, False),
    ],
)
def test_query_schema_ties_fields_to_status(data: dict[str, Any], valid: bool) -> None:
    errors = list(schemas.validator("query-response.json").iter_errors({"code": 0, "data": data}))
    assert (errors == []) is valid


def test_callback_schema_requires_job_id() -> None:
    validator = schemas.validator("callback.json")
    assert validator.is_valid({"code": 0, "data": {"id": "j", "job_id": "j", "status": 0}})
    assert not validator.is_valid({"code": 0, "data": {"id": "j", "status": 0}})


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_bundled_openapi_refs_all_resolve() -> None:
    document = schemas.bundled_openapi((m.id, m.args_schema) for m in MODELS.values())
    refs = [node["$ref"] for node in _walk(document) if isinstance(node.get("$ref"), str)]
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        assert _resolve(document, ref) is not None
    json.dumps(document)  # serialisable


def test_bundled_request_schema_validates_the_docs_example() -> None:
    document = schemas.bundled_openapi((m.id, m.args_schema) for m in MODELS.values())
    schema = {
        **document["components"]["schemas"]["CreateRequest"],
        "components": document["components"],
    }
    args = schemas.load("models/kling-o1-image-to-video.args.json")["examples"][0]
    example = {"model": "kwaivgi/kling-o1/image-to-video", "args": args}
    Draft202012Validator(schema).validate(example)
    assert not Draft202012Validator(schema).is_valid({**example, "model": "other"})
