"""What a test asks of the shortapi_* fixtures: the ``--shortapi-*`` options and the
``@pytest.mark.shortapi(...)`` marker applied to a handle, and the teardown check."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server import testing

SETTINGS = ("profile", "result_key", "callback_events", "queued_seconds", "processing_seconds")
MARKER_KEYS = {*SETTINGS, "clock", "speed", "scenario", "key", "check", "variants"}


def prepare(handle: testing.MockHandle, request: pytest.FixtureRequest) -> None:
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


def finish(handle: testing.MockHandle) -> None:
    """Check the client's contract (unless opted out); never swallow errors of the mock."""
    if handle.check_on_teardown:
        handle.check()
    else:  # errors inside the mock are never swallowed, contract or not
        errors = testing.server_errors(handle.app)
        if errors:
            raise testing.ServerError(f"the mock raised: {errors[0]!r}") from errors[0]
