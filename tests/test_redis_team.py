"""The proof of the team setup: three `shortapi-mock serve` processes on different ports share
one Redis, and behave as one mock. Threads spread creates, queries, clock advances (the admin
API, with the admin token) and balance-limited creates across them round-robin: no job is
lost, no id repeats, the balance is exact to the cent, each callback is sent once. Then one
process is killed with SIGKILL mid-load: the others go on answering, and the callbacks it
had claimed are sent by them once its claims run out. Loopback only; about 20 s."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
import redis_server
import requests
from helpers import body
from serving import ServedMock, served_mock

from mock_server.state.redis_conn import PASSWORD_ENV, Keys
from mock_server.testing.receiver import CallbackReceiver

pytestmark = pytest.mark.slow

TOKEN = "team-admin-token"
ADMIN = {"X-Mock-Admin-Token": TOKEN}
PRICE = Decimal("0.375")  # the price of helpers.body()
TIMEOUT = 1.0  # --callback-timeout: a claim is held TIMEOUT + 1 s (callbacks/dispatcher.py)
HOLD = TIMEOUT + 1.0


@contextlib.contextmanager
def team_member(
    workdir: Path, store: str, *, reset: bool, callback_timeout: float
) -> Iterator[ServedMock]:
    """Start one mock host on the shared store (one worker, manual clock, admin token)."""
    args = ["serve", "--store", store, "--clock", "manual", "--workers", "1", "--threads", "8"]
    args += ["--admin-token", TOKEN, "--callback-timeout", str(callback_timeout)]
    with served_mock(workdir, [*args, *(["--reset"] if reset else [])], admin_token=TOKEN) as mock:
        yield mock


@contextlib.contextmanager
def three_hosts(workdir: Path, store: str, callback_timeout: float) -> Iterator[list[ServedMock]]:
    """Three mock hosts on one Redis database (the first one resets it)."""
    with contextlib.ExitStack() as stack:
        hosts = [
            stack.enter_context(
                team_member(workdir, store, reset=n == 0, callback_timeout=callback_timeout)
            )
            for n in range(3)
        ]
        yield hosts


@pytest.fixture
def team(tmp_path: Path, redis_url: str) -> Iterator[list[ServedMock]]:
    """Three mock hosts on one Redis, the default attempt timeout (a claim held 6 s)."""
    with three_hosts(tmp_path, redis_url, callback_timeout=5.0) as hosts:
        yield hosts


@pytest.fixture
def quick_team(tmp_path: Path, redis_url: str) -> Iterator[list[ServedMock]]:
    """Three mock hosts on one Redis whose claims run out soon (TIMEOUT + 1 s)."""
    with three_hosts(tmp_path, redis_url, callback_timeout=TIMEOUT) as hosts:
        yield hosts


def create(mock: ServedMock, key: str, callback: str | None, **headers: str) -> requests.Response:
    payload = {**body(), **({"callback_url": callback} if callback else {})}
    return requests.post(
        mock.url("/api/v1/job/create"),
        json=payload,
        headers={"Authorization": f"Bearer {key}", **headers},
        timeout=30,
    )


def query(mock: ServedMock, job_id: str, key: str) -> requests.Response:
    return requests.get(
        mock.url(f"/api/v1/job/query?id={job_id}"),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def admin(mock: ServedMock, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(method, mock.url(path), headers=ADMIN, timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def per_job(receiver: CallbackReceiver) -> Counter[str]:
    """How many callbacks the receiver got for each job."""
    return Counter(str(b["data"]["job_id"]) for b in receiver.bodies())


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def run_threads(work: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_three_hosts_on_one_redis_answer_as_one_mock(team: list[ServedMock]) -> None:
    admin(team[0], "POST", "/_mock/accounts/paid-key", json={"balance": "10.00"})
    acked: list[tuple[str, str]] = []  # (job id, key)
    paid_failed: list[str] = []
    refused: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    turn = itertools.count()

    with CallbackReceiver() as receiver:

        def work(n: int) -> None:
            for i in range(24):
                mock = team[next(turn) % 3]  # round-robin over the hosts
                try:
                    if n == 0 and i % 4 == 0:
                        admin(mock, "POST", "/_mock/clock/advance", json={"seconds": 1})
                        continue
                    paid = i % 2 == 1
                    fail = {"X-Mock-Scenario": "fail"} if i % 6 == 1 else {}
                    key = "paid-key" if paid else "team-key"
                    created = create(mock, key, receiver.url, **fail)
                    if created.status_code != 200:
                        with lock:
                            refused.append(created.json()["code"])
                        continue
                    job_id = created.json()["data"]["job_id"]
                    with lock:
                        acked.append((job_id, key))
                        if paid and fail:
                            paid_failed.append(job_id)
                    other = team[(next(turn) + 1) % 3]  # read back through another host
                    if query(other, job_id, key).status_code != 200:
                        errors.append(f"{job_id} not found on {other.base_url}")
                except requests.RequestException as exc:
                    errors.append(repr(exc))

        run_threads(work, 6)
        admin(team[1], "POST", "/_mock/clock/advance", json={"seconds": 30})  # all settle

        assert errors == []
        ids = [job_id for job_id, _ in acked]
        assert len(ids) == len(set(ids))  # no duplicate id
        assert refused and set(refused) == {1102}  # the paid key ran out: "insufficient balance"
        for mock in team:  # no lost job: every acknowledged id answers on every host
            for job_id, key in acked:
                assert query(mock, job_id, key).json()["data"]["status"] in (2, 3)
        paid = [job_id for job_id, key in acked if key == "paid-key"]
        account = admin(team[2], "GET", "/_mock/accounts/paid-key")
        assert Decimal(account["spent"]) == PRICE * len(paid)
        assert Decimal(account["refunded"]) == PRICE * len(paid_failed)
        assert Decimal(account["balance"]) == Decimal("10.00") - PRICE * (
            len(paid) - len(paid_failed)
        )
        wait_until(lambda: len(per_job(receiver)) == len(ids))
        time.sleep(1.0)  # a second host sending one again would do so within a few ticks
        counts = per_job(receiver)
        assert set(counts) == set(ids) and set(counts.values()) == {1}  # each sent once
        journal = admin(team[0], "GET", "/_mock/requests?limit=10000")["requests"]
        created_ids = {e.get("job_id") for e in journal if e["path"] == "/api/v1/job/create"}
        assert set(ids) <= created_ids  # one journal: every host's traffic


def advance_until_killed(mock: ServedMock) -> None:
    """Advance `mock`'s clock by 30 s; it dies while waiting for its callbacks."""
    with contextlib.suppress(requests.RequestException):
        requests.post(
            mock.url("/_mock/clock/advance"), json={"seconds": 30}, headers=ADMIN, timeout=30
        )


