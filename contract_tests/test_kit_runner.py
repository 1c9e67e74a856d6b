"""The pytest command line of ``shortapi-mock contract`` (the run from a built wheel is in
tests/test_packaging.py)."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.contract import runner

pytestmark = pytest.mark.kit


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
