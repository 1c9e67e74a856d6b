"""Docs drift: every model's page on ``--shortapi-target`` (``GET /api/skill/<model>``), read
with the importer and compared with the mock's model file.

Against the in-process mock (the default) the pages are our own: zero differences. Against
``live`` the pages come from https://shortapi.ai (public: no key sent, but like the rest of the
live suite it runs only with ``SHORTAPI_KEY`` set) and every difference goes to
``<report-dir>/docs/drift.{md,json,xml}``; a host that cannot be reached skips. A replay has no
pages: skipped. The network is never touched unless ``--shortapi-target`` says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mock_server.contract import docs_drift
from mock_server.contract.targets import (
    HttpTarget,
    InProcessTarget,
    LiveTarget,
    Target,
    TargetError,
)


def _target(config: pytest.Config) -> Target:
    spec = str(config.getoption("--shortapi-target"))
    if spec == "mock":
        return InProcessTarget()
    if spec == "live":
        if not os.environ.get("SHORTAPI_KEY"):
            pytest.skip("the live target needs the SHORTAPI_KEY environment variable")
        return LiveTarget(docs_drift.DOCS_URL, timeout=30.0)
    if spec.startswith(("http://", "https://")):
        return HttpTarget(spec, probe_controls=False)
    pytest.skip(f"{spec}: a recording holds no documentation pages")


def test_the_targets_pages_agree_with_the_model_files(pytestconfig: pytest.Config) -> None:
    target = _target(pytestconfig)
    try:
        report = docs_drift.check(target)
    except TargetError as exc:
        pytest.skip(f"{target.base_url} cannot be reached: {exc}")
    finally:
        target.close()
    written = report.write(Path(pytestconfig.getoption("--shortapi-report-dir")) / "docs")
    lines = [f"  {d.item}: {d.detail}" for d in report.disagreements]
    assert not lines, (
        f"{len(lines)} page difference(s) with the model files; see {written[0]}:\n"
        + "\n".join(lines)
    )
