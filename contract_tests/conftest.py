"""Wire the contract suite into pytest: its options, target, session, skips and reports.

The contract-only ``--shortapi-*`` options live here, not in the plugin: they mean nothing
to a client's own test suite. ``--shortapi-target`` picks the target: ``mock`` (in-process,
the default), an http(s) URL (key from ``SHORTAPI_KEY``, any test key if unset), ``live``
(needs ``SHORTAPI_KEY``; every test skips without it) or ``replay:PATH`` (a recording).
Tests marked ``kit`` test the suite itself and run only against the in-process mock.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Generator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.contract import profiles

if TYPE_CHECKING:
    from mock_server.contract.session import ContractSession, Options
    from mock_server.contract.wire import Secret

# The rest of the kit is imported inside the fixtures: hypothesis-jsonschema reads
# Hypothesis's unicode tables on import, which Hypothesis forbids while conftests load.
_PLANNED = pytest.StashKey[list[str]]()
__all__ = ["profiles"]  # imported for its side effect: the hypothesis profiles exist


# The contract-only options: (flag, keyword arguments of `addoption`).
_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--shortapi-target",
        {
            "default": "mock",
            "help": "contract tests: mock (in-process), an http(s) URL, live or replay:PATH",
        },
    ),
    (
        "--shortapi-budget-usd",
        {"type": float, "default": 1.0, "help": "contract tests: the most a live run may spend"},
    ),
    (
        "--shortapi-dry-run",
        {
            "action": "store_true",
            "help": "contract tests: print the planned spend and send nothing",
        },
    ),
    (
        "--shortapi-timeout",
        {
            "type": float,
            "default": 900.0,
            "help": "contract tests: seconds to wait for a job on a black-box target",
        },
    ),
    (
        "--shortapi-poll-interval",
        {
            "type": float,
            "default": 2.5,
            "help": "contract tests: seconds between the first polls of a black box (doubling)",
        },
    ),
    (
        "--shortapi-report-dir",
        {
            "default": "reports",
            "help": "contract tests: where drift.md, drift.json and drift.xml are written",
        },
    ),
    (
        "--shortapi-record",
        {
            "default": None,
            "metavar": "PATH",
            "help": "contract tests: record the target's exchanges to this JSON file",
        },
    ),
    (
        "--shortapi-shrink",
        {
            "choices": ("auto", "off"),
            "default": "auto",
            "help": "contract tests: shrink the plan against the mock (auto: for paid targets)",
        },
    ),
    (
        "--shortapi-models",
        {
            "default": "",
            "metavar": "IDS",
            "help": "contract tests: the models (comma-separated ids) whose per-model "
            "properties run on a paid or black-box target (one budgeted job each); "
            "default none",
        },
    ),
    (
        "--shortapi-live-url",
        {
            "default": "https://api.shortapi.ai",
            "help": "contract tests: base URL of the live target",
        },
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the contract suite's options to the plugin's "shortapi" group."""
    group = parser.getgroup("shortapi", "shortapi.ai mock and contract tests")
    for flag, options in _OPTIONS:
        group.addoption(flag, **options)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kit: a test of the contract kit itself (mock target only)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--shortapi-target") == "mock":
        return
    skip = pytest.mark.skip(reason="tests the kit itself: runs with --shortapi-target=mock")
    for item in items:
        if item.get_closest_marker("kit"):
            item.add_marker(skip)


def options_of(config: pytest.Config, *, paid: bool) -> Options:
    """Return the session options the command line asks for."""
    from mock_server.contract.session import Options

    record = config.getoption("--shortapi-record")
    return Options(
        budget_usd=Decimal(str(config.getoption("--shortapi-budget-usd"))),
        dry_run=config.getoption("--shortapi-dry-run"),
        timeout=config.getoption("--shortapi-timeout"),
        poll_interval=config.getoption("--shortapi-poll-interval"),
        report_dir=Path(config.getoption("--shortapi-report-dir")),
        record=Path(record) if record else None,
        shrink=paid and config.getoption("--shortapi-shrink") == "auto",
    )


def _key(spec: str) -> Secret | None:
    from mock_server.contract.wire import Secret

    from_env = os.environ.get("SHORTAPI_KEY", "")
    if spec == "live":
        return Secret(from_env) if from_env else None
    if spec != "mock" and from_env:
        return Secret(from_env)
    return Secret("sk-contract-" + secrets.token_hex(8))  # any key works on a mock


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Iterator[ContractSession]:
    """The contract run against ``--shortapi-target``: target, reference mock, budget."""
    from mock_server.contract.session import ContractSession, target_for
    from mock_server.contract.wire import Secret

    spec = pytestconfig.getoption("--shortapi-target")
    key = _key(spec)
    dry_run = pytestconfig.getoption("--shortapi-dry-run")
    if key is None and not dry_run:
        pytest.skip("the live target needs the SHORTAPI_KEY environment variable")
    target = target_for(
        spec,
        live_url=pytestconfig.getoption("--shortapi-live-url"),
        timeout=pytestconfig.getoption("--shortapi-timeout"),
    )
    session = ContractSession(target, key or Secret(""), options_of(pytestconfig, paid=target.paid))
    try:
        if dry_run:
            _plan_only(pytestconfig, session)
        yield session
    finally:
        session.close()


def _plan_only(config: pytest.Config, session: ContractSession) -> None:
    """Keep the planned spend for the terminal summary, then skip: a dry run sends nothing."""
    from mock_server.contract.budget import planned_spend

    plan = session.plan()
    config.stash[_PLANNED] = planned_spend(
        ((item.name, item.price, item.expected.accepted) for item in plan),
        session.budget.cap,
    )
    pytest.skip("dry run: the planned spend is printed at the end; nothing was sent")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_PLANNED, None)
    if lines:
        terminalreporter.section("shortapi planned spend (dry run)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Scrub any API key from failure texts and captured output before they are shown."""
    from mock_server.contract.wire import scrub

    outcome = yield
    report = outcome.get_result()
    if report.longrepr is not None:
        text = str(report.longrepr)
        if scrub(text) != text:
            report.longrepr = scrub(text)
    report.sections = [(name, scrub(content)) for name, content in report.sections]
