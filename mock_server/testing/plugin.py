"""The pytest plugin: fixtures, a marker and ``--shortapi-*`` options; wiring only, the
behaviour lives in `mock_server.testing` (`markers.py` applies options and marker).

Fixtures: ``shortapi_mock`` (a threaded server on a random loopback port, once per session,
reset before each test), ``shortapi_responses`` and ``shortapi_httpx`` (no socket: requests or
httpx calls to https://api.shortapi.ai go into the app), ``shortapi_subprocess_env`` (the
environment that sends a child process's requests for https://api.shortapi.ai to
``shortapi_mock``), ``shortapi_variant``, ``shortapi_receiver``. A test whose client broke
the contract fails at teardown (warnings go in the terminal summary); opt out with
``@pytest.mark.shortapi(check=False)``, ``shortapi_mock.expect_violations()`` or
``--shortapi-check=off``.

Installing the kit registers this module in every pytest run of the project (entry point
``pytest11``), so it imports nothing heavy: the options, the marker and the fixtures are
declared here with plain values (`mock_server.choices`), and Flask, the app, the routers
(responses, respx, httpx) and the catalogue load when a fixture or an option needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import TYPE_CHECKING, Any

import pytest

from mock_server import testing  # its names load on first use
from mock_server.choices import ERROR_STATUSES, MODES, PROFILES, RESULT_KEYS
from mock_server.testing import markers

if TYPE_CHECKING:
    from flask import Flask

    from mock_server.intercept import Interception
    from mock_server.testing import variants
    from mock_server.testing.receiver import CallbackReceiver


def load_models_dir(path: str) -> str:
    """The type of ``--shortapi-models-dir``: load the folder (`config.load_models_dir`)."""
    from mock_server.config import load_models_dir as load

    return load(path)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shortapi", "shortapi.ai mock and contract tests")
    group.addoption(
        "--shortapi-clock",
        choices=MODES,
        default="manual",
        help="clock of the shortapi_* fixtures (default manual)",
    )
    group.addoption("--shortapi-profile", choices=PROFILES, default="default")
    group.addoption(
        "--shortapi-strict-args",
        action="store_true",
        help="read args as the pages do, strictly: an undocumented arg or a required field "
        "with a default left out answers 400 (default: accepted with a warning)",
    )
    group.addoption(
        "--shortapi-fail-on-warning",
        action="append",
        default=[],
        metavar="KIND",
        help="fail a test whose requests drew this warning of the mock, e.g. "
        "args.unknown_key (repeatable)",
    )
    group.addoption("--shortapi-result-key", choices=RESULT_KEYS, default="auto")
    group.addoption("--shortapi-models-dir", type=load_models_dir, help="also serve these models")
    group.addoption(
        "--shortapi-error-status",
        choices=ERROR_STATUSES,
        default="http",
        help="HTTP status of API errors: their own (default), or 200 with the non-zero code",
    )
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"shortapi({'=, '.join(sorted(markers.MARKER_KEYS))}=): per-test settings of the "
        "shortapi_* fixtures",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    markers.summarize(terminalreporter)  # the client checks' warnings


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    markers.parametrize_variants(metafunc)


@pytest.fixture(scope="session")
def shortapi_server() -> Iterator[testing.ThreadedServer]:
    """The mock served on a random loopback port, once per session."""
    from mock_server import create_app

    with testing.ThreadedServer(create_app(testing.TEST_CONFIG)) as server:
        yield server


@pytest.fixture
def shortapi_mock(
    shortapi_server: testing.ThreadedServer, request: pytest.FixtureRequest
) -> Iterator[testing.MockHandle]:
    """The served mock, reset for this test: base_url, api_key, advance(), run_all(), ..."""
    handle = testing.MockHandle(shortapi_server.app, shortapi_server.base_url)
    markers.prepare(handle, request)
    yield handle
    markers.finish(handle, request)


@pytest.fixture(scope="session")
def shortapi_interception(
    shortapi_server: testing.ThreadedServer,
) -> Iterator[Interception]:
    """The intercepting proxy in front of the session's served mock, once per session."""
    from mock_server.intercept import Interception  # cryptography: loaded only when used

    with Interception(shortapi_server.base_url) as interception:
        yield interception


@pytest.fixture
def shortapi_subprocess_env(
    shortapi_mock: testing.MockHandle, shortapi_interception: Interception
) -> dict[str, str]:
    """The environment for ``subprocess.run(..., env=...)``: the child's requests to
    https://api.shortapi.ai reach this test's mock (journal, client checks), its other HTTPS
    still verifies; SHORTAPI_KEY is the test's key."""
    return {**shortapi_interception.environment(), "SHORTAPI_KEY": shortapi_mock.api_key}


@pytest.fixture(scope="session")
def shortapi_app() -> Iterator[Flask]:
    """The in-process app behind shortapi_responses and shortapi_httpx."""
    from mock_server import close_app, create_app

    app = create_app(testing.TEST_CONFIG)
    yield app
    close_app(app)


def _in_process(
    app: Flask,
    request: pytest.FixtureRequest,
    router: Callable[[Flask, tuple[str, ...]], ContextManager[Any]],
) -> Iterator[testing.MockHandle]:
    handle = testing.MockHandle(app, testing.API_URL)
    markers.prepare(handle, request)
    with router(app, (testing.API_URL, *request.config.option.shortapi_base_url)):
        yield handle
    markers.finish(handle, request)


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
    from mock_server.testing.routers import import_respx

    try:
        import_respx()  # the httpx extra
    except ImportError as exc:  # one line, not the chain of imports
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    yield from _in_process(shortapi_app, request, testing.respx_router)


@pytest.fixture
def shortapi_variant(request: pytest.FixtureRequest) -> variants.Variant:
    """The response variant this run of the test gets (see ``--shortapi-variants``)."""
    from mock_server.testing import variants

    variant: variants.Variant = getattr(request, "param", variants.DEFAULT)
    for name in ("shortapi_responses", "shortapi_httpx", "shortapi_mock"):
        if name in request.fixturenames:
            variant.apply(request.getfixturevalue(name))
            break
    return variant


@pytest.fixture
def shortapi_receiver() -> Iterator[CallbackReceiver]:
    """A loopback HTTP server recording the callbacks it receives."""
    from mock_server.testing.receiver import CallbackReceiver

    with CallbackReceiver() as receiver:
        yield receiver
