"""`shortapi-mock contract` from an installed wheel: the suite runs and writes its reports."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mock_server.contract import runner

pytestmark = pytest.mark.kit
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_installed_wheel_runs_the_suite_and_writes_the_reports(tmp_path: Path) -> None:
    """Build and unpack the wheel; ``python -m mock_server contract`` from a folder outside."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", "dist", str(ROOT)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("shortapi_mock-*.whl")
    site, work = tmp_path / "site", tmp_path / "work"
    with zipfile.ZipFile(wheel) as archive:
        assert "mock_server/_data/contract_tests/conftest.py" in archive.namelist()
        archive.extractall(site)
    work.mkdir()
    command = ["contract", "--target", "mock", "--report-dir", "out"]
    result = subprocess.run(
        # The smoke profile keeps the run short; the default profile is what a user gets.
        [sys.executable, "-m", "mock_server", *command, "--hypothesis-profile=contract-smoke"],
        cwd=work,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    shipped = site / "mock_server" / "_data" / "contract_tests"
    assert f"rootdir: {shipped}" in result.stdout  # the wheel's suite, not the checkout's
    assert " passed" in result.stdout and "failed" not in result.stdout
    for name in ("drift.md", "drift.json", runner.JUNIT):
        assert (work / "out" / name).is_file(), name
    assert json.loads((work / "out" / "drift.json").read_text())["disagreements"] == []
    assert (
        "test_jobs_stay_consistent_under_any_order_of_calls"
        in (work / "out" / runner.JUNIT).read_text()
    )


def test_extra_arguments_go_to_pytest_after_the_commands_own() -> None:
    """A pytest option given after the command's options wins (pytest keeps the last)."""
    args = argparse.Namespace(
        target="live", report_dir="r", budget_usd=0.5, dry_run=True, models_dir="my-models"
    )
    command = runner.pytest_command(args, ["--", "--shortapi-report-dir=elsewhere", "-x"])
    assert command[command.index("-m", 3) + 1] == "not kit"  # the kit's own tests stay out
    assert "--shortapi-target=live" in command and "--shortapi-dry-run" in command
    assert "--shortapi-budget-usd=0.5" in command
    assert f"--shortapi-models-dir={Path('my-models').resolve()}" in command
    assert command[-2:] == ["--shortapi-report-dir=elsewhere", "-x"]


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("replay:nope.json", "cannot read the recording nope.json"),
        ("replay:empty.json", "not a usable shortapi-recording/1 recording"),
        ("http://127.0.0.1:{port}", "does not answer"),
        ("ftp://example.com", "use mock, live, replay:FILE or an http(s) URL"),
    ],
)
def test_a_bad_target_is_one_line_before_any_test_runs(
    tmp_path: Path, target: str, said: str
) -> None:
    """The target is checked once: one line, rc 2, no pytest run, no report folder."""
    (tmp_path / "empty.json").write_text('{"format": "shortapi-recording/1"}')
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "contract", "--target", target.format(port=port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert not (tmp_path / "reports").exists()
