"""What a test asks of the shortapi_* fixtures: the ``--shortapi-*`` options and the
``@pytest.mark.shortapi(...)`` marker applied to a handle (and the variants a test runs
against), the teardown check, and the terminal summary of the client checks' warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mock_server import testing  # its names load on first use

if TYPE_CHECKING:
    from mock_server.testing.client_checks import Violation

SETTINGS = (
    "profile",
    "strict_args",
    "result_key",
    "error_status",
    "failed_status",
    "callback_events",
    "queued_seconds",
    "processing_seconds",
)
MARKER_KEYS = {
    *SETTINGS,
    "clock",
    "speed",
    "scenario",
    "key",
    "check",
    "variants",
    "fail_on_warning",
}
# Every test's client-check warnings: (test id, fixture name, warnings), for the summary.
WARNINGS = pytest.StashKey[list[tuple[str, str, list["Violation"]]]]()


def prepare(handle: testing.MockHandle, request: pytest.FixtureRequest) -> None:
    """Reset the mock, then apply the options and the test's marker."""
    handle.reset()
    handle.fixture_name = request.fixturename or handle.fixture_name
    options = request.config.option
    marker = request.node.get_closest_marker("shortapi")
    settings: dict[str, Any] = {
        "clock": options.shortapi_clock,
        "profile": options.shortapi_profile,
        "strict_args": options.shortapi_strict_args,
        "result_key": options.shortapi_result_key,
        "error_status": options.shortapi_error_status,
    }
    settings.update(marker.kwargs if marker else {})
    unknown = set(settings) - MARKER_KEYS
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.shortapi: unknown setting(s) "
            f"{', '.join(sorted(unknown))}; use {', '.join(sorted(MARKER_KEYS))}"
        )
    handle.api_key = settings.pop("key", testing.TEST_KEY)
    handle.set_clock(settings.pop("clock"), speed=settings.pop("speed", None))
    handle.configure(**{k: settings[k] for k in SETTINGS if k in settings})
    if settings.get("scenario"):
        handle.scenario(settings["scenario"], count=None)
    handle.check_on_teardown = settings.get("check", True) and options.shortapi_check != "off"
    marked = settings.get("fail_on_warning", ())
    handle.fatal_warnings = frozenset(
        [*options.shortapi_fail_on_warning, *([marked] if isinstance(marked, str) else marked)]
    )


def parametrize_variants(metafunc: pytest.Metafunc) -> None:
    """Run a test using ``shortapi_variant`` once per variant when asked (option or marker)."""
    if "shortapi_variant" not in metafunc.fixturenames:
        return
    from mock_server.testing import variants

    marker = metafunc.definition.get_closest_marker("shortapi")
    wanted = metafunc.config.getoption("--shortapi-variants") or (
        marker is not None and marker.kwargs.get("variants", False)
    )
    chosen = variants.ALL if wanted else (variants.DEFAULT,)
    metafunc.parametrize("shortapi_variant", chosen, ids=[v.name for v in chosen], indirect=True)


def finish(handle: testing.MockHandle, request: pytest.FixtureRequest) -> None:
    """Check the client's contract (unless opted out), keeping its warnings for the summary;
    never swallow errors of the mock."""
    if handle.check_on_teardown:
        warned = handle.check()
        if warned:
            found = request.config.stash.setdefault(WARNINGS, [])
            found.append((request.node.nodeid, handle.fixture_name, warned))
    else:  # errors inside the mock are never swallowed, contract or not
        errors = testing.server_errors(handle.app)
        if errors:
            raise testing.ServerError(f"the mock raised: {errors[0]!r}") from errors[0]


def summarize(reporter: pytest.TerminalReporter) -> None:
    """Write the client checks' warnings of the run, test by test, and the ways out."""
    found = reporter.config.stash.get(WARNINGS, [])
    if not found:
        return
    from mock_server.testing.client_checks import ways_out

    reporter.section("shortapi client warnings", yellow=True)
    for nodeid, _, warned in found:
        reporter.line(nodeid)
        for warning in warned:
            reporter.line(f"  {warning}")
    fixtures = sorted({fixture for _, fixture, _ in found})
    reporter.line(ways_out(*fixtures, lead="If a test repeats a create on purpose"))
    reporter.line(
        "To fail a test on a warning kind (e.g. args.unknown_key): --shortapi-fail-on-warning "
        "KIND, or @pytest.mark.shortapi(fail_on_warning=[KIND])."
    )
