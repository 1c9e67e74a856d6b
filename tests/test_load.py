"""Load without loss: several gunicorn workers on one SQLite file, a bounded loopback mix of
creates, queries and clock advances, then kill -9 mid-load and a restart."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
import requests
from helpers import body
from serving import ServedMock, served_mock

from mock_server.testing.receiver import CallbackReceiver

pytestmark = pytest.mark.slow
THREADS, OPS = 8, 150  # bounded: 1,200 requests at most


def mixed_load(
    mock: ServedMock,
    callback_url: str,
    acknowledged: list[str],
    errors: list[BaseException],
    stop: threading.Event,
    seed: int,
) -> None:
    """Creates (60%), queries of own jobs (35%) and clock advances (5%)."""
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer load-{seed % 3}"}
    mine: list[str] = []
    with requests.Session() as session:
        for _ in range(OPS):
            if stop.is_set():
                return
            roll = rng.random()
            try:
                if roll < 0.6 or not mine:
                    response = session.post(
                        mock.url("/api/v1/job/create"),
                        headers=auth,
                        json={**body(), "callback_url": callback_url},
                        timeout=10,
                    )
                    assert response.status_code == 200, response.text
                    mine.append(response.json()["data"]["job_id"])
                    acknowledged.append(mine[-1])
                elif roll < 0.95:
                    response = session.get(
                        mock.url(f"/api/v1/job/query?id={rng.choice(mine)}"),
                        headers=auth,
                        timeout=10,
                    )
                    assert response.status_code == 200, response.text
                else:
                    session.post(
                        mock.url("/_mock/clock/advance"), json={"seconds": 1}, timeout=10
                    ).raise_for_status()
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                if not stop.is_set():  # only the kill may cut a request short
                    raise
            except BaseException as exc:
                errors.append(exc)
                return


def run_load(mock: ServedMock, callback_url: str, *, kill_after: int | None = None) -> list[str]:
    acknowledged: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=mixed_load, args=(mock, callback_url, acknowledged, errors, stop, n)
        )
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    if kill_after is not None:
        while len(acknowledged) < kill_after and any(t.is_alive() for t in threads):
            threading.Event().wait(0.01)
        stop.set()
        mock.kill_hard()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return list(acknowledged)


def test_mixed_load_loses_nothing(tmp_path: Path) -> None:
    args = [
        "serve",
        "--clock",
        "manual",
        "--store",
        f"sqlite:{tmp_path}/l.db",
        "--workers",
        "3",
        "--reset",
    ]
    with CallbackReceiver() as receiver, served_mock(tmp_path, args) as mock:
        acknowledged = run_load(mock, receiver.url)
        assert len(acknowledged) == len(set(acknowledged))  # no duplicate ids
        listed = requests.get(mock.url("/_mock/jobs?limit=10000"), timeout=10).json()["jobs"]
        assert {j["id"] for j in listed} == set(acknowledged)  # none lost, none invented
        requests.post(mock.url("/_mock/run"), timeout=60).raise_for_status()
        deliveries = requests.get(mock.url("/_mock/callbacks?limit=10000"), timeout=10).json()[
            "callbacks"
        ]
    assert sorted(d["job_id"] for d in deliveries) == sorted(acknowledged)  # one each
    assert {d["state"] for d in deliveries} == {"delivered"}
    assert len(receiver.received) == len(acknowledged)


def test_kill_9_mid_load_keeps_every_acknowledged_job_and_callback(tmp_path: Path) -> None:
    args = [
        "serve",
        "--clock",
        "manual",
        "--store",
        f"sqlite:{tmp_path}/k.db",
        "--workers",
        "3",
        "--callback-attempts",
        "1000",
        "--callback-backoff-max",
        "2",
    ]
    with CallbackReceiver() as receiver:
        down = receiver.url  # nobody listens here after this block: deliveries stay pending
    with served_mock(tmp_path, [*args, "--reset"]) as first:
        acknowledged = run_load(first, down, kill_after=300)
    assert len(acknowledged) >= 300
    with served_mock(tmp_path, args) as second:
        listed = requests.get(second.url("/_mock/jobs?limit=10000"), timeout=10).json()["jobs"]
        assert set(acknowledged) <= {j["id"] for j in listed}  # every acknowledged job is back
        second.advance(20)  # every job finishes; each callback fails and waits for a retry
        pending = requests.get(second.url("/_mock/callbacks?limit=10000"), timeout=10).json()[
            "callbacks"
        ]
        assert {d["job_id"] for d in pending} >= set(acknowledged)
        assert {d["state"] for d in pending} == {"pending"}
    with (
        CallbackReceiver(port=int(down.rsplit(":", 1)[1].split("/")[0])) as receiver,
        served_mock(tmp_path, args) as third,
    ):
        third.advance(60)  # after a second restart, the pending callbacks are delivered
        # advance waits on receivers for at most one callback timeout; what is still in
        # flight then finishes in the background, so look until it has (bounded).
        deadline = time.monotonic() + 60
        while True:
            delivered = requests.get(third.url("/_mock/callbacks?limit=10000"), timeout=10).json()[
                "callbacks"
            ]
            states = {d["state"] for d in delivered}
            if states == {"delivered"} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
            third.advance(1)
        assert states == {"delivered"}
        assert {b["data"]["job_id"] for b in receiver.bodies()} >= set(acknowledged)