def held_claims(client: redis.Redis) -> dict[str, float]:
    """The pending deliveries claimed now, by job: job id -> claimed until (wall time)."""
    keys = Keys()
    claims = {k: float(v) for k, v in client.hgetall(keys.claims).items() if float(v) > time.time()}
    held = {}
    for delivery_id, until in claims.items():
        raw = client.hget(keys.deliveries, delivery_id)
        if raw and client.zscore(keys.pending, delivery_id) is not None:
            held[json.loads(raw)["job_id"]] = until
    return held


def test_a_killed_host_leaves_nothing_unsent(
    quick_team: list[ServedMock], redis_server_session: redis_server.RedisServer
) -> None:
    doomed, *alive = team = quick_team
    client = redis_server_session.client()
    # Slow enough that the doomed host is mid-attempt when it dies, within the attempt timeout.
    with CallbackReceiver(delay=0.6) as receiver:
        ids = [
            create(team[n % 3], "team-key", receiver.url).json()["data"]["job_id"]
            for n in range(24)
        ]
        # The host that advances the clock settles the jobs and sends their callbacks at once
        # (the others' background waits a claim hold on a manual clock): the doomed one holds
        # the claims when it is killed.
        loading, served, failures = threading.Event(), [], []

        def load(n: int) -> None:  # creates and queries on the live hosts, through the kill
            while not loading.is_set():
                mock = alive[n % 2]
                try:
                    created = create(mock, "team-key", None)
                    found = query(alive[(n + 1) % 2], created.json()["data"]["job_id"], "team-key")
                    served.append(found.status_code)
                except (requests.RequestException, KeyError, ValueError) as exc:
                    failures.append(f"{mock.base_url}: {exc!r}")

        loaders = [threading.Thread(target=load, args=(n,)) for n in range(2)]
        advancing = threading.Thread(target=advance_until_killed, args=(doomed,))
        for thread in [*loaders, advancing]:
            thread.start()
        wait_until(lambda: bool(held_claims(client)), timeout=10)  # the doomed host is sending
        doomed.kill_hard()
        held = held_claims(client)  # what it held when it died: claimed, still pending
        advancing.join()
        time.sleep(1.0)  # the live hosts keep answering after the kill
        loading.set()
        for thread in loaders:
            thread.join()
        assert failures == []
        assert served and set(served) == {200}
        wait_until(lambda: set(per_job(receiver)) == set(ids))
        callbacks = admin(alive[0], "GET", "/_mock/callbacks?limit=1000")["callbacks"]
        assert {c["job_id"] for c in callbacks} == set(ids)
        assert {c["state"] for c in callbacks} == {"delivered"}
        # What the doomed host held was sent by another host, once its claim had run out.
        assert held
        for job_id, until in held.items():
            assert (
                max(r.at for r in receiver.received if r.json()["data"]["job_id"] == job_id)
                >= until
            )
        assert max(per_job(receiver).values()) <= 2  # at most its attempt in flight, again
    client.close()


@redis_server.needs_redis
def test_serve_on_redis_hides_the_password_and_resets_only_when_asked(tmp_path: Path) -> None:
    with redis_server.running("--requirepass", "pw-team-1") as server:

        def args(store: str) -> list[str]:
            return ["serve", "--store", store, "--clock", "manual", "--workers", "2"]

        with_password = args(f"redis://:pw-team-1@127.0.0.1:{server.port}/0")
        with served_mock(tmp_path, [*with_password, "--reset"]) as first:
            assert "redis://:***@127.0.0.1" in first.stdout()
            assert "pw-team-1" not in first.stdout() + first.stderr()
            job_id = create(first, "team-key", None).json()["data"]["job_id"]
        with served_mock(tmp_path, with_password) as again:  # a restart keeps the jobs
            assert query(again, job_id, "team-key").status_code == 200
        env = {PASSWORD_ENV: "pw-team-1"}  # the password from the environment instead
        bare = args(f"redis://127.0.0.1:{server.port}/0")
        with served_mock(tmp_path, [*bare, "--reset"], env=env) as reset:
            assert query(reset, job_id, "team-key").json()["code"] != 0  # gone
