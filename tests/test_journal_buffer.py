"""The journal's per-process buffer: batches are stored in the order they were taken."""

from __future__ import annotations

import threading
from typing import Any

from mock_server.state.journal_buffer import BufferedJournal


class _SlowFirstStore(BufferedJournal):
    """Stores in memory; the first store waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(limit=100)
        self.stored: list[str] = []
        self.first_taken = threading.Event()
        self.release = threading.Event()

    def _store(self, batch: list[str]) -> None:
        if not self.first_taken.is_set():
            self.first_taken.set()
            assert self.release.wait(timeout=30)
        self.stored.extend(batch)

    def list(self, **_: Any) -> list[dict[str, Any]]:
        raise NotImplementedError


def test_a_flush_never_stores_a_later_batch_before_an_earlier_one() -> None:
    journal = _SlowFirstStore()
    journal._closing.set()  # no writer thread: the test drives both flushes
    journal.append({"n": 1})
    first = threading.Thread(target=journal.flush)
    first.start()
    assert journal.first_taken.wait(timeout=30)  # batch [1] taken, its store held
    journal.append({"n": 2})
    second = threading.Thread(target=journal.flush)
    second.start()
    second.join(timeout=0.2)  # with the fix it waits for the first; without, it stores [2]
    journal.release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert journal.stored == ['{"n": 1}', '{"n": 2}']
