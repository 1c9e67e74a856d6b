"""The stateful test: create, query, advance time and inject faults, in any order.

Runs on targets with the mock's controls. Invariants hold over every job seen: answers
match the schemas, a status never goes backwards, a terminal status never changes,
``result`` is present exactly at status 2, a faulted create makes no job, and the key's
account moves by exactly the amounts charged (and refunds only what failed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from mock_server.contract import plan, strategies
from mock_server.contract.client import JobRun, status_of
from mock_server.contract.session import ContractSession
from mock_server.contract.targets import Controls
from mock_server.contract.wire import Exchange, WireRequest
from mock_server.data import schemas
from mock_server.errors import (
    CONCURRENCY_LIMITED,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    UNAVAILABLE,
)
from mock_server.jobs.status import TERMINAL

from . import properties

FAULTS = {  # fault token -> (HTTP status, envelope code), assumption A-error-codes
    "429": (429, RATE_LIMITED),
    "429:concurrency": (429, CONCURRENCY_LIMITED),
    "500": (500, SERVER_ERROR),
    "503": (503, UNAVAILABLE),
    "504": (504, TIMEOUT),
}
RETRIED = {"create": ("429", "429:concurrency"), "query": ("429", "429:concurrency", "503")}
SETTLE_SECONDS = 86_400.0
SCENARIOS = (None, "fail:content_policy", "fail:internal_error", "fail:timeout", "slow:30", "stuck")
FAULT = properties.Property(
    "fault-envelope",
    ("A-error-codes", "A-rate-limit", "A-concurrency-limit"),
    "a fault answers its status and code in the error envelope",
)
ACCOUNT = properties.Property(
    "account-moves-by-charges",
    ("A-amount-per-second", "A-failed-refunded"),
    "spend grows by each amount charged; only failed jobs refund",
)


def machine_for(session: ContractSession) -> type[RuleBasedStateMachine]:
    """Return a state machine class bound to `session` (its target must offer controls)."""
    found = session.target.controls
    assert found is not None, "the stateful test needs the mock's controls"
    controls: Controls = found

    class JobMachine(RuleBasedStateMachine):
        """Jobs created, queried and faulted in any order, with the clock moved by hand."""

        jobs = Bundle("jobs")

        def __init__(self) -> None:
            super().__init__()
            self.client, self.controls = session.client, controls
            self.statuses: dict[str, int] = {}
            self.terminal: dict[str, dict[str, Any]] = {}
            self.amounts: dict[str, Decimal] = {}
            self.failing: set[str] = set()
            self.faults: dict[str, str] = {}
            controls.advance(SETTLE_SECONDS)  # earlier jobs end (and refund) before we count
            self.start = _money(controls.account(session.key))
            self.newest = controls.newest_job(session.key)

        @rule(target=jobs, body=strategies.valid_requests, scenario=st.sampled_from(SCENARIOS))
        def create(self, body: dict[str, Any], scenario: str | None) -> Any:
            item = plan.job("machine", body, scenario=scenario)
            request = item.request
            if scenario:
                request = request.with_headers(**{"X-Mock-Scenario": scenario})
            exchange = self.client.send(request)
            fault = self.faults.pop("create", None)
            if fault and not exchange.response.accepted:
                self._check_fault(fault, exchange)
                if self.controls.newest_job(session.key) != self.newest:
                    FAULT.fail("a faulted create made a job", exchange)
                return multiple()
            self._check_retried(fault, "create", exchange)
            properties.check_accepted(JobRun(item, exchange), exact=True)
            job_id = exchange.response.json()["data"]["job_id"]
            self.newest = job_id
            self.amounts[job_id] = Decimal(exchange.response.json()["data"]["amount"])
            if scenario and scenario.startswith("fail"):
                self.failing.add(job_id)
            return job_id

        @rule(job_id=jobs)
        def query(self, job_id: str) -> None:
            exchange = self.client.send(WireRequest.job_query(job_id))
            fault = self.faults.pop("query", None)
            if fault and not exchange.response.accepted:
                self._check_fault(fault, exchange)
                return
            self._check_retried(fault, "query", exchange)
            self._check_job(job_id, exchange)

        @rule(seconds=st.floats(0.5, 12.0))
        def advance(self, seconds: float) -> None:
            self.controls.advance(seconds)

        @rule(fault=st.sampled_from(sorted(FAULTS)), endpoint=st.sampled_from(("create", "query")))
        def inject_fault(self, fault: str, endpoint: str) -> None:
            if endpoint not in self.faults:
                self.controls.add_fault(
                    f"{fault},retry-after:0", key=session.key, endpoint=endpoint
                )
                self.faults[endpoint] = fault

        @invariant()
        def account_moves_by_charges(self) -> None:
            spent, refunded = _money(self.controls.account(session.key))
            charged = spent - self.start[0]
            if charged != sum(self.amounts.values(), Decimal(0)):
                ACCOUNT.fail(f"spend grew by {charged}, the jobs cost {sum(self.amounts.values())}")
            back = refunded - self.start[1]
            seen_failed = sum(
                (a for j, a in self.amounts.items() if self.statuses.get(j) == 3), Decimal(0)
            )
            could_fail = sum((self.amounts[j] for j in self.failing), Decimal(0))
            if not seen_failed <= back <= could_fail:
                ACCOUNT.fail(
                    f"refunded {back}; jobs seen failed cost {seen_failed}, jobs "
                    f"meant to fail {could_fail}"
                )

        def teardown(self) -> None:
            self.controls.clear_faults()

        def _check_job(self, job_id: str, exchange: Exchange) -> None:
            body = exchange.response.json()
            if problems := list(schemas.validator("query-response.json").iter_errors(body)):
                properties.QUERY_SCHEMA.fail(f"{problems[0].message}", exchange)
            status, data = status_of(exchange), body["data"]
            assert status is not None
            if status < self.statuses.get(job_id, 0):
                properties.STATUS_ORDER.fail(f"{self.statuses[job_id]} -> {status}", exchange)
            if job_id in self.terminal and data != self.terminal[job_id]:
                properties.STATUS_ORDER.fail("a terminal job changed", exchange)
            if ("result" in data) != (status == 2):
                properties.RESULT_WHEN_SUCCEEDED.fail(f"status {status}", exchange)
            self.statuses[job_id] = status
            if status in TERMINAL:
                self.terminal[job_id] = data

        def _check_fault(self, fault: str, exchange: Exchange) -> None:
            body = exchange.response.json()
            if list(schemas.validator("error.json").iter_errors(body)):
                FAULT.fail(f"fault {fault} did not answer the error envelope", exchange)
            if (exchange.response.status, body["code"]) != FAULTS[fault]:
                FAULT.fail(
                    f"fault {fault} answered {exchange.response.status} {body['code']}", exchange
                )

        def _check_retried(self, fault: str | None, endpoint: str, exchange: Exchange) -> None:
            if fault in RETRIED[endpoint] and exchange.waited != (0.0,):
                FAULT.fail(
                    f"fault {fault} (Retry-After: 0) was not retried once: {exchange.waited}",
                    exchange,
                )

    return JobMachine


def _money(account: dict[str, Any]) -> tuple[Decimal, Decimal]:
    return Decimal(str(account["spent"])), Decimal(str(account["refunded"]))
