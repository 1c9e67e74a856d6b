"""Docs drift: each model's documentation page on a target (``GET /api/skill/<model>``),
read back with the importer and compared with the mock's model file.

`check` fetches the page of every model the mock serves, parses it
(`mock_server.catalog.pages.parse`) and lists each fact a page carries that disagrees with our
file (`page_facts.differences`: category, output, pricing rates, each input's type, enum,
default, required-ness and bounds) as a `Disagreement` of kind ``docs`` in a `DriftReport`,
the form of the contract suite's drift report. A page that is missing or not readable is one
disagreement too. The pages are public: no key is sent (A-skill-page-format).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mock_server.catalog import page_facts, pages, registry
from mock_server.data import schemas

from .drift import Disagreement
from .report import DriftReport
from .targets import Target
from .wire import Exchange, Secret, WireRequest, WireResponse

DOCS_URL = "https://shortapi.ai"  # where the live API serves /api/skill/<model>
SKILL_PATH = "/api/skill/"
KIND = "docs"
ASSUMPTION = "A-skill-page-format"


def page_request(model: str) -> WireRequest:
    """Return the request of a model's page (no key: the page is public)."""
    return WireRequest("GET", SKILL_PATH + model, authorization=None)


def _one(item: str, detail: str, mock: Any, target: Any, exchange: Exchange) -> Disagreement:
    return Disagreement(item, KIND, detail, mock, target, (ASSUMPTION,), exchange)


def compare_page(model: str, response: WireResponse, base_url: str) -> list[Disagreement]:
    """Return the disagreements between a target's page of `model` and our model file."""
    item = f"docs {model}"
    exchange = Exchange(page_request(model), response, base_url=base_url)
    if response.status != 200:
        return [
            _one(
                item,
                f"the target has no page (HTTP {response.status})",
                200,
                response.status,
                exchange,
            )
        ]
    ours = schemas.load(registry.MODELS[model].args_schema)
    try:
        theirs = pages.parse(response.body.decode("utf-8", "replace"), source=base_url)
    except pages.PageError as exc:
        return [_one(item, f"the page cannot be read: {exc}", "a model page", str(exc), exchange)]
    return [
        _one(
            item,
            f"{where}: the mock's file has {mine!r}, the page says {other!r}",
            mine,
            other,
            exchange,
        )
        for where, mine, other in page_facts.differences(ours, theirs)
    ]


def check(target: Target, models: Iterable[str] | None = None) -> DriftReport:
    """Fetch the page of each model (default: every model the mock serves) from `target`;
    return the report of every difference. Raises `TargetError` when the target cannot be
    reached."""
    report = DriftReport(f"{target.name} docs", target.where)
    for model in sorted(models if models is not None else registry.MODELS):
        response = target.send(page_request(model), Secret(""))
        report.compared.append(f"docs {model}")
        report.disagreements += compare_page(model, response, target.base_url)
    return report
