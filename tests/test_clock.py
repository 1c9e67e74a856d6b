"""The injectable clock: realtime x speed, manual, per-poll, and mode switches."""

from __future__ import annotations

import pytest

from mock_server.clock import Clock
from mock_server.errors import ConfigError
from mock_server.state.memory import MemoryStore
from mock_server.state.records import Runtime


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(mode: str, speed: float = 1.0) -> tuple[Clock, FakeWall]:
    wall = FakeWall()
    store = MemoryStore(runtime=Runtime(clock=mode, speed=speed, origin_wall=wall.t))
    return Clock(store, wall), wall


def test_realtime_follows_wall_times_speed() -> None:
    clock, wall = make("realtime", speed=4)
    wall.t += 2.5
    assert clock.now() == 10.0


def test_manual_moves_only_when_advanced() -> None:
    clock, wall = make("manual")
    wall.t += 100
    assert clock.now() == 0.0
    assert clock.advance(5) == 5.0
    assert clock.now() == 5.0


def test_advance_also_works_in_realtime() -> None:
    clock, wall = make("realtime")
    clock.advance(30)
    wall.t += 1
    assert clock.now() == 31.0


def test_switching_mode_keeps_the_time() -> None:
    clock, wall = make("realtime", speed=2)
    wall.t += 5
    clock.set_mode("manual")
    wall.t += 5
    assert clock.now() == 10.0
    clock.set_mode("realtime", speed=1)
    wall.t += 3
    assert clock.now() == 13.0


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), "1", None, True])
def test_advance_rejects_bad_seconds(seconds: object) -> None:
    clock, _ = make("manual")
    with pytest.raises(ConfigError):
        clock.advance(seconds)  # type: ignore[arg-type]


def test_bad_mode_and_speed_are_refused() -> None:
    clock, _ = make("manual")
    with pytest.raises(ConfigError):
        clock.set_mode("warp")
    with pytest.raises(ConfigError):
        clock.set_mode("realtime", speed=0)
