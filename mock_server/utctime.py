"""UTC time as text with milliseconds, as `datetime` writes it, at a fraction of its cost: every
request's journal entry, every job's times and every callback attempt are stamped, and a
second's date and time are formatted once."""

from __future__ import annotations

import functools
import math
import time
from datetime import datetime, timezone


def text(wall: float, zone: str = "Z") -> str:
    """Return unix time `wall` as ``YYYY-MM-DDTHH:MM:SS.mmm`` then `zone` (``Z`` or
    ``+00:00``), rounded to the microsecond and cut to the millisecond, as
    ``datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds")``."""
    fraction, whole = math.modf(wall)
    seconds, microseconds = int(whole), round(fraction * 1e6)
    if microseconds >= 1_000_000:
        seconds, microseconds = seconds + 1, microseconds - 1_000_000
    elif microseconds < 0:  # before 1970
        seconds, microseconds = seconds - 1, microseconds + 1_000_000
    return f"{_second(seconds)}.{microseconds // 1000:03d}{zone}"


def now(zone: str = "+00:00") -> str:
    """Return the wall time now as `text` writes it (the ``+00:00`` of ``isoformat``)."""
    return text(time.time(), zone)


@functools.lru_cache(maxsize=1024)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
