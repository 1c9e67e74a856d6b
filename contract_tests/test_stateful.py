"""The stateful test: jobs created, queried, faulted and timed in any order."""

from __future__ import annotations

import pytest
from hypothesis.stateful import run_state_machine_as_test

from mock_server.contract import profiles
from mock_server.contract.session import ContractSession

from .machine import machine_for


def test_jobs_stay_consistent_under_any_order_of_calls(contract: ContractSession) -> None:
    """Invariants over every job seen, with the mock's clock and faults under control."""
    if not contract.target.generative:
        pytest.skip("the stateful test needs a target with the mock's /_mock/ controls")
    run_state_machine_as_test(machine_for(contract), settings=profiles.contract_settings())
