"""The standard build (``python -m build``: the sdist, then the wheel made from it) ships the
whole kit: the schemas, the result videos and the contract suite; the wheel serves and runs
``shortapi-mock contract`` without the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from mock_server.contract import runner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel ``python -m build`` makes (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (sdist,) = out.glob("shortapi_mock-*.tar.gz")
    (found,) = out.glob("shortapi_mock-*.whl")
    return sdist, found


@pytest.fixture(scope="module")
def wheel(built: tuple[Path, Path]) -> Path:
    return built[1]


@pytest.mark.slow
def test_the_sdist_carries_what_the_wheel_and_the_tests_need(built: tuple[Path, Path]) -> None:
    with tarfile.open(built[0]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "contract_tests/runner.ini",
        "contract_tests/conftest.py",
        "schemas/openapi.json",
        "fixtures/videos",
        "examples/test_kling_client.py",
        "pyproject.toml",
    ):
        assert needed in names or any(n.startswith(needed + "/") for n in names), needed


@pytest.mark.slow
def test_contract_from_the_built_wheel_writes_its_reports(wheel: Path, tmp_path: Path) -> None:
    """A venv with the wheel (its dependencies from this one): ``shortapi-mock contract``."""
    venv, work = tmp_path / "venv", tmp_path / "work"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # This venv's packages (not its editable checkout, whose .pth is not read from here).
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run(
        [*pip, "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    work.mkdir()
    command = [venv / "bin" / "shortapi-mock", "contract", "--target", "mock"]
    result = subprocess.run(
        # The smoke profile keeps the run short; the default profile is what a user gets.
        [*command, "--report-dir", "out", "--hypothesis-profile=contract-smoke"],
        cwd=work,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    shipped = Path(site) / "mock_server" / "_data" / "contract_tests"
    assert f"rootdir: {shipped}" in result.stdout  # the wheel's suite, not the checkout's
    assert " passed" in result.stdout and "failed" not in result.stdout
    for name in ("drift.md", "drift.json", runner.JUNIT):
        assert (work / "out" / name).is_file(), name
    assert json.loads((work / "out" / "drift.json").read_text())["disagreements"] == []
    assert (
        "test_jobs_stay_consistent_under_any_order_of_calls"
        in (work / "out" / runner.JUNIT).read_text()
    )


@pytest.mark.slow
def test_wheel_contains_schemas_videos_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mock_server/_data/schemas/openapi.json" in names
    assert "mock_server/_data/schemas/assumptions.json" in names
    assert "mock_server/_data/schemas/models/kling-o1-image-to-video.args.json" in names
    assert "mock_server/_data/videos/blocks.zip" in names  # what the result videos are made of
    assert "mock_server/py.typed" in names
    assert "mock_server/intercept/node_preload.mjs" in names  # shortapi-mock run's Node preload
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "shortapi-mock = mock_server.serve.cli:main" in text


@pytest.mark.slow
def test_installed_wheel_serves_without_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    script = (
        "import mock_server, mock_server.data.schemas as s\n"
        "assert 'site' in mock_server.__file__, mock_server.__file__\n"
        "assert s.data_dir('schemas').parts[-2] == '_data'\n"
        "app = mock_server.create_app({'CLOCK': 'manual'})\n"
        "c = app.test_client()\n"
        "h = {'Authorization': 'Bearer k'}\n"
        "b = {'model': 'kwaivgi/kling-o1/image-to-video', 'args': {'mode': 'std',"
        " 'action': 'frame', 'prompt': 'p', 'images': ['https://e.com/a.jpg']}}\n"
        "j = c.post('/api/v1/job/create', json=b, headers=h).json['data']['job_id']\n"
        "c.post('/_mock/clock/advance', json={'seconds': 10})\n"
        "r = c.get(f'/files/{j}.mp4')\n"
        "assert r.status_code == 200 and r.data[4:8] == b'ftyp'\n"
        "r.close()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _make_plan(target: str, venv: Path) -> str:
    """Return the commands `make TARGET` would run for a fresh environment at `venv`."""
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_serve_installs_only_the_package_and_make_test_the_dev_tools(
    tmp_path: Path,
) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    serve = _make_plan("serve", tmp_path / "venv")
    assert "pip install --quiet -e .\n" in serve
    assert "[dev]" not in serve
    assert "shortapi-mock serve" in serve
    test = _make_plan("test", tmp_path / "venv")
    assert "pip install --quiet -e '.[dev]'" in test


def test_make_help_lists_the_targets_from_their_comments() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert {"serve", "test", "lint", "contract", "bench", "clean"} <= set(lines)
    assert "start the mock" in lines["serve"]


def test_a_venv_whose_python_no_longer_runs_is_made_anew(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    (venv / "bin" / "python").symlink_to(tmp_path / "python3.9-removed")  # dangling
    plan = _make_plan("serve", venv)
    assert "its python does not run" in plan and f"rm -rf {venv}" in plan
    assert "-m venv" in plan  # and the plan makes it again
    assert venv.exists()  # a plan (make -n), or make help, deletes nothing
    helped = subprocess.run(["make", "help", f"VENV={venv}"], cwd=ROOT, capture_output=True)
    assert helped.returncode == 0
    assert (venv / "pyvenv.cfg").exists()
