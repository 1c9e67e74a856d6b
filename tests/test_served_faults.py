"""Over real HTTP (gunicorn, SQLite, 2 workers): dropped connections, callbacks that survive
a kill -9, and concurrent creates that lose nothing and charge to the cent."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from helpers import body
from serving import ServedMock, served_mock

from mock_server.testing.receiver import CallbackReceiver

pytestmark = pytest.mark.slow
KEY = "served-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    workdir = tmp_path_factory.mktemp("served")
    args = [
        "serve",
        "--clock",
        "manual",
        "--store",
        f"sqlite:{workdir}/s.db",
        "--workers",
        "2",
        "--reset",
    ]
    with served_mock(workdir, args) as served:
        yield served


@pytest.mark.parametrize("fault", ["reset", "empty"])
def test_dropped_connections_reach_the_client_as_connection_errors(
    mock: ServedMock, fault: str
) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.post(
            mock.url("/api/v1/job/create"),
            json=body(),
            headers={**AUTH, "X-Mock-Fault": fault},
            timeout=5,
        )
    # The server is fine afterwards and journaled the fault.
    assert requests.get(mock.url("/_mock/health"), timeout=5).ok
    entries = requests.get(mock.url("/_mock/requests?outcome=fault"), timeout=5).json()
    assert fault in [e["fault"] for e in entries["requests"]]


def test_ack_lost_drops_the_answer_of_a_job_that_was_created_and_charged(
    mock: ServedMock,
) -> None:
    key = "ack-lost-key"
    headers = {"Authorization": f"Bearer {key}"}
    requests.post(mock.url(f"/_mock/accounts/{key}"), json={"balance": "10.00"}, timeout=5)
    requests.post(
        mock.url("/_mock/faults"),
        json={"fault": "ack-lost", "key": key, "endpoint": "create"},
        timeout=5,
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(mock.url("/api/v1/job/create"), json=body(), headers=headers, timeout=5)
    account = requests.get(mock.url(f"/_mock/accounts/{key}"), timeout=5).json()
    [job] = requests.get(mock.url(f"/_mock/jobs?key={account['key']}"), timeout=5).json()["jobs"]
    assert Decimal(account["spent"]) == Decimal(job["amount"]) > 0
    assert Decimal(account["balance"]) == Decimal("10.00") - Decimal(job["amount"])
    [entry] = requests.get(mock.url(f"/_mock/requests?key={account['key']}"), timeout=5).json()[
        "requests"
    ]
    assert (entry["fault"], entry["job_id"], entry["status"]) == ("ack-lost", job["id"], 200)
    # The job is there: the same key queries it like any other.
    answer = requests.get(mock.url(f"/api/v1/job/query?id={job['id']}"), headers=headers, timeout=5)
    assert answer.json()["data"]["status"] == 0


def test_503_then_success_over_http(mock: ServedMock) -> None:
    requests.post(
        mock.url("/_mock/faults"),
        json={"fault": "503", "count": 2, "key": KEY, "endpoint": "create"},
        timeout=5,
    )
    statuses = [
        requests.post(
            mock.url("/api/v1/job/create"), json=body(), headers=AUTH, timeout=5
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]


def test_concurrent_creates_lose_nothing_and_charge_to_the_cent(mock: ServedMock) -> None:
    key = "concurrency-key"
    headers = {"Authorization": f"Bearer {key}"}
    requests.post(mock.url(f"/_mock/accounts/{key}"), json={"balance": "100.00"}, timeout=5)
    threads, per_thread = 20, 200
    accepted: list[str] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with requests.Session() as session:
            for i in range(per_thread):
                scenario = {"X-Mock-Scenario": "fail"} if (n + i) % 10 == 0 else {}
                try:
                    response = session.post(
                        mock.url("/api/v1/job/create"),
                        json=body(),
                        headers={**headers, **scenario},
                        timeout=30,
                    )
                except requests.RequestException as exc:
                    errors.append(exc)
                    continue
                with lock:
                    if response.status_code == 200:
                        accepted.append(response.json()["data"]["job_id"])
                    else:
                        refused.append(response.json()["code"])

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert len(accepted) + len(refused) == threads * per_thread
    assert len(set(accepted)) == len(accepted)  # no duplicate ids
    assert set(refused) == {1102}  # only ever "insufficient balance"
    price = Decimal("0.375")
    assert len(accepted) == int(Decimal("100") / price)  # 266: every cent that fits is used
    fingerprint = requests.get(mock.url(f"/_mock/accounts/{key}"), timeout=5).json()["key"]
    listed = requests.get(mock.url(f"/_mock/jobs?key={fingerprint}&limit=10000"), timeout=5).json()[
        "jobs"
    ]
    assert sorted(j["id"] for j in listed) == sorted(accepted)  # none lost
    mock.advance(100)
    failed = sum(
        1
        for j in requests.get(
            mock.url(f"/_mock/jobs?key={fingerprint}&limit=10000"), timeout=5
        ).json()["jobs"]
        if j["status"] == 3
    )
    account = requests.get(mock.url(f"/_mock/accounts/{key}"), timeout=5).json()
    assert Decimal(account["spent"]) == price * len(accepted)
    assert Decimal(account["refunded"]) == price * failed
    assert Decimal(account["balance"]) == Decimal("100") - price * (len(accepted) - failed)


def test_pending_callback_survives_kill_9(tmp_path: Path) -> None:
    args = [
        "serve",
        "--clock",
        "realtime",
        "--speed",
        "20",
        "--store",
        f"sqlite:{tmp_path}/k.db",
        "--workers",
        "2",
        "--callback-attempts",
        "1000",
        "--callback-backoff",
        "2",
        "--callback-backoff-max",
        "2",
    ]
    with CallbackReceiver() as receiver:
        url = receiver.url
    # Nobody listens at `url` now: the first attempts fail and a retry stays pending.
    with served_mock(tmp_path, [*args, "--reset"]) as first:
        job_id = requests.post(
            first.url("/api/v1/job/create"),
            json={**body(), "callback_url": url},
            headers=AUTH,
            timeout=5,
        ).json()["data"]["job_id"]
        _wait_for(lambda: _attempts(first, job_id) >= 1)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    receiver = CallbackReceiver(port=int(url.split(":")[2].split("/")[0]))
    with receiver, served_mock(tmp_path, args) as second:
        [got] = receiver.wait_for(1, timeout=20)
        assert got.json()["data"]["job_id"] == job_id
        [delivery] = requests.get(
            second.url(f"/_mock/callbacks?job_id={job_id}"), timeout=5
        ).json()["callbacks"]
        assert delivery["state"] == "delivered"
        assert len(delivery["attempts"]) >= 2


def _attempts(mock: ServedMock, job_id: str) -> int:
    found = requests.get(mock.url(f"/_mock/callbacks?job_id={job_id}"), timeout=5).json()
    return sum(len(d["attempts"]) for d in found["callbacks"])


def _wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
