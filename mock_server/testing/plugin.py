"""The pytest plugin: fixtures, a marker and ``--shortapi-*`` options. Wiring only; the
behaviour lives in `mock_server.testing`.

Fixtures: ``shortapi_mock`` (a threaded server on a random loopback port, started once per
session, reset before each test), ``shortapi_responses`` (no socket: ``requests`` calls to
https://api.shortapi.ai are routed into the app), ``shortapi_httpx`` (the same for httpx,
sync and async, through respx), ``shortapi_variant`` and ``shortapi_receiver``.

By default a test whose client broke the API's contract fails at teardown; opt out per test
with ``@pytest.mark.shortapi(check=False)`` or ``shortapi_mock.expect_violations()``, or for
the run with ``--shortapi-check=off``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import Any

import pytest
from flask import Flask

from mock_server import create_app, testing
from mock_server.clock import MODES
from mock_server.config import PROFILES, RESULT_KEYS
from mock_server.testing import variants
from mock_server.testing.receiver import CallbackReceiver

_SETTINGS = ("profile", "result_key", "callback_events", "queued_seconds", "processing_seconds")
_MARKER_KEYS = {*_SETTINGS, "clock", "speed", "scenario", "key", "check", "variants"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shortapi", "shortapi.ai mock and contract tests")
    group.addoption(
        "--shortapi-clock",
        choices=MODES,
        default="manual",
        help="clock of the shortapi_* fixtures (default manual)",
    )
    group.addoption("--shortapi-profile", choices=PROFILES, default="default")
    group.addoption("--shortapi-result-key", choices=RESULT_KEYS, default="images")
    group.addoption(
        "--shortapi-check",
        choices=("teardown", "off"),
        default="teardown",
        help="fail a test at teardown when its client broke the contract",
    )
    group.addoption(
        "--shortapi-variants",
        action="store_true",
        help="run tests that use shortapi_variant against every response variant",
    )
    group.addoption(
        "--shortapi-base-url",
        action="append",
        default=[],
        help="also route this base URL into the in-process mock (repeatable)",
    )
    group.addoption(
        "--shortapi-target",
        default="mock",
        help="contract tests: mock (in-process), an http(s) URL, or live",
    )
    group.addoption(
        "--shortapi-budget-usd",
        type=float,
        default=1.0,
        help="contract tests: the most a live run may spend",
    )
    group.addoption(
        "--shortapi-dry-run",
        action="store_true",
        help="contract tests: print the planned spend and send nothing",
    )
    group.addoption(
        "--shortapi-timeout",
        type=float,
        default=900.0,
        help="contract tests: seconds to wait for a job on a black-box target",
    )
    group.addoption(
        "--shortapi-poll-interval",
        type=float,
        default=2.5,
        help="contract tests: seconds between the first polls of a black box (then doubling)",
    )
    group.addoption(
        "--shortapi-report-dir",
        default="reports",
        help="contract tests: where drift.md, drift.json and drift.xml are written",
    )
    group.addoption(
        "--shortapi-record",
        default=None,
        metavar="PATH",
        help="contract tests: record the target's exchanges to this JSON file",
    )
    group.addoption(
        "--shortapi-shrink",
        choices=("auto", "off"),
        default="auto",
        help="contract tests: shrink the plan against the mock (auto: for paid targets)",
    )
    group.addoption(
        "--shortapi-live-url",
        default="https://api.shortapi.ai",
        help="contract tests: base URL of the live target",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "shortapi(clock=, speed=, profile=, result_key=, callback_events=, "
        "queued_seconds=, processing_seconds=, scenario=, key=, check=, variants=): "
        "per-test settings of the shortapi_* fixtures",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "shortapi_variant" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("shortapi")
    wanted = metafunc.config.getoption("--shortapi-variants") or (
        marker is not None and marker.kwargs.get("variants", False)
    )
    chosen = variants.ALL if wanted else (variants.DEFAULT,)
    metafunc.parametrize("shortapi_variant", chosen, ids=[v.name for v in chosen], indirect=True)


def _prepare(handle: testing.MockHandle, request: pytest.FixtureRequest) -> None:
    """Reset the mock, then apply the options and the test's marker."""
    handle.reset()
    options = request.config.option
    marker = request.node.get_closest_marker("shortapi")
    settings: dict[str, Any] = {
        "clock": options.shortapi_clock,
        "profile": options.shortapi_profile,
        "result_key": options.shortapi_result_key,
    }
    settings.update(marker.kwargs if marker else {})
    unknown = set(settings) - _MARKER_KEYS
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.shortapi: unknown setting(s) "
            f"{', '.join(sorted(unknown))}; use {', '.join(sorted(_MARKER_KEYS))}"
        )
    handle.api_key = settings.pop("key", testing.TEST_KEY)
    handle.set_clock(settings.pop("clock"), speed=settings.pop("speed", None))
    handle.configure(**{k: settings[k] for k in _SETTINGS if k in settings})
    if settings.get("scenario"):
        handle.scenario(settings["scenario"], count=None)
    handle.check_on_teardown = settings.get("check", True) and options.shortapi_check != "off"


