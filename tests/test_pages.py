"""Model pages: the seed page imported, every shipped model file rendered and read back, the
pricing text forms, and `shortapi-mock models import` from a file and from a URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mock_server import create_app
from mock_server.catalog import page_facts, pages, pricing_text, registry
from mock_server.data import schemas
from mock_server.serve import cli
from mock_server.testing import TEST_CONFIG
from mock_server.testing.servers import ThreadedServer

SEED = Path(__file__).resolve().parent.parent / "fixtures/pages/seed-kling-o1-image-to-video.md"
SHIPPED = sorted(registry.SHIPPED.values(), key=lambda s: s.id)
KLING = "models/kling-o1-image-to-video.args.json"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def test_the_seed_page_imports_as_the_shipped_kling_o1_file(seed_text: str) -> None:
    doc = pages.parse(seed_text, source=str(SEED))
    shipped = schemas.load(KLING)
    assert Draft202012Validator(doc).is_valid(doc["examples"][0])  # the page's own example
    assert doc["examples"][0] == shipped["examples"][0]
    assert list(doc["properties"]) == list(shipped["properties"])
    assert doc["required"] == shipped["required"]
    for name, node in shipped["properties"].items():
        ours = doc["properties"][name]
        assert pages.schema_type(ours, doc) == pages.schema_type(node, shipped), name
        for key in ("enum", "default"):
            assert ours.get(key) == node.get(key), (name, key)
    assert doc["properties"]["elements"]["items"] == {"$ref": "#/$defs/element"}
    block = doc["x-shortapi"]
    assert (block["category"], block["output"]) == ("image-to-video", "videos")
    assert block["pricing"]["unit"] == "second"
    assert block["pricing"]["rates"] == shipped["x-shortapi"]["pricing"]["rates"]
    assert block["pricing"]["by"] == {"mode": {"arg": "mode"}}
    assert pages.CANNOT_KNOW in block["notes"]
    assert "read as a field of elements items" in block["notes"]  # the one-line page's nesting
    assert "result.images" in block["notes"]  # the page template's quirk, said


def test_the_seed_page_round_trips_through_the_rendered_page(seed_text: str) -> None:
    """Done when: page -> model file -> /api/skill/ page -> the same model file."""
    first = pages.parse(seed_text)
    again = pages.parse(pages.render(first))
    assert page_facts.differences(first, again) == []
    assert again["examples"] == first["examples"]


@pytest.mark.parametrize("spec", SHIPPED, ids=lambda s: s.id)
def test_every_shipped_model_round_trips_exactly(spec: registry.ModelSpec) -> None:
    doc = schemas.load(spec.args_schema)
    back = pages.parse(pages.render(doc))
    assert page_facts.differences(doc, back) == []
    assert back["examples"] == doc["examples"][:1]


def test_differences_name_each_field() -> None:
    doc = schemas.load(KLING)
    other = copy.deepcopy(doc)
    other["properties"]["mode"]["enum"] = ["std", "pro", "max"]
    other["required"].remove("action")
    other["x-shortapi"]["pricing"]["rates"][0]["usd"] = "0.08"
    where = [d[0] for d in page_facts.differences(doc, other)]
    assert where == ["pricing", "inputs.action.required", "inputs.mode.enum"]


@pytest.mark.parametrize(
    ("text", "unit", "rates"),
    [
        ("$0.06 per request.", "request", [{"when": {}, "usd": "0.06"}]),
        ("The price is $0.03 per image.", "image", [{"when": {}, "usd": "0.03"}]),
        (
            "Standard mode costs $0.075 per second, Pro mode $0.1 per second.",
            "second",
            [{"when": {"mode": "std"}, "usd": "0.075"}, {"when": {"mode": "pro"}, "usd": "0.1"}],
        ),
        (
            "Without audio $0.06 per second; with audio $0.12 per second.",
            "second",
            [{"when": {"audio": False}, "usd": "0.06"}, {"when": {"audio": True}, "usd": "0.12"}],
        ),
    ],
)
def test_prose_prices_are_read(text: str, unit: str, rates: list[dict[str, Any]]) -> None:
    properties = {"mode": {"type": "string", "enum": ["std", "pro"]}}
    block, notes = pricing_text.read_pricing(text, properties)
    assert (block["unit"], block["rates"]) == (unit, rates)
    assert notes == []


def test_an_unread_price_is_kept_at_zero_with_the_page_text() -> None:
    block, notes = pricing_text.read_pricing("Contact sales for a quote.", {})
    assert block["rates"] == [{"when": {}, "usd": "0", "note": "price not read from the page"}]
    assert block["page"] == "Contact sales for a quote."
    assert "pricing not read" in notes[0]


@pytest.mark.parametrize(
    "text",
    [
        "# nothing here",
        "- **Model ID**: `a/b` - **Category**: text-to-video",  # no inputs
        "- **Model ID**: `a/b` - **Category**: poems ### Input Schema",
    ],
)
def test_a_page_that_is_not_a_model_page_is_refused(text: str) -> None:
    with pytest.raises(pages.PageError):
        pages.parse(text)


def test_models_import_writes_a_file_serve_loads(
    seed_text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "models"
    assert cli.main(["models", "import", str(SEED), "--models-dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    written = folder / "kling-o1-image-to-video.args.json"
    assert f"wrote {written}" in out and "cannot read: " in out
    spec = registry.check_file(written)
    assert spec.id == "kwaivgi/kling-o1/image-to-video"
    # a shipped model: said so, and its cross-field rules (which a page cannot say) kept
    shipped = registry.SHIPPED[spec.id]
    assert shipped.rules and spec.rules == shipped.rules
    assert "is a shipped model" in err and shipped.rules[0] in err
    # refused without --force, written with it
    assert cli.main(["models", "import", str(SEED), "--models-dir", str(folder)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["models", "import", str(SEED), "--models-dir", str(folder), "--force"]) == 0
    capsys.readouterr()
    try:
        assert cli.main(["models", "list", "--models-dir", str(folder)]) == 0
        assert "complete, user file replacing the shipped one" in capsys.readouterr().out
        args = cli.build_parser().parse_args(["serve", "--models-dir", str(folder)])
        banner = cli.banner("http://127.0.0.1:8000", args)
        assert f"models dir {folder}: replaces the shipped {spec.id}" in banner
    finally:
        registry.unload_user_models()


def test_models_import_reads_a_served_mocks_skill_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = "google/veo-3.1/text-to-video"
    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        url = f"{server.base_url}/api/skill/{model}"
        assert cli.main(["models", "import", url, "--models-dir", str(tmp_path)]) == 0
        missing = f"{server.base_url}/api/skill/no/such-model"
        assert cli.main(["models", "import", missing, "--models-dir", str(tmp_path)]) == 2
    assert "404" in capsys.readouterr().err
    written = json.loads((tmp_path / "veo-3.1-text-to-video.args.json").read_text())
    assert page_facts.differences(schemas.load(registry.SHIPPED[model].args_schema), written) == []


def test_models_import_says_what_it_cannot_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("not a page", encoding="utf-8")
    assert cli.main(["models", "import", str(page), "--models-dir", str(tmp_path)]) == 2
    assert cli.main(["models", "import", str(tmp_path / "absent.md")]) == 2
