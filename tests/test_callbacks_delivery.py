"""Callbacks under a dead receiver: sent concurrently, bounded per destination, never waited
on longer than one attempt's timeout, and a backlog that ends.

A silent receiver is a loopback socket that accepts connections and never answers. Timeouts
are half a second, so each test stays well under a few seconds; the figures (delays, wall
times at the default timeouts) come from bench/backlog.py, not from these tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from helpers import body, create

from mock_server import extensions
from mock_server.control import get_control
from mock_server.state.records import Delivery
from mock_server.testing.receiver import CallbackReceiver, SilentReceiver

TIMEOUT = 0.5  # wall seconds per attempt in these tests


@pytest.fixture
def silent() -> Iterator[SilentReceiver]:
    with SilentReceiver() as started:
        yield started


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as started:
        yield started


def job_to(client: Any, url: str, **headers: str) -> str:
    response = create(client, {**body(), "callback_url": url}, **headers)
    assert response.status_code == 200, response.json
    return str(response.json["data"]["job_id"])


def deliveries(client: Any, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(
        "/_mock/callbacks", query_string={"limit": 1000, **query}
    ).json["callbacks"]
    return found


def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for `check` to hold (polling), or fail."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_silent_receiver_does_not_delay_a_healthy_one(
    make_app: Callable[..., Flask], silent: SilentReceiver, receiver: CallbackReceiver
) -> None:
    # Defect 1: 40 jobs calling a receiver that never answers, then one with a healthy one.
    app = make_app(CLOCK="realtime", SPEED=10.0, CALLBACK_TIMEOUT=TIMEOUT)
    client = app.test_client()
    for _ in range(40):
        job_to(client, silent.url)
    healthy = job_to(client, receiver.url)
    # Sent one after another, the healthy callback would wait 40 x 0.5 s behind them.
    [got] = receiver.wait_for(1, timeout=4)
    assert got.json()["data"]["job_id"] == healthy
    assert 1 <= silent.most_open <= 4  # the silent lane holds its bound, no more


def test_the_silent_receiver_counts_only_the_connections_still_open(
    silent: SilentReceiver,
) -> None:
    """A connection the mock gave up on (after sending its request) no longer counts."""
    port = int(silent.url.rsplit(":", 1)[1].split("/")[0])
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    with socket.create_connection(("127.0.0.1", port)):
        until(lambda: silent.accepted == 4)
    assert silent.most_open == 1


def test_advance_waits_at_most_one_timeout_and_the_rest_finishes_later(
    make_app: Callable[..., Flask], silent: SilentReceiver, receiver: CallbackReceiver
) -> None:
    # Defect 2: 10 silent receivers and a healthy one fall due in one advance.
    app = make_app(CALLBACK_TIMEOUT=TIMEOUT)
    client = app.test_client()
    silent_jobs = [job_to(client, silent.url) for _ in range(10)]
    healthy = job_to(client, receiver.url)
    started = time.monotonic()
    assert client.post("/_mock/clock/advance", json={"seconds": 11}).status_code == 200
    took = time.monotonic() - started
    assert took < 3 * TIMEOUT  # serially it was 10 x 2 attempts x the timeout
    assert [r.json()["data"]["job_id"] for r in receiver.received] == [healthy]
    # Attempts still in flight are journaled when they end, with the timeout as their error.
    until(lambda: all(deliveries(client, job_id=j)[0]["attempts"] for j in silent_jobs[:4]))
    attempt = deliveries(client, job_id=silent_jobs[0])[0]["attempts"][0]
    assert "timed out" in attempt["error"]


def test_a_receiver_that_never_answers_does_not_hold_up_later_advances(
    make_app: Callable[..., Flask], silent: SilentReceiver
) -> None:
    app = make_app(CALLBACK_TIMEOUT=2.0)
    client = app.test_client()
    for _ in range(10):
        job_to(client, silent.url)
    client.post("/_mock/clock/advance", json={"seconds": 10})  # one wave times out: 2 s
    started = time.monotonic()
    client.post("/_mock/clock/advance", json={"seconds": 5})  # its retries fall due
    assert time.monotonic() - started < 1.0  # down: probed briefly, not waited for again


def test_a_receiver_that_is_back_is_waited_for_again(make_app: Callable[..., Flask]) -> None:
    with CallbackReceiver() as gone:
        port = int(gone.url.rsplit(":", 1)[1].split("/")[0])
    app = make_app(CALLBACK_ATTEMPTS=1000, CALLBACK_BACKOFF_MAX=1.0)
    client = app.test_client()
    job_id = job_to(client, gone.url)
    client.post("/_mock/clock/advance", json={"seconds": 20})  # refused, over and over
    with CallbackReceiver(port=port) as back:
        client.post("/_mock/clock/advance", json={"seconds": 5})
        # The lane was down, so the advance waited a quarter second for this attempt, not a
        # whole timeout: on a busy machine it may land just after the advance returned.
        got = back.wait_for(1, timeout=10)
        assert [r.json()["data"]["job_id"] for r in got] == [job_id]
        until(lambda: deliveries(client, job_id=job_id)[0]["state"] == "delivered")
        # Answered again: the lane is up, the next job's callback is sent at the next advance.
        second = job_to(client, back.url)
        client.post("/_mock/clock/advance", json={"seconds": 20})
        got = back.wait_for(2, timeout=10)
        assert [r.json()["data"]["job_id"] for r in got] == [job_id, second]


def test_run_all_waits_at_most_one_timeout_in_all(
    make_app: Callable[..., Flask], silent: SilentReceiver
) -> None:
    app = make_app(CALLBACK_TIMEOUT=TIMEOUT)
    client = app.test_client()
    for _ in range(6):
        job_to(client, silent.url)
    started = time.monotonic()
    get_control(app).run_all()
    assert time.monotonic() - started < 3 * TIMEOUT  # 6 deliveries x 5 attempts, serially


def test_a_trickling_receiver_is_cut_off_at_the_timeout(make_app: Callable[..., Flask]) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.05):  # one byte of a header every 50 ms, forever
                try:
                    conn.sendall(b"X")
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    app = make_app(CALLBACK_TIMEOUT=TIMEOUT, CALLBACK_ATTEMPTS=1)
    client = app.test_client()
    job_id = job_to(client, f"http://127.0.0.1:{server.getsockname()[1]}/hook")
    try:
        client.post("/_mock/clock/advance", json={"seconds": 10})
        until(lambda: bool(deliveries(client, job_id=job_id)[0]["attempts"]), timeout=3)
    finally:
        stop.set()
        server.close()
    [attempt] = deliveries(client, job_id=job_id)[0]["attempts"]
    assert "timed out" in attempt["error"]
    assert attempt["duration_ms"] < TIMEOUT * 1000 + 400


def test_a_jobs_callbacks_keep_their_order_while_sent_concurrently(
    make_app: Callable[..., Flask], receiver: CallbackReceiver
) -> None:
    client = make_app(CALLBACK_EVENTS="all").test_client()
    for _ in range(5):
        job_to(client, receiver.url, **{"X-Mock-Scenario": "callback:out-of-order"})
    client.post("/_mock/clock/advance", json={"seconds": 20})
    by_job: dict[str, list[int]] = {}
    for got in receiver.bodies():
        by_job.setdefault(got["data"]["job_id"], []).append(got["data"]["status"])
    assert list(by_job.values()) == [[2, 1]] * 5


def _backlog(app: Flask, url: str, count: int, *, queued_at: float) -> None:
    store = extensions.store(app)
    for n in range(count):
        store.add_delivery(
            Delivery(id=0, job_id=f"old-{n}", url=url, body={}, due_at=queued_at)
        )  # stored as an older version did: no destination, no queued_at


def test_a_backlog_for_a_dead_host_is_not_waited_for(
    make_app: Callable[..., Flask], receiver: CallbackReceiver
) -> None:
    # An earlier run left deliveries to a host whose lookups hang then fail; an advance that
    # waited for them would take 200 x 0.3 s / 4 lanes.
    def slow_dead(host: str, port: int) -> list[str]:
        if host == "dead.test":
            time.sleep(0.3)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ["127.0.0.1"]

    app = make_app(CALLBACK_TIMEOUT=TIMEOUT, CALLBACK_RESOLVER=slow_dead)
    _backlog(app, "http://dead.test/hook", 200, queued_at=0.0)
    client = app.test_client()
    healthy = job_to(client, receiver.url)
    started = time.monotonic()
    client.post("/_mock/clock/advance", json={"seconds": 10})
    assert time.monotonic() - started < 3 * TIMEOUT
    assert [r.json()["data"]["job_id"] for r in receiver.received] == [healthy]
    health = client.get("/_mock/health")
    assert health.status_code == 200


def test_a_delivery_older_than_the_max_age_is_expired_with_an_entry(
    make_app: Callable[..., Flask],
) -> None:
    with CallbackReceiver() as gone:
        url = gone.url  # nobody listens here any more: every attempt is refused
    app = make_app(CALLBACK_MAX_AGE=30.0, CALLBACK_ATTEMPTS=1000, CALLBACK_BACKOFF_MAX=2.0)
    client = app.test_client()
    job_id = job_to(client, url)
    client.post("/_mock/clock/advance", json={"seconds": 10})  # queued at 10, first attempt
    client.post("/_mock/clock/advance", json={"seconds": 25})  # retried up to 35
    [before] = deliveries(client, job_id=job_id)
    assert before["state"] == "pending" and len(before["attempts"]) > 1
    client.post("/_mock/clock/advance", json={"seconds": 30})  # now 65: older than 30
    # At once, or (if an attempt was in flight just then) at the next sweep, within 1 s.
    until(lambda: deliveries(client, job_id=job_id)[0]["state"] == "expired", timeout=3)
    [after] = deliveries(client, job_id=job_id)
    *attempts, entry = after["attempts"]
    assert entry["error"].startswith("expired") and entry["clock"] == 65.0
    assert all(a["clock"] <= 35 for a in attempts)  # none once it was too old to send


def test_a_backlog_past_its_age_is_expired_in_the_background(
    make_app: Callable[..., Flask],
) -> None:
    def dead(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    app = make_app(CALLBACK_MAX_AGE=60.0, CALLBACK_RESOLVER=dead)
    get_control(app).advance(1000)
    _backlog(app, "http://dead.test/hook", 50, queued_at=10.0)  # left by an earlier run
    client = app.test_client()
    until(lambda: {d["state"] for d in deliveries(client)} == {"expired"}, timeout=5)


def test_an_attempt_is_saved_while_a_pump_holds_the_claim_lock() -> None:
    """A pump's claims can take a while (a busy shared store): an attempt that ends meanwhile
    is saved at once, not after the pump, so its claim cannot run out first and another
    worker send the callback again."""
    from mock_server.callbacks.courier import Courier
    from mock_server.callbacks.lanes import Lanes
    from mock_server.state.memory import MemoryStore

    store = MemoryStore()
    _due_deliveries(store, 1)
    go = threading.Event()

    def attempt(delivery: Delivery, now: float, late: float) -> bool:
        go.wait(5)
        delivery.attempts.append({"status": 200})
        delivery.state = "delivered"
        return True

    errors: list[BaseException] = []
    courier = Courier(store, Lanes(per_destination=1, total=1), attempt, hold=30.0, errors=errors)
    try:
        assert courier.pump(0.0) == 1
        with courier._pump_lock:  # a pump of this process, busy claiming
            go.set()
            until(lambda: store.list_deliveries()[0].state == "delivered")
        until(lambda: not courier.in_flight(set()))
    finally:
        courier.stop(5)
    [saved] = store.list_deliveries()
    assert saved.attempts == [{"status": 200}]
    assert not errors


class _CountingStore:
    """A memory store that counts the writes a courier makes (claims and saves)."""

    def __init__(self) -> None:
        from mock_server.state.memory import MemoryStore

        self.inner = MemoryStore()
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name in ("claim_due", "save_deliveries", "save_delivery"):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.writes += 1
                return value(*args, **kwargs)

            return counted
        return value


def _due_deliveries(store: Any, count: int, *, jobs: int | None = None) -> None:
    for number in range(count):
        job = f"j{number % jobs if jobs else number}"
        store.add_delivery(
            Delivery(
                id=number,
                job_id=job,
                url="http://127.0.0.1:9/cb",
                body={"n": number},
                due_at=float(number),
                destination="127.0.0.1:9",
            )
        )


def test_a_chain_sends_a_lane_s_backlog_with_a_write_per_batch_in_order() -> None:
    """A healthy receiver's backlog goes out one at a time, in the order it fell due, each
    sent once, and saved in batches: far fewer writes than callbacks (under load, every
    write queues behind the creates for the write lock)."""
    from mock_server.callbacks.courier import Courier
    from mock_server.callbacks.lanes import Lanes

    store = _CountingStore()
    _due_deliveries(store, 60, jobs=20)  # 3 deliveries per job: their order matters too
    sent: list[int] = []

    def attempt(delivery: Delivery, now: float, late: float) -> bool:
        sent.append(delivery.body["n"])
        delivery.attempts.append({"status": 200})
        delivery.state, delivery.claimed_until = "delivered", 0.0
        return True

    errors: list[BaseException] = []
    courier = Courier(store, Lanes(per_destination=1, total=1), attempt, hold=30.0, errors=errors)
    try:
        assert courier.pump(100.0) == 1
        until(lambda: not courier.in_flight(set()))
    finally:
        courier.stop(5)
    assert sent == list(range(60))
    states = [(d.state, d.claimed_until, len(d.attempts)) for d in store.list_deliveries()]
    assert states == [("delivered", 0.0, 1)] * 60
    assert store.writes <= 12  # was 61: a claim and a save per callback
    assert errors == []


def test_a_delivery_that_waited_too_long_in_a_chain_is_sent_on_a_fresh_claim() -> None:
    """A claim lasts an attempt's timeout and a margin: a delivery queued behind a slow
    attempt for longer than the margin goes back to the store and is claimed afresh before
    it is sent, never sent on a claim that could run out mid-attempt (another worker would
    send it again)."""
    from mock_server.callbacks.courier import Courier
    from mock_server.callbacks.lanes import Lanes

    store = _CountingStore()
    _due_deliveries(store, 3)
    hold = 2.0  # a queued delivery must have hold - 0.5 s of its claim left when it goes
    left: dict[int, float] = {}  # claim left when sent

    def attempt(delivery: Delivery, now: float, late: float) -> bool:
        left[delivery.body["n"]] = delivery.claimed_until - time.time()
        if delivery.body["n"] == 1:
            time.sleep(0.7)  # the one queued behind it is left 1.3 s: too little
        delivery.attempts.append({"status": 200})
        delivery.state, delivery.claimed_until = "delivered", 0.0
        return True

    courier = Courier(store, Lanes(per_destination=1, total=1), attempt, hold=hold, errors=[])
    try:
        courier.pump(100.0)  # claims 0 (room for one), then its chain 1 and 2 together
        until(lambda: not courier.in_flight(set()))
    finally:
        courier.stop(5)
    assert list(left) == [0, 1, 2]
    assert left[2] > 1.4  # its own claim, made after 1 was sent
    assert [d.state for d in store.list_deliveries()] == ["delivered"] * 3
