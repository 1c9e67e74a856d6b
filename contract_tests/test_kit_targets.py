"""The targets: a served mock by URL, a failing replay, the live code path, budget, 429s."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mock_server import create_app
from mock_server.contract import plan
from mock_server.contract.budget import Budget, BudgetExhausted, DryRun, Overcharged, planned_spend
from mock_server.contract.client import ApiClient
from mock_server.contract.session import ContractSession, Options
from mock_server.contract.strategies import ACCEPTED
from mock_server.contract.targets import InProcessTarget, LiveTarget
from mock_server.contract.wire import Secret, WireRequest, WireResponse
from mock_server.testing import ThreadedServer

from . import properties
from .serving import run_pytest, served_mock

pytestmark = pytest.mark.kit
PLANTED = "sk-live-PLANTED-fedcba9876543210"
SIMULATED_LIVE = Path(__file__).resolve().parent.parent / "fixtures/recorded/simulated-live.json"
BODY = {
    "model": "kwaivgi/kling-o1/image-to-video",
    "args": {
        "mode": "std",
        "action": "frame",
        "prompt": "a cat",
        "images": ["https://example.com/a.jpg"],
    },
}


def _leaks(tmp_path: Path, *texts: str) -> list[str]:
    files = [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    return [t[:200] for t in [*files, *texts] if PLANTED in t]


@pytest.mark.slow
def test_the_suite_passes_against_a_served_mock_by_url(tmp_path: Path) -> None:
    """``--shortapi-target=http://127.0.0.1:PORT``: the whole suite, the key from the env."""
    serve = ["--clock", "manual", "--store", "memory", "--workers", "1", "--api-key", PLANTED]
    with served_mock(tmp_path, serve) as base_url:
        result = run_pytest(
            [
                f"--shortapi-target={base_url}",
                "-rs",
                f"--junitxml={tmp_path / 'junit.xml'}",
                f"--shortapi-report-dir={tmp_path / 'reports'}",
            ],
            env={"SHORTAPI_KEY": PLANTED},
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    junit = (tmp_path / "junit.xml").read_text()
    assert "test_jobs_stay_consistent_under_any_order_of_calls" in junit
    assert "needs a target with the mock" not in result.stdout  # controls were found and used
    assert json.loads((tmp_path / "reports" / "drift.json").read_text())["disagreements"] == []
    assert _leaks(tmp_path, result.stdout, result.stderr) == []


@pytest.mark.slow
def test_a_failing_property_exits_pytest_with_1(tmp_path: Path) -> None:
    """Against the replay of simulated-live.json, query-schema fails (refunded missing)."""
    result = run_pytest(
        [
            f"--shortapi-target=replay:{SIMULATED_LIVE}",
            f"--junitxml={tmp_path / 'junit.xml'}",
            f"--shortapi-report-dir={tmp_path / 'reports'}",
        ],
        env={"SHORTAPI_KEY": PLANTED},
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "[query-schema]" in result.stdout and "A-failed-refunded" in result.stdout
    assert "FAILED contract_tests/test_drift.py" in result.stdout
    assert '"Authorization: Bearer $SHORTAPI_KEY"' in result.stdout
    assert _leaks(tmp_path, result.stdout, result.stderr) == []


@pytest.mark.slow
def test_live_skips_cleanly_without_a_key() -> None:
    """``--shortapi-target=live`` with no SHORTAPI_KEY: every test skipped, exit 0."""
    result = run_pytest(["--shortapi-target=live", "-rs"], env={"SHORTAPI_KEY": None})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "needs the SHORTAPI_KEY" in result.stdout
    assert " passed" not in result.stdout and " failed" not in result.stdout


@pytest.mark.slow
def test_a_dry_run_prints_the_planned_spend_and_sends_nothing() -> None:
    """``--shortapi-dry-run``: the planned spend is printed, the target gets no request."""
    app = create_app({"STORE": "memory", "CLOCK": "manual"})
    with ThreadedServer(app) as server:
        result = run_pytest(
            [
                "--shortapi-target=live",
                "--shortapi-dry-run",
                "--shortapi-shrink=off",
                f"--shortapi-live-url={server.base_url}",
            ],
            env={"SHORTAPI_KEY": None},
        )
        journal = app.extensions["shortapi.control"].journal()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "shortapi planned spend (dry run)" in result.stdout
    assert "free probe" in result.stdout and "paid job(s) under the $1 cap" in result.stdout
    assert journal == []


def test_the_live_target_runs_the_plan_within_its_budget() -> None:
    """The live code path against a served mock: black box, probes first, budget kept."""
    app = create_app({"STORE": "memory", "CLOCK": "per-poll"})
    with ThreadedServer(app) as server:
        target = LiveTarget(server.base_url)
        session = ContractSession(
            target,
            Secret(PLANTED),
            Options(budget_usd=Decimal("1"), poll_interval=0.0, shrink=False, callbacks=False),
        )
        try:
            runs = session.plan_runs()
            report = session.drift()
        finally:
            session.close()
    assert target.controls is None and target.paid
    rules = {run.item.rule for run in runs.values()}
    assert "auth.missing" in rules and not rules & plan.NOT_FOR_PAID_TARGETS  # no 320 MiB body
    kinds = [run.item.kind for run in runs.values()]
    assert kinds.index("job") > max(i for i, k in enumerate(kinds) if k == "invalid")
    for run in session.planned("invalid"):
        properties.check_rejected(run, exact=False)
    for run in session.planned("job"):
        properties.check_accepted(run, exact=False)
        for check in properties.JOB_CHECKS:
            check(run)
    assert Decimal(0) < session.budget.spent <= Decimal("1")
    assert any("cap" in why for why in session.skipped.values())
    assert {d.kind for d in report.disagreements} <= {"timing"}  # per-poll: no waiting at all


class SleepRecorder(InProcessTarget):
    """The in-process mock, recording the waits instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Record the wait."""
        self.slept.append(seconds)


def test_429_and_retry_after_are_honoured() -> None:
    """A 429 (and a 503 on a query) is sent again after exactly its Retry-After."""
    target, key = SleepRecorder(), Secret("sk-kit-retry")
    assert target.controls is not None
    client = ApiClient(target, key, Budget(Decimal("1"), enforced=False))
    try:
        target.controls.add_fault("429,retry-after:7", key=key, endpoint="create")
        created = client.send(WireRequest.create(BODY))
        target.controls.add_fault("503,retry-after:3", key=key, endpoint="query")
        job_id = created.response.json()["data"]["job_id"]
        queried = client.send(WireRequest.job_query(job_id))
    finally:
        target.close()
    assert created.response.accepted and created.waited == (7.0,)
    assert queried.response.status == 200 and queried.waited == (3.0,)
    assert target.slept == [7.0, 3.0]


def test_the_budget_refuses_what_would_go_over_the_cap() -> None:
    """A submission that could take the spend over the cap is not sent."""
    budget = Budget(Decimal("0.5"))
    first = budget.reserve("job/a", Decimal("0.375"))
    budget.settle(first, _charged("0.375"))
    with pytest.raises(BudgetExhausted, match="raise --shortapi-budget-usd"):
        budget.reserve("job/b", Decimal("0.375"))
    assert budget.reserve("probe", Decimal("0")).bound == 0  # free requests always go


def test_the_budget_catches_an_overcharge() -> None:
    """An amount above the price reserved fails the run."""
    budget = Budget(Decimal("5"))
    with pytest.raises(Overcharged, match=r"charged \$0\.75, the price was \$0\.375"):
        budget.settle(budget.reserve("job/a", Decimal("0.375")), _charged("0.75"))


def test_a_dry_run_reserves_nothing_and_plans_the_spend() -> None:
    """A dry run refuses every paid submission and lists what would be spent."""
    with pytest.raises(DryRun):
        Budget(Decimal("1"), dry_run=True).reserve("job/a", Decimal("0.375"))
    lines = planned_spend(
        [
            ("invalid/x", Decimal("1"), False),
            ("job/a", Decimal("0.75"), True),
            ("job/b", Decimal("0.75"), True),
        ],
        Decimal("1"),
    )
    assert "skipped: over the cap" in lines[2] and "at most $0.75" in lines[-1]


class Overcharging(InProcessTarget):
    """A mock that answers every accepted create with twice its price."""

    paid = True

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Double the amount of accepted creates."""
        response = super().send(request, key)
        body: Any = response.json()
        if response.accepted and "amount" in body.get("data", {}):
            body["data"]["amount"] = str(Decimal(body["data"]["amount"]) * 2)
            return WireResponse(response.status, response.headers, json.dumps(body).encode())
        return response


def test_a_paid_target_charging_above_the_price_fails_the_run() -> None:
    """The amount each create returns is checked against the price reserved."""
    target = Overcharging()
    client = ApiClient(target, Secret("sk-kit-over"), Budget(Decimal("5")))
    item = plan.job("minimal", BODY)
    try:
        with pytest.raises(Overcharged):
            client.submit(item)
    finally:
        target.close()
    assert item.expected == ACCEPTED


def _charged(amount: str) -> WireResponse:
    body = {"code": 0, "data": {"amount": amount, "job_id": "x" * 32}}
    return WireResponse(200, (), json.dumps(body).encode())
