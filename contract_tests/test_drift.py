"""Drift: the plan sent to ``--shortapi-target`` and to the in-process mock, compared."""

from __future__ import annotations

from mock_server.contract.session import ContractSession


def test_the_target_answers_as_the_mock(contract: ContractSession) -> None:
    """Write reports/drift.{md,json,xml}; fail listing each disagreement and its ids.

    Timing differences are reported but do not fail: the mock is fast on purpose.
    """
    report = contract.drift()
    written = report.write(contract.options.report_dir)
    lines = [
        f"  [{d.kind}] {d.item}: {d.detail} ({', '.join(d.assumptions)})"
        for d in report.disagreements
        if not d.informational
    ]
    assert not lines, (
        f"{len(lines)} disagreement(s) with the mock; see {written[0]}:\n" + "\n".join(lines)
    )