def _finish(handle: testing.MockHandle) -> None:
    if handle.check_on_teardown:
        handle.check()
    else:  # errors inside the mock are never swallowed, contract or not
        errors = testing.server_errors(handle.app)
        if errors:
            raise testing.ServerError(f"the mock raised: {errors[0]!r}") from errors[0]


@pytest.fixture(scope="session")
def shortapi_server() -> Iterator[testing.ThreadedServer]:
    """The mock served on a random loopback port, once per session."""
    with testing.ThreadedServer(create_app(testing.TEST_CONFIG)) as server:
        yield server


@pytest.fixture
def shortapi_mock(
    shortapi_server: testing.ThreadedServer, request: pytest.FixtureRequest
) -> Iterator[testing.MockHandle]:
    """The served mock, reset for this test: base_url, api_key, advance(), run_all(), ..."""
    handle = testing.MockHandle(shortapi_server.app, shortapi_server.base_url)
    _prepare(handle, request)
    yield handle
    _finish(handle)


@pytest.fixture(scope="session")
def shortapi_app() -> Iterator[Flask]:
    """The in-process app behind shortapi_responses and shortapi_httpx."""
    app = create_app(testing.TEST_CONFIG)
    yield app
    app.extensions["shortapi.callbacks"].stop()


def _base_urls(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return (testing.API_URL, *request.config.option.shortapi_base_url)


def _in_process(
    app: Flask,
    request: pytest.FixtureRequest,
    router: Callable[[Flask, tuple[str, ...]], ContextManager[Any]],
) -> Iterator[testing.MockHandle]:
    handle = testing.MockHandle(app, testing.API_URL)
    _prepare(handle, request)
    with router(app, _base_urls(request)):
        yield handle
    _finish(handle)


@pytest.fixture
def shortapi_responses(
    shortapi_app: Flask, request: pytest.FixtureRequest
) -> Iterator[testing.MockHandle]:
    """No socket: `requests` calls to https://api.shortapi.ai go into the mock."""
    yield from _in_process(shortapi_app, request, testing.responses_router)


@pytest.fixture
def shortapi_httpx(
    shortapi_app: Flask, request: pytest.FixtureRequest
) -> Iterator[testing.MockHandle]:
    """No socket: httpx calls (Client and AsyncClient) to the API go into the mock."""
    yield from _in_process(shortapi_app, request, testing.respx_router)


@pytest.fixture
def shortapi_variant(request: pytest.FixtureRequest) -> variants.Variant:
    """The response variant this run of the test gets (see ``--shortapi-variants``)."""
    variant: variants.Variant = getattr(request, "param", variants.DEFAULT)
    for name in ("shortapi_responses", "shortapi_httpx", "shortapi_mock"):
        if name in request.fixturenames:
            variant.apply(request.getfixturevalue(name))
            break
    return variant


@pytest.fixture
def shortapi_receiver() -> Iterator[CallbackReceiver]:
    """A loopback HTTP server recording the callbacks it receives."""
    with CallbackReceiver() as receiver:
        yield receiver
