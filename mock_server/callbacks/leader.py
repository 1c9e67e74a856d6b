"""Which worker process sends callbacks in the background: the one holding a lock file.

Under ``serve --workers N`` every worker has a dispatcher, and each used to settle due jobs and
claim due deliveries every tick: N processes competing for the same rows and the store's write
lock, on the same cores as the requests. `serve` now gives the workers one lock file
(``CALLBACK_LEADER_LOCK``); the worker that holds it runs the background rounds, the others
skip them and only answer requests. A worker that exits lets the lock go with its descriptor,
and another takes it at its next tick (every ``TICK_SECONDS``), so callbacks go on. What
requests do themselves (``advance``, ``run_all``, the per-poll clock's settling) runs in the
worker that got the request, as before. Without a lock file (one process: tests, the pytest
plugin, ``--workers 1``) the process is its own leader.
"""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: every worker runs its rounds, as before
    fcntl = None  # type: ignore[assignment]


class Leader:
    """Whether this process holds the lock file at `path` (taken on first ask, kept)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0  # the process the descriptor was opened in: a fork must open its own
        self._leads = False

    def held(self) -> bool:
        """Say whether this process leads; try to take the lock if it does not."""
        if self.path is None or fcntl is None:
            return True
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._leads = False
        if not self._leads:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another worker leads
                return False
            self._leads = True
        return True

    def close(self) -> None:
        """Give the lock back (another worker takes it at its next tick)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid, self._leads = None, 0, False
