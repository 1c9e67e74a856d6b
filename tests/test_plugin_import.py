"""The pytest plugin costs a client's test run almost nothing: installing the kit registers it
in every run of the project, so it loads no heavy module until a shortapi fixture is used.
(The time it saves is measured by bench/plugin_overhead.py, not here.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


# Python started with some modules unimportable, as in an install without an extra
# (hypothesis: the contract extra; respx and httpx: the httpx extra).
WITHOUT = """
import importlib.abc, runpy, sys

BLOCKED = BLOCKED_MODULES

class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Blocked())
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""
WITHOUT_HYPOTHESIS = WITHOUT.replace(
    "BLOCKED_MODULES", repr(("hypothesis", "hypothesis_jsonschema", "_hypothesis_pytestplugin"))
)
WITHOUT_HTTPX_EXTRA = WITHOUT.replace("BLOCKED_MODULES", repr(("respx", "httpx")))


def _without_hypothesis(*argv: str, cwd: object = None) -> subprocess.CompletedProcess[str]:
    return _run(WITHOUT_HYPOTHESIS, *argv, cwd=cwd)


def _run(script: str, *argv: str, cwd: object = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-c", script, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _pytest_with_the_plugin_alone(script: str, test: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest on `test` under `script`, with no plugin but the kit's."""
    plugin = ("-p", "mock_server.testing.plugin", "-p", "no:cacheprovider")
    return _run(script, "pytest", *plugin, test.name, cwd=test.parent)


def _extra(name: str) -> set[str]:
    tomllib = pytest.importorskip("tomllib")
    with open(Path(__file__).parent.parent / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    specs = project["dependencies"] if name == "" else project["optional-dependencies"][name]
    return {re.split(r"[<>=;\[ ]", spec)[0] for spec in specs}


def test_hypothesis_is_the_contract_extra_not_a_dependency() -> None:
    """hypothesis's own pytest plugin imports all of hypothesis at the end of every run: a
    client's suite that has the kit only for its fixtures must not get it installed."""
    assert not _extra("") & {"hypothesis", "hypothesis-jsonschema"}
    assert _extra("contract") == {"hypothesis", "hypothesis-jsonschema"}


def test_respx_is_the_httpx_extra_not_a_dependency() -> None:
    """respx's pytest plugin imports httpx in every run: only the httpx extra brings it."""
    assert "respx" not in _extra("")
    assert {"httpx", "respx"} == _extra("httpx")
    assert {"httpx", "respx"} <= _extra("dev")


def test_without_respx_shortapi_httpx_fails_saying_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_httpx="""
def test_routed(shortapi_httpx):
    raise AssertionError("the fixture should not have set up")

def test_served(shortapi_mock):
    assert shortapi_mock.jobs() == []
"""
    )
    result = _pytest_with_the_plugin_alone(WITHOUT_HTTPX_EXTRA, pytester.path / "test_httpx.py")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    start = next(i for i, text in enumerate(lines) if "ERROR at setup of test_routed" in text)
    # The error is that one line: no traceback, no chain of imports.
    assert lines[start + 1] == (
        "shortapi_httpx needs respx, the kit's httpx extra: pip install 'shortapi-mock[httpx]'"
    )
    assert "short test summary info" in lines[start + 2]
    assert "1 passed, 1 error" in lines[-1]  # the other fixtures need no respx


def test_without_hypothesis_the_fixtures_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_used="""
def test_used(shortapi_mock):
    import httpx
    answer = httpx.get(shortapi_mock.base_url + "/healthz")
    assert answer.status_code == 200
"""
    )
    result = _pytest_with_the_plugin_alone(WITHOUT_HYPOTHESIS, pytester.path / "test_used.py")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_without_hypothesis_the_proxy_loads_and_contract_says_what_to_install() -> None:
    loads = _without_hypothesis("mock_server", "proxy", "--help")
    assert loads.returncode == 0, loads.stderr[-2000:]
    import_proxy = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_HYPOTHESIS.replace("runpy.run_module", "import mock_server.proxy.app  #"),
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert import_proxy.returncode == 0, import_proxy.stderr[-2000:]
    probe = WITHOUT_HYPOTHESIS.replace(
        "runpy.run_module",
        "from mock_server.contract import strategies as s; "
        "assert s.CREATE_PATH and not hasattr(s, 'valid_requests')  #",
    )
    asks = subprocess.run([sys.executable, "-c", probe, "x"], capture_output=True, text=True)
    assert asks.returncode == 0, asks.stderr[-2000:]
    contract = _without_hypothesis("mock_server", "contract", "--target", "mock")
    assert contract.returncode == 2
    assert contract.stderr.strip().splitlines() == [
        "shortapi-mock contract: error: the contract suite needs hypothesis, the kit's "
        "contract extra: pip install 'shortapi-mock[contract]'"
    ]
