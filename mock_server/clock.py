"""The one clock that drives job status changes (and, later, callback delivery).

Modes: ``realtime`` (wall time x speed), ``manual`` (moves only when advanced) and
``per-poll`` (time stands still; each query moves its job one step, see lifecycle.py).
The clock's state lives in the store, so every worker reads the same time.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

from mock_server import bounds
from mock_server.choices import MODES as MODES
from mock_server.errors import ConfigError
from mock_server.state.protocol import Store
from mock_server.state.records import Runtime

WallClock = Callable[[], float]


def now_of(runtime: Runtime, wall: float) -> float:
    """Return clock seconds for `runtime` at wall time `wall`."""
    if runtime.clock == "realtime":
        return runtime.offset + (wall - runtime.origin_wall) * runtime.speed
    return runtime.offset


def check_mode(mode: str) -> str:
    """Return `mode` if it is a clock mode, else raise `ConfigError`."""
    if mode not in MODES:
        raise ConfigError(f"unknown clock mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def check_seconds(seconds: object) -> float:
    """Return `seconds` as a finite, non-negative float, else raise `ConfigError`."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ConfigError('seconds must be a number, e.g. {"seconds": 5}')
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        raise ConfigError("seconds must be a finite number >= 0")
    if value > bounds.CLOCK_SECONDS:
        raise ConfigError(
            f"seconds must be at most {bounds.CLOCK_SECONDS:,} (the mock's bound CLOCK_SECONDS)"
        )
    return value


class Clock:
    """Read and move the shared clock. `wall` is injectable for tests."""

    def __init__(self, store: Store, wall: WallClock = time.time) -> None:
        self.store = store
        self.wall = wall

    def now(self, runtime: Runtime | None = None) -> float:
        """Return the current clock time in seconds."""
        return now_of(runtime or self.store.runtime(), self.wall())

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` (in any mode) and return the new time."""
        step = check_seconds(seconds)
        runtime = self.store.update_runtime(
            lambda r: dataclasses.replace(r, offset=r.offset + step)
        )
        return self.now(runtime)

    def set_mode(self, mode: str, *, speed: float | None = None) -> Runtime:
        """Switch mode (and speed) without a jump in the current time."""
        check_mode(mode)
        if speed is not None and not (math.isfinite(speed) and 0 < speed <= bounds.SPEED):
            raise ConfigError(
                f"speed must be a number > 0 and at most {bounds.SPEED:,.0f} (the mock's bound "
                "SPEED)"
            )
        wall = self.wall()

        def change(r: Runtime) -> Runtime:
            return dataclasses.replace(
                r,
                clock=mode,
                speed=r.speed if speed is None else speed,
                offset=now_of(r, wall),
                origin_wall=wall,
            )

        return self.store.update_runtime(change)
