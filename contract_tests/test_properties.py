"""The contract's properties, checked against ``--shortapi-target``.

On a mock with controls hypothesis generates the requests; on a paid, black-box or replay
target each property is checked on the plan's answers (the plan is sent once per run).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st

from mock_server.contract import plan, profiles, strategies
from mock_server.contract.client import JobRun
from mock_server.contract.plan import PlanItem
from mock_server.contract.session import ContractSession

from . import properties

SCENARIOS = (None, "fail:content_policy", "fail:internal_error", "fail:timeout")
jobs = st.builds(
    lambda body, scenario: plan.job("generated", body, scenario=scenario),
    strategies.valid_requests,
    st.sampled_from(SCENARIOS),
)


def _label(prefix: str) -> Callable[[PlanItem], bool]:
    return lambda item: (item.rule or "").startswith(prefix)


def _checked(
    contract: ContractSession,
    kind: str,
    generated: st.SearchStrategy[PlanItem],
    check: Callable[[JobRun], None],
    *,
    only: Callable[[PlanItem], bool] | None = None,
    examples: int | None = None,
) -> None:
    if contract.each(kind, generated, check, only=only, examples=examples) == 0:
        why = "; ".join(sorted(set(contract.skipped.values()))) or "none in the plan"
        pytest.skip(f"no {kind} request was sent: {why}")


def _checked_rejected(
    contract: ContractSession,
    broken: st.SearchStrategy[strategies.BrokenRequest],
    *,
    only: Callable[[PlanItem], bool] | None = None,
    examples: int | None = None,
) -> None:
    """invalid-rejected: each `broken` request answers 4xx and the error envelope."""
    _checked(
        contract,
        "invalid",
        broken.map(plan.from_broken),
        lambda run: properties.check_rejected(run, exact=contract.exact),
        only=only,
        examples=examples,
    )


def test_valid_requests_answer_a_job_id_and_their_price(contract: ContractSession) -> None:
    """valid-create: code 0, a job id, and the amount equal to the price."""
    _checked(
        contract, "job", jobs, lambda run: properties.check_accepted(run, exact=contract.exact)
    )


@pytest.mark.parametrize("label", sorted(strategies.BREAKS))
def test_invalid_requests_answer_the_error_envelope_and_cost_nothing(
    contract: ContractSession, label: str
) -> None:
    """invalid-rejected: 4xx, the error envelope, no job, no charge (exact labels on a mock).

    One test per rule: a single strategy over all 59 dwells on a few of them.
    """
    _checked_rejected(
        contract,
        strategies.BREAKS[label],
        only=lambda item: item.name == f"invalid/{label}",
        examples=max(2, profiles.active().max_examples // 4),
    )


def test_bad_auth_answers_the_envelope(contract: ContractSession) -> None:
    """invalid-rejected for auth: no key or a malformed header answers 401 and the envelope."""
    _checked_rejected(contract, strategies.auth_breaks, only=_label("auth."))


def test_unknown_and_missing_job_ids_answer_the_envelope(contract: ContractSession) -> None:
    """invalid-rejected for queries: an unknown id answers 404, a missing id 400."""
    queries = st.one_of(
        strategies.BREAKS["query.unknown_id"], strategies.BREAKS["query.id_required"]
    )
    _checked_rejected(contract, queries, only=_label("query."))


def test_lenient_rules_are_accepted(contract: ContractSession) -> None:
    """lenient-accepted: warnings only (dangling prompt reference, extra frames, callback,
    an unknown args key, a required field with a default left out)."""
    _checked(
        contract,
        "lenient",
        strategies.lenient_requests.map(plan.from_broken),
        lambda run: properties.check_lenient(run, exact=contract.exact),
    )


def test_strict_args_reject_what_the_default_takes(contract: ContractSession) -> None:
    """invalid-rejected under --strict-args: an unknown args key, a required field with a
    default left out answer 400 (by default they are lenient-accepted, above)."""
    controls = contract.target.controls
    if controls is None or not contract.target.generative:
        pytest.skip("strict args are a mock setting: needs a mock with controls")
    breaks = strategies.STRICT_ARGS_BREAKS
    assert breaks, "the request schemas have no lenient args break"
    controls.set_strict_args(True)
    try:
        _checked_rejected(contract, st.sampled_from(sorted(breaks)).flatmap(breaks.__getitem__))
    finally:
        controls.set_strict_args(False)


@pytest.mark.parametrize("check", properties.JOB_CHECKS, ids=lambda c: c.__name__)
def test_jobs_keep_the_contract_at_every_status(
    contract: ContractSession, check: Callable[[JobRun], None]
) -> None:
    """query-schema, status-order, result-when-succeeded, callback-matches-query."""
    if check is properties.check_callbacks and not contract.target.reaches_loopback:
        pytest.skip("the target cannot call back a receiver on this machine")

    def accepted_then(run: JobRun) -> None:
        properties.check_accepted(run, exact=contract.exact)
        check(run)

    _checked(contract, "job", jobs, accepted_then)
