"""What one request may cost the mock: every bound in one place (README, "What the mock
guards against"). A shared mock serves clumsy and hostile clients alike; none of them may
make it hold memory, sleep or echo text without a limit.
"""

from __future__ import annotations

import collections
import traceback

from mock_server import errors

# Unexpected errors kept for `MockHandle.check()`: the newest few, never their requests.
ERRORS_KEPT = 20
# Problems echoed (X-Mock-Errors / X-Mock-Warnings, an error's message, a journal entry) and
# the characters of each: `errors.echoed`, beside `Problem`, which every layer raises.
PROBLEMS_ECHOED = errors.PROBLEMS_ECHOED
PROBLEM_CHARS = errors.PROBLEM_CHARS
MESSAGE_CHARS = errors.MESSAGE_CHARS
# A create body's own keys (model, args, callback_url; any other is an error, each explained).
ENVELOPE_KEYS = 100
# A create's args: values in all (object members and array items, nested) and depth.
ARGS_VALUES = 10_000
ARGS_DEPTH = 32
# Durations a fault or scenario may ask for.
LATENCY_MS = 120_000  # X-Mock-Fault latency:MS (wall time: a worker waits it out)
SCENARIO_SECONDS = 30 * 86_400  # slow:SECONDS, callback:delay:SECONDS (clock time)
# The clock: one advance or setting in clock seconds (about 317 years), the realtime speed.
CLOCK_SECONDS = 10_000_000_000
SPEED = 1_000_000.0
# An account's balance in USD (admin API, MockControl).
BALANCE = 1_000_000_000_000
# Files one job's result lists (a count read from an undocumented `n` or `num_images`; the
# documented ones go up to 8).
RESULT_FILES = 16
# Images: more pixels than this (declared in the header) are refused unread.
IMAGE_PIXELS = 50_000_000


class KeptErrors(collections.deque[BaseException]):
    """The newest `ERRORS_KEPT` unexpected errors, for `MockHandle.check()`; `dropped` counts
    the older ones let go. Each error's frames are cleared as it is kept (its traceback's lines
    stay), so no request body or other local lives on in it."""

    def __init__(self, limit: int = ERRORS_KEPT) -> None:
        super().__init__(maxlen=limit)
        self.dropped = 0

    def append(self, error: BaseException) -> None:
        """Keep `error` (its frames' locals released), letting the oldest go when full."""
        if len(self) == self.maxlen:
            self.dropped += 1
        seen: set[int] = set()
        chained: BaseException | None = error
        while chained is not None and id(chained) not in seen:
            seen.add(id(chained))
            traceback.clear_frames(chained.__traceback__)
            chained = chained.__cause__ or chained.__context__
        super().append(error)

    def clear(self) -> None:
        """Forget every kept error and the count of dropped ones."""
        super().clear()
        self.dropped = 0
