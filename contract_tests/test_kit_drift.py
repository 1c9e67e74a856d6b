"""The drift report, on a recording that differs from the mock on purpose; no key leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.contract.client import JobRun
from mock_server.contract.recording import ReplayTarget
from mock_server.contract.session import ContractSession, Options
from mock_server.contract.targets import InProcessTarget, Target
from mock_server.contract.wire import Secret, WireRequest, WireResponse

pytestmark = pytest.mark.kit
RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "recorded"
SIMULATED_LIVE = RECORDED / "simulated-live.json"
PLANTED = "sk-live-PLANTED-0123456789abcdef"
# What fixtures/recorded/record.py --simulate-live-drift changed, and nothing else.
EXPECTED = {
    (
        "invalid/duration.frame_single_image",
        "http-status",
        ("A-error-codes", "A-duration-frame-single-image"),
    ),
    ("invalid/auth.missing", "error-code", ("A-error-codes", "A-auth")),
    ("job/minimal", "shape", ("A-result-key",)),
    ("job/failed", "shape", ("A-failed-refunded",)),
    ("job/refer", "timing", ("A-timing",)),
}


def _session(target: Target, tmp_path: Path, **options: Any) -> ContractSession:
    return ContractSession(
        target, Secret(PLANTED), Options(report_dir=tmp_path / "reports", **options)
    )


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_drift_lists_exactly_the_recorded_differences(tmp_path: Path) -> None:
    """The replay of simulated-live.json differs from the mock in exactly five places."""
    session = _session(ReplayTarget(SIMULATED_LIVE), tmp_path)
    try:
        report = session.drift()
    finally:
        session.close()
    found = {(d.item, d.kind, d.assumptions) for d in report.disagreements}
    assert found == EXPECTED
    assert len(report.disagreements) == len(EXPECTED)
    assert "job/minimal" in report.compared and not report.skipped


def test_drift_report_files_carry_ids_and_redacted_reproducers(tmp_path: Path) -> None:
    """drift.md, drift.json and drift.xml list each difference with ids and a curl."""
    session = _session(ReplayTarget(SIMULATED_LIVE), tmp_path)
    try:
        written = session.drift().write(tmp_path / "reports")
    finally:
        session.close()
    data = json.loads((tmp_path / "reports" / "drift.json").read_text())
    assert {d["item"] for d in data["disagreements"]} == {item for item, _, _ in EXPECTED}
    assert all(d["curl"].startswith("curl ") and d["assumptions"] for d in data["disagreements"])
    assert '"Authorization: Bearer $SHORTAPI_KEY"' in data["disagreements"][1]["curl"]
    assert data["assumptions"]["A-error-codes"] == 2
    markdown = (tmp_path / "reports" / "drift.md").read_text()
    assert ". timing: job/refer" in markdown and "A-failed-refunded" in markdown
    junit = (tmp_path / "reports" / "drift.xml").read_text()
    assert junit.count("<failure") == len(EXPECTED)
    assert len(data["compared"]) > 60  # every item of the plan, one testcase each
    assert f'tests="{len(data["compared"])}"' in junit
    assert [p.name for p in written] == ["drift.json", "drift.md", "drift.xml"]


class LeakyTarget(InProcessTarget):
    """A mock that echoes the caller's key in every answer (as a careless server might)."""

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Answer as the mock, with the key appended to the body's text."""
        response = super().send(request, key)
        body = response.json()
        if isinstance(body, dict) and "message" in body:
            body["message"] = body["info"] = f"{body['message']} (key {key.reveal()})"
        return WireResponse(response.status, response.headers, json.dumps(body).encode())


def test_a_planted_key_appears_in_no_report_recording_or_failure(tmp_path: Path) -> None:
    """Plant a key, let the target echo it; reports, recording and failures never show it."""
    recording = tmp_path / "recorded.json"
    session = _session(LeakyTarget(), tmp_path, record=recording, callbacks=False)
    try:
        report = session.drift()
        report.write(tmp_path / "reports")
        failures = [_failure(session, run) for run in session.planned("invalid")]
    finally:
        session.close()
    texts = [p.read_bytes().decode("latin-1") for p in _files(tmp_path)] + failures
    assert len(texts) >= 4 and any("$SHORTAPI_KEY" in t for t in texts)
    assert not [t for t in texts if PLANTED in t]


def _failure(session: ContractSession, run: JobRun) -> str:
    """Return the text of a property failing on `run` (a refused request is not "valid")."""
    from .properties import PropertyFailed, check_accepted

    with pytest.raises(PropertyFailed) as failed:
        check_accepted(run, exact=True)
    return f"{failed.value}\n{run!r}"


def test_a_recording_of_the_mock_replays_without_drift(tmp_path: Path) -> None:
    """Record the plan against the mock, replay it: the replay agrees with the mock."""
    recording = tmp_path / "mock.json"
    session = _session(InProcessTarget(), tmp_path, record=recording, callbacks=False)
    try:
        session.plan_runs()
    finally:
        session.close()
    replay = _session(ReplayTarget(recording), tmp_path)
    try:
        report = replay.drift()
    finally:
        replay.close()
    assert report.disagreements == []
    assert len(report.compared) == len(json.loads(recording.read_text())["items"])


def test_a_report_on_the_in_process_mock_names_it_not_the_live_url(tmp_path: Path) -> None:
    session = _session(InProcessTarget(), tmp_path, callbacks=False)
    try:
        session.drift().write(tmp_path / "reports")
    finally:
        session.close()
    heading = (tmp_path / "reports" / "drift.md").read_text().splitlines()[0]
    assert heading == "# Drift report: mock (in-process, no socket)"
    data = json.loads((tmp_path / "reports" / "drift.json").read_text())
    assert data["base_url"] == "in-process, no socket"
