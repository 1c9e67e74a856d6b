"""Measure the suite against the in-process mock: examples per second, rules reached.

python -m contract_tests.measure [EXAMPLES]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.contract import plan, strategies
from mock_server.contract.session import ContractSession
from mock_server.contract.targets import InProcessTarget
from mock_server.contract.wire import Secret

from . import properties


def _rate(
    name: str, strategy: st.SearchStrategy[Any], body: Callable[[Any], None], examples: int
) -> float:
    """Run `body` on `examples` examples of `strategy`; print and return examples per second."""
    count = 0

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(example: Any) -> None:
        nonlocal count
        count += 1
        body(example)

    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    print(f"{name:<34} {count:>5} examples in {seconds:6.2f} s = {count / seconds:7.1f}/s")
    return count / seconds


def rates(examples: int = 300) -> dict[str, float]:
    """Return valid and invalid examples per second against a fresh in-process mock
    (generated, sent, answered and checked, as the suite's two properties do)."""
    session = ContractSession(InProcessTarget(), Secret("sk-measure"))
    try:
        return {
            "valid": _rate(
                "valid create (valid-create)",
                strategies.valid_requests.map(lambda b: plan.job("m", b)),
                lambda item: properties.check_accepted(
                    session.client.run(item, poll=False), exact=True
                ),
                examples,
            ),
            "invalid": _rate(
                "invalid request (invalid-rejected)",
                strategies.invalid_requests.map(plan.from_broken),
                lambda item: properties.check_rejected(session.run(item), exact=True),
                examples,
            ),
        }
    finally:
        session.close()


def _all_job_checks(session: ContractSession, item: plan.PlanItem) -> None:
    run = session.run(item)
    for check in properties.JOB_CHECKS:
        check(run)


def main(examples: int = 300) -> None:
    """Print examples per second per kind of property, and the rules one strategy reaches."""
    rates(examples)
    session = ContractSession(InProcessTarget(), Secret("sk-measure"))
    try:
        _rate(
            "job to its end (4 job properties)",
            strategies.valid_requests.map(lambda b: plan.job("m", b)),
            lambda item: _all_job_checks(session, item),
            max(examples // 3, 1),
        )
        _rate(
            "generation only: valid_requests",
            strategies.valid_requests,
            lambda _: None,
            examples,
        )
        _rate(
            "generation only: invalid_requests",
            strategies.invalid_requests,
            lambda _: None,
            examples,
        )
    finally:
        session.close()
    reached: set[str] = set()
    _rate(
        "reach of invalid_requests",
        strategies.invalid_requests,
        lambda b: reached.add(b.label),
        examples,
    )
    print(
        f"invalid_requests reached {len(reached)} of {len(strategies.BREAKS)} rule "
        f"violations in {examples} examples"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
