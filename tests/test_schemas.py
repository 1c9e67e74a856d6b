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
            **RECORD,
            "status": 2,
            "finished_at": RECORD["created_at"],
            "result": {"images": [{"url": "http://exa mple.com/x.mp4"}]},
        },
    }
    assert list(schemas.validator("query-response.json").iter_errors(bad))


RECORD: dict[str, Any] = {
    "id": "6a2753bc6797e45ded9f3025",
    "key_name": "default",
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {"prompt": "p"},
    "credit": "0.375",
    "refunded": False,
    "created_at": "2026-12-01T09:34:12.123Z",
    "updated_at": "2026-12-01T09:34:12.123Z",
}
DONE = {"finished_at": "2026-12-01T09:34:22.123Z"}
FAILED = {**DONE, "refunded": True, "error": "timeout"}
VIDEOS = {"result": {"videos": [{"url": "https://x/y.mp4"}]}}


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"status": 0}, True),
        ({"status": 1}, True),
        ({"status": 2, **DONE, **VIDEOS}, True),
        ({"status": 2, **DONE, "result": {"musics": [{"url": "https://x/y.mp3"}]}}, True),
        ({"status": 3, **FAILED}, True),
        ({"status": 4, **FAILED}, True),
        ({"status": 2, **DONE}, False),
        ({"status": 2, **VIDEOS}, False),
        ({"status": 0, **VIDEOS}, False),
        ({"status": 0, "error": "x"}, False),
        ({"status": 3, **FAILED, "refunded": False}, False),
        ({"status": 3, **DONE, "refunded": True}, False),
        ({"status": 5, **FAILED}, False),
        ({"status": 2, **DONE, "result": {"images": []}}, False),
        ({"status": 0, "credit": 0.375}, False),
        ({"status": 0, "id": "0f6d3c2a9b8e4d7f8a1b2c3d4e5f6a7b"}, False),
        ({"status": 0, "created_at": "1765000000"}, False),
    ],
)
def test_query_schema_ties_fields_to_status(data: dict[str, Any], valid: bool) -> None:
    record = {**RECORD, **data}
    errors = list(schemas.validator("query-response.json").iter_errors({"code": 0, "data": record}))
    assert (errors == []) is valid


def test_callback_schema_requires_job_id() -> None:
    validator = schemas.validator("callback.json")
    record = {**RECORD, "status": 0}
    assert validator.is_valid({"code": 0, "data": {**record, "job_id": record["id"]}})
    assert not validator.is_valid({"code": 0, "data": record})


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
