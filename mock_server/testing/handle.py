"""What a test holds: `MockHandle` (where the mock is, its key, every control, `check()`).

`plugin.py` wires this, `servers.py` and `routers.py` into pytest fixtures; they work
without pytest too:

    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        mock = MockHandle(server.app, server.base_url)
        ...                       # point the client at mock.base_url
        mock.run_all(); mock.check()
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mock_server import extensions
from mock_server.control.mock_control import MockControl, key_id
from mock_server.errors import MockError
from mock_server.testing import client_checks as contract

TEST_KEY = "sk-test-shortapi-mock"
TEST_CONFIG: dict[str, Any] = {"STORE": "memory", "CLOCK": "manual"}


class ServerError(MockError):
    """An exception raised inside the mock while it served the test (never lost)."""


def server_errors(app: Flask) -> list[BaseException]:
    """Return the exceptions raised in the app's request handlers and background thread."""
    return [*extensions.errors(app), *extensions.dispatcher(app).errors]


class MockHandle:
    """What a test holds: where the mock is, its key, and every control."""

    def __init__(self, app: Flask, base_url: str, *, api_key: str = TEST_KEY) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.check_on_teardown = True
        # The kinds of the mock's warnings that fail the test (e.g. "args.unknown_key").
        self.fatal_warnings: frozenset[str] = frozenset()
        self.fixture_name = "shortapi_mock"  # how the test names this handle, for messages
        self.sleeps: list[float] = []

    @property
    def control(self) -> MockControl:
        """The full Python control API."""
        return extensions.control(self.app)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header with this test's key."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def url(self, path: str) -> str:
        """Return the absolute URL of `path` on the mock."""
        return self.base_url + path

    # time
    def now(self) -> float:
        """Return the mock's clock time."""
        return self.control.now()

    def advance(self, seconds: float) -> float:
        """Move the clock; status changes and due callbacks happen before it returns."""
        return self.control.advance(seconds)

    def sleep(self, seconds: float) -> None:
        """Advance the clock by `seconds`: pass as a client's ``sleep`` (recorded in `sleeps`)."""
        self.sleeps.append(seconds)
        self.control.advance(seconds)

    def run_all(self) -> float:
        """Run every job and callback to completion (stuck jobs aside); return the time."""
        return self.control.run_all()

    def set_clock(self, mode: str, *, speed: float | None = None) -> None:
        """Switch to "manual", "per-poll" or "realtime" (x `speed`)."""
        self.control.set_clock(mode, speed=speed)

    def configure(self, **settings: Any) -> None:
        """Set profile, strict_args, result_key, status_form, callback_events, error_status,
        failed_status, queued_seconds, processing_seconds."""
        self.control.configure(**settings)

    # fates and faults (scoped to this test's key unless `key` says otherwise)
    def scenario(self, scenario: str, *, count: int | None = 1, key: str | None = "") -> None:
        """Give the next `count` jobs (None: all) this scenario, e.g. "fail:timeout"."""
        self.control.add_scenario(scenario, count=count, key=self._key(key))

    def fault(
        self, fault: str, *, count: int | None = 1, endpoint: str = "any", key: str | None = ""
    ) -> None:
        """Answer the next `count` requests to `endpoint` with `fault`, e.g. "503"."""
        self.control.add_fault(fault, count=count, endpoint=endpoint, key=self._key(key))

    def random_faults(self, spec: dict[str, Any], *, key: str | None = "") -> None:
        """Draw faults at random: {"seed": 1, "create": {"503": 0.1}, "query": {...}}."""
        self.control.set_random_faults(spec, key=self._key(key))

    def account(
        self, *, balance: str | None = None, max_in_flight: int | None = None
    ) -> dict[str, Any]:
        """Set this key's balance and jobs-in-flight limit; None means unlimited."""
        return self.control.set_account(self.api_key, balance=balance, max_in_flight=max_in_flight)

    def _key(self, key: str | None) -> str | None:
        return self.api_key if key == "" else key

    # what happened
    def jobs(self) -> list[dict[str, Any]]:
        """Return this key's jobs, newest first."""
        return self.control.jobs(key=key_id(self.api_key), limit=10_000)

    def requests(self) -> list[dict[str, Any]]:
        """Return the request journal, oldest first."""
        return self.control.journal(limit=100_000)

    def callbacks(self) -> list[dict[str, Any]]:
        """Return every callback delivery with its attempts."""
        return self.control.deliveries(limit=100_000)

    def violations(self) -> list[contract.Violation]:
        """Return the contract breaks in the requests so far."""
        return contract.violations(self.requests())

    def warnings(self) -> list[contract.Violation]:
        """Return the likely breaks that do not fail a test (e.g. a repeated create)."""
        return contract.warnings(self.requests())

    def expect_violations(self) -> None:
        """Do not fail the test at teardown for contract breaks (a test of bad requests)."""
        self.check_on_teardown = False

    def check(self) -> list[contract.Violation]:
        """Raise if the mock raised, or if the client broke the contract (AssertionError) or
        drew a warning of a kind in `fatal_warnings`; return the warnings."""
        errors = server_errors(self.app)
        if errors:
            dropped = (
                extensions.errors(self.app).dropped + extensions.dispatcher(self.app).errors.dropped
            )
            raise ServerError(
                f"the mock raised {len(errors) + dropped} error(s) while serving "
                f"(the newest {len(errors)} kept): {errors[0]!r}"
            ) from errors[0]
        found = contract.findings(self.requests(), fatal=self.fatal_warnings)
        broken = [v for v in found if v.severity == "error"]
        warned = [v for v in found if v.severity == "warning"]
        if broken:
            raise contract.ContractViolation(broken, warned, fixture=self.fixture_name)
        return warned

    def reset(self) -> None:
        """Forget jobs, journal, rules and accounts; restore the configured settings."""
        self.control.reset()
        extensions.errors(self.app).clear()
        extensions.dispatcher(self.app).errors.clear()
        self.sleeps.clear()
