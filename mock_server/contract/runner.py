"""``shortapi-mock contract``: run the contract suite against a target; write its reports.

The suite (``contract_tests/``: the properties, the state machine, its conftest) is shipped
in the wheel as package data, ``mock_server/_data/contract_tests`` (pyproject's
``force-include``), not as a subpackage: it is a pytest suite, collected from a folder, and
it stays the repository's ``contract_tests/`` that ``pytest`` and ``make test`` run. From a
checkout `suite_dir` finds the source folder instead (`mock_server.data.schemas.data_dir`,
as for the schemas).

pytest runs in a child process with plugin autoloading off and exactly the plugins the suite
needs: hypothesis and ``mock_server.testing.plugin``, given once with ``-p`` (with
autoloading on, the ``shortapi`` entry point registers that module already and a second
``-p`` fails). Other plugins a project has installed (and their ini options) stay out of the
run; ``-c`` names the suite's own ``runner.ini`` so that a ``pyproject.toml`` found above an
installed package does not configure it either. The kit's own tests (marker ``kit``) are
deselected: they need the repository's fixtures and run in ``make test``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from mock_server.data.schemas import data_dir

CONFIG = "runner.ini"  # in the suite folder: the pytest settings of a `contract` run
NEEDS_EXTRA = (
    "the contract suite needs hypothesis, the kit's contract extra: "
    "pip install 'shortapi-mock[contract]'"
)
JUNIT = "contract-junit.xml"  # pytest's JUnit XML, beside drift.md, drift.json, drift.xml
PLUGINS = (
    "-p",
    "_hypothesis_pytestplugin",
    "-p",
    "mock_server.testing.plugin",
    "-p",
    "no:cacheprovider",  # no .pytest_cache inside site-packages
)
EPILOG = (
    "Other arguments go to pytest, e.g. --hypothesis-profile=contract-ci (or contract-smoke, "
    "contract-nightly), --shortapi-record=PATH, --shortapi-timeout=S, -x, -k EXPR."
)


def suite_dir() -> Path:
    """Return the folder of the contract suite: shipped in the wheel, else the checkout's."""
    return data_dir("contract_tests")


def pytest_command(args: argparse.Namespace, extra: Sequence[str] = ()) -> list[str]:
    """Return the pytest command line of a ``contract`` run; `extra` goes last (it wins)."""
    suite, reports = suite_dir(), Path(args.report_dir).resolve()
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "-c",
        str(suite / CONFIG),
        *PLUGINS,
        "-m",
        "not kit",
        f"--shortapi-target={args.target}",
        f"--shortapi-report-dir={reports}",
        f"--junitxml={reports / JUNIT}",
    ]
    if args.budget_usd is not None:
        command.append(f"--shortapi-budget-usd={args.budget_usd}")
    if args.dry_run:
        command.append("--shortapi-dry-run")
    if args.models_dir:
        command.append(f"--shortapi-models-dir={Path(args.models_dir).resolve()}")
    rest = list(extra)
    if "--" in rest:  # argparse keeps the separator; what follows it is pytest's too
        rest.remove("--")
    return [*command, *rest]


PROBE_TIMEOUT = 5.0  # seconds for the one request that tells a URL target is up


def target_problem(spec: str, *, dry_run: bool = False) -> str | None:
    """Return why the target `spec` cannot be run against (one line), or None: a recording
    is read, a URL asked once (not in a dry run), before any test runs, so a bad target is
    one line instead of an error per test."""
    from mock_server.contract.recording import ReplayTarget
    from mock_server.contract.targets import TargetError

    if spec in ("mock", "live"):  # in-process; live skips cleanly without SHORTAPI_KEY
        return None
    if spec.startswith("replay:"):
        path = spec.removeprefix("replay:")
        try:
            ReplayTarget(Path(path))
        except OSError as exc:
            return f"cannot read the recording {path} ({exc.strerror or exc})"
        except (ValueError, KeyError, TypeError, AttributeError, TargetError) as exc:
            return f"{path} is not a usable shortapi-recording/1 recording ({exc})"
        return None
    if not spec.startswith(("http://", "https://")):
        return f"use mock, live, replay:FILE or an http(s) URL, not {spec!r}"
    if dry_run:
        return None
    import requests

    try:
        requests.get(spec.rstrip("/") + "/_mock/health", timeout=PROBE_TIMEOUT).close()
    except requests.RequestException as exc:
        return f"{spec} does not answer ({type(exc).__name__}); start it, or fix the URL"
    return None


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Run the suite as `args` say; return pytest's exit code (0: every property held)."""
    try:
        import hypothesis  # noqa: F401  (the suite's child process needs it)
    except ImportError:
        print(f"shortapi-mock contract: error: {NEEDS_EXTRA}", file=sys.stderr)
        return 2
    if problem := target_problem(args.target, dry_run=args.dry_run):
        print(f"shortapi-mock contract: error: --target: {problem}", file=sys.stderr)
        return 2
    command = pytest_command(args, extra)
    Path(args.report_dir).mkdir(parents=True, exist_ok=True)
    print(
        f"shortapi-mock contract: {suite_dir()} against {args.target}; "
        f"reports in {Path(args.report_dir).resolve()}",
        file=sys.stderr,
        flush=True,
    )
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.call(command, env=env)
