"""The memory store's compact rows: what a caller gets back is the job it stored, and its own."""

from __future__ import annotations

import dataclasses

from mock_server.jobs.accounts import admission
from mock_server.jobs.status import Stage
from mock_server.state.memory import MemoryStore
from mock_server.state.records import Job, Outcome


def make_job(job_id: str, **fields: object) -> Job:
    values: dict[str, object] = {
        "id": job_id,
        "owner": "key_a",
        "model": "m",
        "args": {"prompt": "p ü", "images": ["https://example.com/a.png"], "n": 1.5},
        "amount": "0.5",
        "created_at": 1.0,
        "created_wall": 2.0,
        "queued_for": 2.0,
        "processing_for": 8.0,
        **fields,
    }
    return Job(**values)  # type: ignore[arg-type]


def test_memory_job_round_trips_args_warnings_and_outcome() -> None:
    store = MemoryStore()
    job = make_job(
        "j1",
        warnings=[{"rule": "r", "pointer": "/args/prompt"}],
        outcome=Outcome(status=3, reason="content_policy"),
    )
    store.admit(job, admission("0.5"))
    assert store.get_job("j1") == job
    assert store.list_jobs() == [job]


def test_memory_callers_never_share_stored_args() -> None:
    store = MemoryStore()
    store.admit(make_job("j1"), admission("0.5"))
    first = store.get_job("j1")
    assert first is not None
    first.args["images"].append("https://example.com/b.png")
    first.warnings.append({"rule": "x", "pointer": ""})
    again = store.get_job("j1")
    assert again is not None
    assert again.args["images"] == ["https://example.com/a.png"] and again.warnings == []


def test_memory_replan_due_and_polls_keep_the_args() -> None:
    store = MemoryStore()
    store.admit(make_job("j1", next_event_at=2.0), admission("0.5"))
    replanned = store.replan_job("j1", lambda j: dataclasses.replace(j, processing_for=1.0))
    assert replanned is not None and replanned.args["prompt"] == "p ü"
    due = store.due_jobs(100.0)
    assert [(j.id, j.processing_for, j.args["n"]) for j in due] == [("j1", 1.0, 1.5)]
    assert store.bump_polls("j1") == 1
    stored = store.get_job("j1")
    assert stored is not None and stored.polls == 1 and stored.stage == Stage.NONE
