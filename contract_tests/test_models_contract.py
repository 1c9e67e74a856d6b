"""The contract's properties for every served model, each with a small budget of examples.

For each model in the catalogue: a valid request generated from its own args schema
(`strategies.valid_requests_for`) is accepted at its price and runs to success on each clock
(manual, per-poll, realtime at high speed), its files under the model's output key and of
its kind; a request breaking one keyword of its args schema (`strategies.schema_breaks_for`)
answers 4xx and the envelope, X-Mock-Errors naming the break's pointer.

Bounds: on a mock (generative targets) the examples `CLOCKS` says per model and clock, and
`BREAK_EXAMPLES` breaks per model; another profile scales them (`_scaled`: contract-smoke
to 1 each, contract-ci x5, contract-nightly x20). A paid or black-box target (live, a URL
without controls) gets nothing here unless ``--shortapi-models`` names the model: then one
job, its model file's first example (documented, fetchable inputs), through the run's
budget; breaks are not sent to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from mock_server.catalog.registry import MODELS
from mock_server.contract import plan, profiles, strategies
from mock_server.contract.client import JobRun
from mock_server.contract.session import ContractSession
from mock_server.contract.targets import HTTP_TIMEOUT
from mock_server.contract.wire import WireRequest

from . import properties

MODEL_IDS = sorted(MODELS)
CLOCKS: dict[str, tuple[float | None, int]] = {
    "manual": (None, 3),
    "per-poll": (None, 2),
    "realtime": (1000.0, 1),  # x1000: a job of a few minutes is over in a fraction of a second
}
"""Clock mode -> (speed, examples per model on a mock under the default profile)."""
BREAK_EXAMPLES = 3  # one-keyword breaks per model on a mock under the default profile
_DEFAULT_EXAMPLES: int = profiles.PROFILES[profiles.DEFAULT]["max_examples"]


def _scaled(examples: int) -> int:
    """Return `examples` scaled as the loaded profile is to the default (at least 1)."""
    loaded: int = profiles.active().max_examples
    return max(1, examples * loaded // _DEFAULT_EXAMPLES)


def _named(config: pytest.Config) -> set[str]:
    return {m.strip() for m in config.getoption("--shortapi-models").split(",") if m.strip()}


@contextlib.contextmanager
def _clock(contract: ContractSession, mode: str, speed: float | None) -> Iterator[None]:
    """Run the block with the target's clock in `mode`, then put the old mode back."""
    controls = contract.target.controls
    assert controls is not None
    before, old_speed = controls.clock_mode()
    controls.set_clock(mode, speed=speed)
    try:
        yield
    finally:
        controls.set_clock(before, speed=old_speed)


def _fetch(contract: ContractSession) -> properties.Fetch:
    """Return a fetcher of result files: through the target when it serves them."""

    def fetch(url: str) -> tuple[int, str, bytes]:
        base = contract.target.base_url
        if url.startswith(base + "/"):
            parts = urlsplit(url)
            request = WireRequest("GET", parts.path, parts.query, authorization=None)
            response = contract.target.send(request, contract.key)
            return response.status, response.header("Content-Type") or "", response.body
        with requests.get(url, timeout=HTTP_TIMEOUT) as answer:  # a paid target's CDN
            return answer.status_code, answer.headers.get("Content-Type", ""), answer.content

    return fetch


def _check_job(contract: ContractSession, run: JobRun) -> None:
    properties.check_accepted(run, exact=contract.exact)
    properties.check_query_schema(run)
    properties.check_status_order(run)
    properties.check_result_files(run, _fetch(contract))


@pytest.mark.parametrize("clock", sorted(CLOCKS))
@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_valid_requests_of_every_model_run_to_success(
    contract: ContractSession, pytestconfig: pytest.Config, model_id: str, clock: str
) -> None:
    """valid-create, query-schema, status-order, result-files: per model and clock."""
    if not contract.target.generative:
        if clock != "manual" or model_id not in _named(pytestconfig):
            pytest.skip("on a paid or black-box target: the models --shortapi-models names")
        body = {"model": model_id, "args": strategies.example_args(model_id)}
        _check_job(contract, contract.client.run(plan.job(f"model/{model_id}", body)))
        return
    speed, examples = CLOCKS[clock]

    @profiles.contract_settings(max_examples=_scaled(examples))
    @given(strategies.valid_requests_for(model_id))
    def runs_to_success(body: dict[str, object]) -> None:
        # No callback receiver: the callback properties are kling's (test_properties.py).
        _check_job(contract, contract.client.run(plan.job(f"model/{model_id}", body)))

    with _clock(contract, clock, speed):
        runs_to_success()


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_one_break_of_every_model_answers_the_envelope(
    contract: ContractSession, model_id: str
) -> None:
    """invalid-rejected per model: 4xx, the envelope, X-Mock-Errors naming the break."""
    if not contract.target.generative:
        pytest.skip("per-model breaks are sent to a mock only (kling's plan probes the rest)")
    breaks = strategies.schema_breaks_for(model_id)
    chosen = st.sampled_from(sorted(breaks)).flatmap(lambda label: breaks[label])

    @profiles.contract_settings(max_examples=_scaled(BREAK_EXAMPLES))
    @given(chosen.map(plan.from_broken))
    def rejected(item: plan.PlanItem) -> None:
        properties.check_rejected(contract.run(item), exact=contract.exact)

    rejected()
