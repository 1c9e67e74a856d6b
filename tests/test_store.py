"""The stores behave alike (memory, SQLite and Redis: tests/conftest.py parametrizes
`store_url`); the SQLite store survives a restart and is shared."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import advance, body, create, query

from mock_server import close_app, create_app, extensions
from mock_server.errors import ConfigError
from mock_server.jobs.accounts import admission
from mock_server.state import Store, open_store
from mock_server.state.memory import MemoryStore
from mock_server.state.records import Job, Runtime


def make_job(job_id: str, owner: str = "key_a") -> Job:
    return Job(
        id=job_id,
        owner=owner,
        model="m",
        args={"prompt": "p"},
        amount="0.5",
        created_at=1.0,
        created_wall=2.0,
        queued_for=2.0,
        processing_for=8.0,
    )


@pytest.fixture
def store(store_url: str) -> Any:
    opened = open_store(store_url, journal_limit=300)
    yield opened
    opened.close()


def test_job_round_trip(store: Store) -> None:
    job = make_job("j1")
    store.admit(job, admission("0.5"))
    assert store.get_job("j1") == job
    assert store.get_job("missing") is None


def test_duplicate_job_id_is_refused(store: Store) -> None:
    store.admit(make_job("j1"), admission("0.5"))
    with pytest.raises(KeyError):
        store.admit(make_job("j1"), admission("0.5"))


def test_list_jobs_newest_first_and_by_owner(store: Store) -> None:
    for i in range(5):
        store.admit(make_job(f"j{i}", owner="key_a" if i % 2 else "key_b"), admission("0.5"))
    assert [j.id for j in store.list_jobs()] == ["j4", "j3", "j2", "j1", "j0"]
    assert [j.id for j in store.list_jobs(owner="key_a")] == ["j3", "j1"]
    assert [j.id for j in store.list_jobs(limit=2)] == ["j4", "j3"]
    assert store.count_jobs() == 5


def test_bump_polls_counts(store: Store) -> None:
    store.admit(make_job("j1"), admission("0.5"))
    assert [store.bump_polls("j1") for _ in range(3)] == [1, 2, 3]
    job = store.get_job("j1")
    assert job is not None and job.polls == 3


def test_journal_is_a_bounded_ring(store: Store) -> None:
    for i in range(700):
        store.journal_append({"n": i})
    kept = store.journal_list(limit=10_000)
    assert len(kept) == 300
    assert [e["n"] for e in kept] == list(range(400, 700))
    assert [e["n"] for e in store.journal_list(limit=5, after=695)] == [695, 696, 697, 698, 699]


def test_runtime_update_and_reset(store: Store) -> None:
    store.update_runtime(lambda r: Runtime(**{**r.to_dict(), "offset": 42.0}))
    assert store.runtime().offset == 42.0
    store.admit(make_job("j1"), admission("0.5"))
    store.journal_append({"n": 1})
    store.reset(Runtime(clock="manual"))
    assert store.count_jobs() == 0
    assert store.journal_list() == []
    assert store.runtime().clock == "manual"


def test_concurrent_adds_lose_nothing(store: Store) -> None:
    def add(worker: int) -> None:
        for i in range(50):
            store.admit(make_job(f"w{worker}-{i}"), admission("0.5"))
            store.journal_append({"w": worker})

    threads = [threading.Thread(target=add, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_jobs() == 400
    assert len({j.id for j in store.list_jobs(limit=1000)}) == 400


def test_unknown_store_url_is_a_config_error() -> None:
    for url in ("postgres://127.0.0.1/x", "sqlite:", ""):
        with pytest.raises(ConfigError):
            open_store(url)


def test_memory_store_is_default() -> None:
    assert isinstance(extensions.store(create_app()), MemoryStore)


def test_sqlite_jobs_and_clock_survive_a_restart(tmp_path: Path) -> None:
    config = {"STORE": f"sqlite:{tmp_path}/state.db", "CLOCK": "manual"}
    first = create_app(config)
    client = first.test_client()
    job_id = create(client, body()).json["data"]["job_id"]
    advance(client, 3)
    close_app(first)

    second = create_app(config)
    client = second.test_client()
    assert client.get("/_mock/clock").json["now"] == 3.0
    assert query(client, job_id).json["data"]["status"] == 1
    advance(client, 7)
    assert query(client, job_id).json["data"]["status"] == 2
    close_app(second)


def test_two_apps_on_one_sqlite_file_share_all_state(tmp_path: Path) -> None:
    # Stands in for two gunicorn workers: each has its own app and connections.
    config = {"STORE": f"sqlite:{tmp_path}/state.db", "CLOCK": "manual"}
    one, two = create_app(config), create_app({**config, "STORE_INIT": False})
    a, b = one.test_client(), two.test_client()
    job_id = create(a, body()).json["data"]["job_id"]
    advance(b, 10)
    assert query(a, job_id).json["data"]["status"] == 2
    assert query(b, job_id).json == query(a, job_id).json
    journal = b.get("/_mock/requests").json["requests"]  # both apps' entries, in one journal
    assert sorted(e["path"] for e in journal) == ["/api/v1/job/create"] + ["/api/v1/job/query"] * 3
    b.post("/_mock/settings", json={"result_key": "videos"})
    assert "videos" in query(a, job_id).json["data"]["result"]
    for app in (one, two):
        close_app(app)


def test_a_settle_batch_moves_each_job_once_with_its_refund_and_deliveries(
    store: Store,
) -> None:
    """`move_stages` (one settle round, one write): a job another worker moved already is
    left alone and reported so; a move's refund and callback deliveries are stored with it;
    the same job twice in a batch moves twice, in order."""
    import dataclasses

    from mock_server.state.protocol import StageMove
    from mock_server.state.records import Account, Delivery

    store.put_account(Account(owner="key_a", balance="10", spent="1"))
    for job_id in ("j1", "j2", "j3"):
        store.admit(make_job(job_id), admission("0.5"))
    assert store.move_stages([StageMove("j2", 0, 1, 9.0)]) == [True]  # "another worker"

    def refund(account: Account) -> Account:
        return dataclasses.replace(account, refunded="0.5")

    hook = Delivery(id=0, job_id="j3", url="http://127.0.0.1:9/cb", body={"n": 1}, due_at=3.0)
    moves = [
        StageMove("j1", 0, 1, 9.0),
        StageMove("j2", 0, 1, 9.0),  # stale: j2 is at stage 1
        StageMove("j3", 0, 2, None, refund, [hook, dataclasses.replace(hook, body={"n": 2})]),
    ]
    assert store.move_stages(moves) == [True, False, True]
    stages = {
        j: (job.stage, job.next_event_at) for j in ("j1", "j2", "j3") if (job := store.get_job(j))
    }
    assert stages == {"j1": (1, 9.0), "j2": (1, 9.0), "j3": (2, None)}
    account = store.get_account("key_a")
    assert account is not None and account.refunded == "0.5"
    assert [d.body for d in store.list_deliveries(job_id="j3")] == [{"n": 1}, {"n": 2}]
    assert store.list_deliveries(job_id="j1") == []
    store.admit(make_job("j4"), admission("0.5"))
    twice = [StageMove("j4", 0, 1, 9.0), StageMove("j4", 1, 2, None)]
    assert store.move_stages(twice) == [True, True]
    moved = store.get_job("j4")
    assert moved is not None and moved.stage == 2


def test_sqlite_write_one_has_committed_when_it_returns(tmp_path: Path) -> None:
    """`write_one` runs its statement without BEGIN/COMMIT (one statement fewer waiting for
    the GIL with the write lock held): a statement returning several rows must still be
    over, its write committed and the lock free, when it returns."""
    import sqlite3

    from mock_server.state.sqlite_db import Database

    path = str(tmp_path / "one.db")
    db = Database(path)
    db.connection().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    for _ in range(3):
        db.write_one("INSERT INTO t (v) VALUES (?)", (0,))
    assert db.write_one("UPDATE t SET v = v + 1 RETURNING id", ()) in [(1,), (2,), (3,)]
    other = sqlite3.connect(path, timeout=0, isolation_level=None)  # no waiting: locked raises
    try:
        other.execute("BEGIN IMMEDIATE")
        assert [v for (v,) in other.execute("SELECT v FROM t ORDER BY id")] == [1, 1, 1]
        other.execute("COMMIT")
    finally:
        other.close()
        db.close()
