"""``serve --config FILE``: settings no option sets (PRICES, UPLOADS_KEPT, ...) for a served
mock, and defaults for those an option sets (the option given wins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server import close_app, create_app
from mock_server.serve import cli

MODEL = "kwaivgi/kling-o1/image-to-video"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The configs `serve` would start its workers with (none is started)."""
    configs: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "start_workers", lambda config, args: configs.append(config))
    return configs


def serve(*extra: str) -> int:
    return cli.main(["serve", "--store", "memory", "--workers", "1", *extra])


def test_the_file_sets_prices_and_uploads_kept(
    tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    settings = {"PRICES": {MODEL: {"std": "0.01"}}, "UPLOADS_KEPT": 3, "CLOCK": "manual"}
    (tmp_path / "mock.json").write_text(json.dumps(settings))
    assert serve("--config", str(tmp_path / "mock.json")) == 0
    [config] = started
    assert config["PRICES"] == {MODEL: {"std": "0.01"}} and config["UPLOADS_KEPT"] == 3
    assert config["CLOCK"] == "manual"  # an option's key: its default from the file
    app = create_app({**config, "BACKGROUND": False})
    body = {
        "model": MODEL,
        "args": {
            "mode": "std",
            "action": "frame",
            "prompt": "a cat",
            "images": ["https://example.com/a.jpg"],
        },
    }
    answer = app.test_client().post(
        "/api/v1/job/create", json=body, headers={"Authorization": "Bearer k"}
    )
    assert answer.json["data"]["amount"] == "0.05"  # 5 s at the file's 0.01 per second
    close_app(app)


def test_an_option_given_wins_over_the_file(tmp_path: Path, started: list[dict[str, Any]]) -> None:
    (tmp_path / "mock.toml").write_text('CLOCK = "manual"\nSPEED = 3.0\nCORS = true\n')
    assert serve("--config", str(tmp_path / "mock.toml"), "--clock", "per-poll") == 0
    [config] = started
    assert (config["CLOCK"], config["SPEED"], config["CORS"]) == ("per-poll", 3.0, True)


def test_a_switch_the_file_turns_on_is_turned_off_by_its_no_option(
    tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    (tmp_path / "mock.toml").write_text("CORS = true\nSTRICT_ARGS = true\n")
    assert serve("--config", str(tmp_path / "mock.toml"), "--no-cors", "--no-strict-args") == 0
    assert serve("--config", str(tmp_path / "mock.toml")) == 0
    assert serve("--cors", "--strict-args") == 0
    off, on, given = started
    assert (off["CORS"], off["STRICT_ARGS"]) == (False, False)
    assert (on["CORS"], on["STRICT_ARGS"]) == (True, True)
    assert (given["CORS"], given["STRICT_ARGS"]) == (True, True)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"PRICE": {}}, "unknown setting(s) PRICE"),
        ({"WALL_CLOCK": 1}, "unknown setting(s) WALL_CLOCK"),
        ({"PRICES": {MODEL: {"std": 0.01}}}, "decimal string"),
        ({"UPLOADS_KEPT": -1}, "UPLOADS_KEPT must be a whole number"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_setting(
    tmp_path: Path,
    started: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    settings: dict[str, Any],
    said: str,
) -> None:
    (tmp_path / "mock.json").write_text(json.dumps(settings))
    assert serve("--config", str(tmp_path / "mock.json")) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and started == []
