"""The Redis store across processes and hosts: what several mock hosts sharing one Redis rely
on (admission, injections, claims and the journal atomic across store instances), its URL and
password handling, and a reset that deletes only its own keys. tests/test_store.py runs the
common store suite on Redis besides."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import redis_server

from mock_server.errors import ConfigError
from mock_server.jobs.accounts import AdmissionError, admission
from mock_server.state import open_store
from mock_server.state.protocol import DueClaim, Store, Upload
from mock_server.state.records import Account, Delivery, Injection, Job, Runtime
from mock_server.state.redis_conn import PASSWORD_ENV, redact
from mock_server.state.redis_store import RedisStore


def make_job(job_id: str, owner: str = "key_a", amount: str = "0.35") -> Job:
    return Job(
        id=job_id,
        owner=owner,
        model="m",
        args={},
        amount=amount,
        created_at=1.0,
        created_wall=2.0,
        queued_for=2.0,
        processing_for=8.0,
    )


@pytest.fixture
def two(redis_url: str) -> Iterator[tuple[Store, Store]]:
    """Two store instances on one Redis database: two mock hosts."""
    one, other = open_store(redis_url), open_store(redis_url)
    yield one, other
    one.close()
    other.close()


def hammer(stores: tuple[Store, Store], work: Callable[[Store, int], None], per: int = 4) -> None:
    """Run `work(store, n)` on `per` threads per store at once."""
    threads = [
        threading.Thread(target=work, args=(store, n)) for n in range(per) for store in stores
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_balance_is_exact_to_the_cent_when_two_hosts_admit_at_once(
    two: tuple[Store, Store],
) -> None:
    two[0].put_account(Account(owner="key_a", balance="10.00"))
    admitted: list[str] = []

    def work(store: Store, n: int) -> None:
        for i in range(10):
            job_id = f"{id(store)}-{n}-{i}"
            try:
                store.admit(make_job(job_id), admission("0.35"))
            except AdmissionError:
                continue
            admitted.append(job_id)

    hammer(two, work)
    account = two[1].get_account("key_a")
    assert account is not None
    assert len(admitted) == 28  # 28 x 0.35 = 9.80 <= 10.00 < 29 x 0.35
    assert Decimal(account.balance or "nan") == Decimal("0.20")
    assert Decimal(account.spent) == Decimal("9.80")
    assert two[0].count_jobs() == 28


def test_in_flight_limit_is_never_exceeded_across_hosts(two: tuple[Store, Store]) -> None:
    two[0].put_account(Account(owner="key_a", max_in_flight=5))
    admitted: list[str] = []

    def work(store: Store, n: int) -> None:
        for i in range(5):
            try:
                store.admit(make_job(f"{id(store)}-{n}-{i}"), admission("0.35"))
                admitted.append("x")
            except AdmissionError:
                pass

    hammer(two, work)
    assert len(admitted) == 5
    assert two[1].in_flight("key_a") == 5


def test_a_waiting_injection_serves_exactly_its_count_across_hosts(
    two: tuple[Store, Store],
) -> None:
    two[0].add_injection(Injection(id=0, kind="scenario", spec={"s": "fail"}, remaining=10))
    taken: list[int] = []

    def work(store: Store, n: int) -> None:
        while store.take_injection("scenario", lambda waiting: waiting[0] if waiting else None):
            taken.append(n)

    hammer(two, work)
    assert len(taken) == 10
    assert two[1].list_injections("scenario") == []


def pending(job_id: str, due_at: float = 1.0) -> Delivery:
    return Delivery(id=0, job_id=job_id, url="http://127.0.0.1:9/cb", body={}, due_at=due_at)


def test_each_delivery_is_claimed_by_one_host(two: tuple[Store, Store]) -> None:
    ids = {two[0].add_delivery(pending(f"j{i}")) for i in range(60)}
    claimed: list[int] = []

    def work(store: Store, n: int) -> None:
        while batch := store.claim_due(DueClaim(now=5.0, wall=100.0, hold=30.0, limit=7)):
            claimed.extend(d.id for d in batch)

    hammer(two, work)
    assert sorted(claimed) == sorted(ids)  # every one claimed, none twice


def test_a_dead_hosts_claim_is_taken_again_only_after_it_expires(
    two: tuple[Store, Store],
) -> None:
    dead, alive = two
    delivery_id = dead.add_delivery(pending("j1"))
    [held] = dead.claim_due(DueClaim(now=5.0, wall=100.0, hold=2.0))
    assert held.id == delivery_id and held.claimed_until == 102.0
    # The host dies holding it: the other host sees the claim until it runs out.
    assert alive.claim_due(DueClaim(now=5.0, wall=101.9, hold=2.0)) == []
    [again] = alive.claim_due(DueClaim(now=5.0, wall=102.0, hold=2.0))
    assert again.id == delivery_id
    assert dead.claim_due(DueClaim(now=5.0, wall=103.0, hold=2.0)) == []  # held anew


def test_two_hosts_write_one_journal_in_order(two: tuple[Store, Store]) -> None:
    for n in range(20):
        two[n % 2].journal_append({"n": n, "path": f"/p{n % 2}"})
    entries = two[0].journal_list(limit=100)  # both hosts' entries, each host's in its order
    assert sorted(e["n"] for e in entries) == list(range(20))
    assert [e["n"] for e in entries if e["path"] == "/p1"] == list(range(1, 20, 2))
    ids = [e["id"] for e in entries]
    assert ids == sorted(set(ids))
    # A client polling with `after` gets exactly what was stored since.
    assert two[1].journal_list(after=ids[14]) == entries[15:]
    assert [e["n"] for e in two[1].journal_list(limit=3, match={"path": "/p1"})] == [15, 17, 19]
    two[1].journal_append({"n": 20})
    assert [e["n"] for e in two[0].journal_list(after=ids[-1])] == [20]


def test_journal_ids_increase_across_hosts_appending_at_once(two: tuple[Store, Store]) -> None:
    hammer(two, lambda store, n: [store.journal_append({"w": n}) for _ in range(25)])
    ids = [e["id"] for e in two[1].journal_list(limit=1000)]
    assert len(ids) == 200 and ids == sorted(set(ids))


def test_reset_deletes_only_the_mocks_keys_and_ids_go_on(
    redis_url: str, redis_server_session: redis_server.RedisServer
) -> None:
    other = redis_server_session.client()
    other.set("someone-else:key", "kept")
    store = open_store(redis_url)
    store.admit(make_job("j1"), admission("0.35"))
    store.journal_append({"n": 1})
    [before] = store.journal_list()
    store.reset(Runtime(clock="manual"))
    assert store.count_jobs() == 0 and store.journal_list() == []
    assert other.get("someone-else:key") == b"kept"
    store.journal_append({"n": 2})
    [after] = store.journal_list()
    assert after["id"] > before["id"]  # a client polling with `after` misses nothing
    store.close()
    other.close()


def test_two_prefixes_share_a_database_apart(redis_url: str) -> None:
    one, two = RedisStore(redis_url, prefix="team-a:"), RedisStore(redis_url, prefix="team-b:")
    one.admit(make_job("j1"), admission("0.35"))
    assert two.get_job("j1") is None
    two.reset(Runtime())
    assert one.get_job("j1") is not None
    one.close()
    two.close()


@redis_server.needs_redis
def test_the_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with redis_server.running("--requirepass", "s3cret-pw") as server:
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
        with pytest.raises(ConfigError, match=PASSWORD_ENV) as refused:
            open_store(server.url())
        assert "s3cret-pw" not in str(refused.value)
        monkeypatch.setenv(PASSWORD_ENV, "s3cret-pw")
        store = open_store(server.url())
        store.journal_append({"n": 1})
        assert len(store.journal_list()) == 1
        store.close()
        monkeypatch.delenv(PASSWORD_ENV)
        in_url = f"redis://:s3cret-pw@127.0.0.1:{server.port}/0"
        store = open_store(in_url)
        assert isinstance(store, RedisStore) and "s3cret-pw" not in store.url
        store.close()


def test_a_password_is_never_shown() -> None:
    assert redact("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("rediss://user:pw@h/2") == "rediss://user:***@h/2"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_an_unreachable_server_is_a_config_error_saying_what_to_do() -> None:
    port = redis_server.free_port()  # nothing listens there
    with pytest.raises(ConfigError, match=r"cannot reach Redis.*redis-server --port"):
        open_store(f"redis://:pw@127.0.0.1:{port}/0")


def test_a_bad_redis_url_is_a_config_error() -> None:
    for url in ("redis://127.0.0.1:6379/not-a-db", "redis://127.0.0.1:port/0", "redis:///0"):
        with pytest.raises(ConfigError, match="bad Redis URL"):
            open_store(url)


def test_uploads_are_shared_and_bounded(two: tuple[Store, Store]) -> None:
    for n in range(3):
        two[n % 2].put_upload(Upload(f"u{n}", "image/png", b"x" * 10), max_count=2, max_bytes=100)
    assert two[0].get_upload("u0") is None  # past max_count: the oldest went first
    assert two[0].get_upload("u2") == Upload("u2", "image/png", b"x" * 10)
    two[1].put_upload(Upload("u1", "image/png", b"y" * 10), max_count=2, max_bytes=100)
    two[0].put_upload(Upload("big", "image/jpeg", b"z" * 95), max_count=5, max_bytes=100)
    assert two[1].get_upload("u2") is None and two[1].get_upload("u1") is None
    assert two[1].get_upload("big") is not None  # the newest is kept even past max_bytes


@redis_server.needs_openssl
def test_rediss_talks_tls_and_an_untrusted_certificate_says_how_to_trust_it() -> None:
    """rediss:// against a real TLS-only redis-server: jobs round-trip when the URL trusts
    its certificate (``?ssl_ca_certs=``), and a certificate not trusted is a ConfigError
    that says how to fix it, not "start it"."""
    with redis_server.running(tls=True) as server:
        store = open_store(server.url())
        try:
            store.admit(make_job("t1"), admission("0.35"))
            assert store.get_job("t1") == make_job("t1")
        finally:
            store.close()
        with pytest.raises(ConfigError, match=r"certificate.*ssl_ca_certs=") as refused:
            open_store(f"rediss://127.0.0.1:{server.port}/0")
        assert "start it" not in str(refused.value)
        with pytest.raises(ConfigError, match="cannot reach"):  # plain redis:// to a TLS port
            open_store(f"redis://127.0.0.1:{server.port}/0")
