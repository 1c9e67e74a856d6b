"""The wheel carries the schemas and the result videos, and works without the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("shortapi_mock-*.whl")
    return found


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
