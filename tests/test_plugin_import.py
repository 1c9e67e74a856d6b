"""The pytest plugin costs a client's test run almost nothing: installing the kit registers it
in every run of the project, so it loads no heavy module until a shortapi fixture is used.
(The time it saves is measured by bench/plugin_overhead.py, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

HEAVY = (
    "flask",
    "werkzeug",
    "jinja2",
    "hypothesis",
    "hypothesis_jsonschema",
    "jsonschema",
    "jsonschema_rs",
    "responses",
    "respx",
    "httpx",
    "requests",
    "PIL",
    "mock_server.app",
    "mock_server.config",
    "mock_server.catalog",
)
PROBE = f"import json, sys; print(json.dumps(sorted(set({list(HEAVY)!r}) & set(sys.modules))))"


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import mock_server.testing.plugin; {PROBE}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == []


def test_a_run_that_uses_no_fixture_loads_nothing_heavy(pytester: pytest.Pytester) -> None:
    """Options, marker, collection and the summary hooks of a run with the plugin alone."""
    pytester.makepyfile(
        test_plain=f"""
import sys
import pytest

@pytest.mark.shortapi(clock="manual")
def test_plain(request):
    assert sorted(set({list(HEAVY)!r}) & set(sys.modules)) == []
    assert request.config.getoption("--shortapi-clock") == "manual"
"""
    )
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "mock_server.testing.plugin"]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider", "--strict-markers", "test_plain.py"],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_fixture_still_loads_the_mock_on_first_use(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_used="""
import sys

def test_used(shortapi_mock, shortapi_variant):
    assert "flask" in sys.modules and shortapi_mock.jobs() == []
    assert shortapi_variant.name == "succeeded"  # the default variant
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:schemathesis")
    result.assert_outcomes(passed=1)
