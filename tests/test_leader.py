"""One worker of a served mock sends callbacks in the background (callbacks/leader.py): the
one holding the server's lock file; when it dies another takes over and callbacks go on."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from helpers import body
from serving import ServedMock, served_mock

from mock_server.callbacks.leader import Leader
from mock_server.testing.receiver import CallbackReceiver

AUTH = {"Authorization": "Bearer leader-key"}


def test_one_holder_at_a_time_and_the_next_takes_over(tmp_path: Path) -> None:
    path = str(tmp_path / "callbacks.lock")
    first, second = Leader(path), Leader(path)
    assert first.held()
    assert not second.held()
    assert first.held()  # kept, not taken again
    first.close()
    assert second.held()
    assert not first.held()
    second.close()


def test_without_a_lock_file_the_process_leads() -> None:
    assert Leader(None).held()


def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _workers(mock: ServedMock) -> list[int]:
    """The served mock's worker processes (children of its master)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == mock.process.pid:
            found.append(int(pid))
    return found


def _leaders(mock: ServedMock) -> list[int]:
    """The workers holding the callbacks lock, read from /proc/locks."""
    lock_inodes = set()
    for pid in _workers(mock):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd).endswith("callbacks.lock"):
                    lock_inodes.add(os.stat(fd).st_ino)
            except OSError:
                continue
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and int(fields[5].split(":")[-1]) in lock_inodes:
            holders.append(int(fields[4]))
    return holders


def _create(mock: ServedMock, url: str) -> str:
    answer = requests.post(
        mock.url("/api/v1/job/create"),
        json={**body(), "callback_url": url},
        headers=AUTH,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["job_id"])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads Linux's /proc/locks")
def test_callbacks_go_on_when_the_worker_sending_them_dies(tmp_path: Path) -> None:
    args = ["serve", "--speed", "20", "--store", f"sqlite:{tmp_path}/l.db", "--workers", "2"]
    with CallbackReceiver() as receiver, served_mock(tmp_path, [*args, "--reset"]) as mock:
        first = _create(mock, receiver.url)
        [got] = receiver.wait_for(1, timeout=30)
        assert got.json()["data"]["job_id"] == first
        _until(lambda: len(_leaders(mock)) == 1)
        [leader] = _leaders(mock)
        assert len(_workers(mock)) == 2
        os.kill(leader, signal.SIGKILL)
        _until(lambda: leader not in _workers(mock) and len(_leaders(mock)) == 1)
        second = _create(mock, receiver.url)
        got = receiver.wait_for(2, timeout=30)
        assert [c.json()["data"]["job_id"] for c in got] == [first, second]
        assert _leaders(mock) != [leader]
