"""The per-model strategies (`strategies.per_model`) and the result-files property: valid
means valid for every model, a break breaks one keyword, a wrong file kind is caught."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.catalog import pricing
from mock_server.catalog.registry import MODELS
from mock_server.contract import plan, profiles, strategies
from mock_server.contract.session import ContractSession
from mock_server.contract.targets import InProcessTarget
from mock_server.contract.wire import Secret

from . import properties

pytestmark = pytest.mark.kit
SUNO = "suno/suno-v5/generate"
MOTION = "kwaivgi/kling-3.0/motion-control"


@pytest.fixture(scope="module")
def session() -> Iterator[ContractSession]:
    """A contract session on the in-process mock."""
    contract = ContractSession(InProcessTarget(), Secret("sk-kit-per-model"))
    yield contract
    contract.close()


def test_kling_keeps_its_own_strategies_and_the_others_are_cached() -> None:
    kling = strategies.MODEL.id
    assert strategies.valid_args_for(kling) is strategies.valid_args
    assert strategies.valid_requests_for(kling) is strategies.valid_requests
    assert strategies.valid_args_for(SUNO) is strategies.valid_args_for(SUNO)
    assert strategies.schema_breaks_for(SUNO) is strategies.schema_breaks_for(SUNO)


def test_every_model_has_a_valid_first_example_priced_as_the_bound() -> None:
    """The fallback of every model is valid, and a paid run reserves exactly its price."""
    for model_id in sorted(MODELS):
        args = strategies.example_args(model_id)
        body = {"model": model_id, "args": args}
        assert strategies.error_pointers(body) == set(), model_id
        assert strategies.price_bound(body) == pricing.amount(MODELS[model_id], args)


def test_suno_requests_meet_the_mode_conditions() -> None:
    """The allOf if/then of suno hold: each mode's required field, no other mode's field."""

    @profiles.contract_settings(max_examples=30)
    @given(strategies.valid_requests_for(SUNO))
    def check(body: dict[str, object]) -> None:
        args = body["args"]
        assert isinstance(args, dict)
        if args["mode"] == "custom":
            assert "title" in args and "gpt_description_prompt" not in args
        else:
            assert "gpt_description_prompt" in args and "title" not in args
        assert strategies.error_pointers(body) == set()

    check()


def test_bare_base64_images_where_the_schema_takes_them() -> None:
    """kling-3.0 motion-control takes an image URL or bare base64 (no data: prefix)."""
    images = strategies.image_values(
        strategies.resolved(MODELS[MOTION].args_schema)["properties"]["image"]
    )

    @profiles.contract_settings(max_examples=30)
    @given(images)
    def check(value: str) -> None:
        assert not value.startswith("data:")
        if not value.lower().startswith("http"):
            assert base64.b64decode(value, validate=True)

    check()


@pytest.mark.parametrize("model_id", [SUNO, MOTION, "alibaba/wan-2.6/image-to-image"])
def test_breaks_break_one_keyword_of_the_model(model_id: str) -> None:
    breaks = strategies.schema_breaks_for(model_id)
    assert breaks and all(label.startswith("schema.") for label in breaks)
    assert not [b for b in breaks if "maxLength" in b and b.endswith(":then")]  # megabytes

    @profiles.contract_settings(max_examples=20)
    @given(st.sampled_from(sorted(breaks)).flatmap(lambda label: breaks[label]))
    def check(broken: strategies.BrokenRequest) -> None:
        assert broken.pointer is not None and broken.pointer.startswith("/args")
        assert strategies.error_pointers(broken.json()) == {broken.pointer}

    check()


def test_result_files_catch_a_file_of_the_wrong_kind(session: ContractSession) -> None:
    body = {"model": SUNO, "args": strategies.example_args(SUNO)}
    run = session.client.run(plan.job("kit/suno", body))
    properties.check_result_files(
        run, lambda url: (200, "image/jpeg" if "cover" in url else "audio/wav", b"x")
    )
    with pytest.raises(properties.PropertyFailed, match="result-files"):
        properties.check_result_files(run, lambda url: (200, "video/mp4", b"x"))
    with pytest.raises(properties.PropertyFailed, match="HTTP 404"):
        properties.check_result_files(run, lambda url: (404, "audio/wav", b"x"))
