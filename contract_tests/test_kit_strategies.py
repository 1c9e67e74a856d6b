"""The strategies of `mock_server.contract.strategies`: valid means valid, each break
breaks one rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.catalog import pricing
from mock_server.catalog.registry import MODELS
from mock_server.contract import drift, plan, profiles, strategies
from mock_server.contract.targets import InProcessTarget
from mock_server.contract.wire import Secret, WireRequest
from mock_server.data import schemas
from mock_server.validation.request import validate_create

from . import machine, properties

pytestmark = pytest.mark.kit
KEY = Secret("sk-kit-strategies")


@pytest.fixture(scope="module")
def mock() -> Iterator[InProcessTarget]:
    """The in-process mock."""
    target = InProcessTarget()
    yield target
    target.close()


def test_valid_requests_pass_every_schema_and_rule() -> None:
    """Valid requests: no error and no warning from the mock's own validation."""

    @profiles.contract_settings(max_examples=40)
    @given(st.one_of(strategies.valid_requests, strategies.live_requests))
    def valid(body: dict[str, object]) -> None:
        checked = validate_create(body)
        assert checked.warnings == ()
        assert pricing.amount(checked.model, checked.args) == strategies.price_bound(body)

    valid()


def test_live_requests_use_the_model_pages_own_images() -> None:
    """Paid jobs use the images of the model page's own example (a real API fetches them)."""
    assert strategies.documented_images

    @profiles.contract_settings()
    @given(strategies.live_args)
    def documented(args: dict[str, list[str]]) -> None:
        assert set(args["images"]) <= set(strategies.documented_images)

    documented()


@pytest.mark.parametrize("label", sorted(strategies.LENIENT_BREAKS))
def test_each_lenient_break_is_accepted_with_only_its_warning(
    label: str, mock: InProcessTarget
) -> None:
    """Lenient rules: accepted, and X-Mock-Warnings names only that rule."""

    @profiles.contract_settings(max_examples=min(profiles.active().max_examples, 4))
    @given(strategies.LENIENT_BREAKS[label])
    def one(broken: strategies.BrokenRequest) -> None:
        response = mock.send(WireRequest.from_broken(broken), KEY)
        warned = json.loads(response.header("X-Mock-Warnings") or "[]")
        assert response.accepted and {w["rule"] for w in warned} == {broken.rule}

    one()


def test_invalid_requests_reach_many_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """Measure how many distinct rule violations one run of `invalid_requests` reaches.

    Hypothesis dwells on a few of the 59 labels, so the contract tests take each label's
    strategy in turn (`strategies.BREAKS`); this measures the single strategy alone.
    """
    reached: set[str] = set()

    @profiles.contract_settings(max_examples=60)
    @given(strategies.invalid_requests)
    def collect(broken: strategies.BrokenRequest) -> None:
        reached.add(broken.label)

    collect()
    with capsys.disabled():
        print(
            f"\ninvalid_requests reached {len(reached)} of {len(strategies.BREAKS)} rule "
            "violations in 60 examples"
        )
    assert len(reached) >= len(strategies.BREAKS) // 6


def test_schema_breaks_cover_every_keyword_of_the_request_schemas() -> None:
    """Every constraining keyword of the envelope and args schemas has a break."""
    keywords = ("type", "enum", "minLength", "maxLength", "pattern", "minItems", "maxItems")
    expected = {
        f"schema.{k}:{spot.where}"
        for spot in strategies.SPOTS.values()
        for k in keywords
        if k in spot.schema
        and (k != "type" or spot.path)
        and not (k.startswith("min") and spot.schema[k] == 0)
    }
    assert expected <= set(strategies.SCHEMA_BREAKS)
    assert {"schema.required:/args/mode", "schema.additionalProperties:/args/*"} <= set(
        strategies.SCHEMA_BREAKS
    )


def test_image_urls_match_the_schema() -> None:
    """Generated images are URLs of the schema's URL form (its pattern, ``format: uri``) or
    small data: URIs, and the mock takes them without an error or a warning."""
    pattern = re.compile(strategies.ARGS["$defs"]["image_http_url"]["pattern"])
    args_schema = schemas.validator(MODELS[strategies.MODEL.id].args_schema)
    forms: set[str] = set()

    @profiles.contract_settings(max_examples=50)
    @given(strategies.image_urls)
    def matches(url: str) -> None:
        args = {"mode": "std", "action": "refer", "prompt": "p", "images": [url]}
        assert url in strategies.DATA_URIS or pattern.search(url)
        assert args_schema.is_valid(args)
        assert validate_create({"model": strategies.MODEL.id, "args": args}).warnings == ()
        forms.add("data" if url.startswith("data:") else "url")

    matches()
    assert forms == {"data", "url"}


def _named_ids() -> set[str]:
    ids = {a for b in strategies.SCHEMA_BREAKS.values() for a in b.assumptions}
    ids |= set(strategies.ALWAYS) | set(plan.JOB_ASSUMPTIONS) | set(plan.FAILED_JOB_ASSUMPTIONS)
    ids |= {
        a for p in (*properties.PROPERTIES, machine.FAULT, machine.ACCOUNT) for a in p.assumptions
    }
    ids |= {fallback for _, fallback in drift.MESSAGES.values()}
    for table in (strategies.RULE_BREAKS, strategies.TRANSPORT_BREAKS, strategies.LENIENT_BREAKS):
        for strategy in table.values():
            ids |= set(_sample(strategy).assumptions)
    return ids


def _sample(strategy: st.SearchStrategy[strategies.BrokenRequest]) -> strategies.BrokenRequest:
    from hypothesis import HealthCheck, Phase, find, settings

    return find(
        strategy,
        lambda _: True,
        settings=settings(
            database=None,
            derandomize=True,
            phases=(Phase.generate,),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_every_assumption_named_by_the_suite_is_registered() -> None:
    """Every id a property, break, plan item or drift rule names is in assumptions.json."""
    named = _named_ids()
    assert named - schemas.assumption_ids() == set()
    assert len(named) >= 25
