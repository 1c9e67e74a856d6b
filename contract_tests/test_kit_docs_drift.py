"""The docs drift check itself: a served mock's pages agree, a planted change is reported,
an unreachable host is a `TargetError` (the contract test skips on it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mock_server import create_app
from mock_server.contract import docs_drift
from mock_server.contract.targets import HttpTarget, InProcessTarget, TargetError
from mock_server.contract.wire import Secret
from mock_server.testing import TEST_CONFIG, ThreadedServer

from .serving import free_port

pytestmark = pytest.mark.kit
MODEL = "kwaivgi/kling-o1/image-to-video"
SAMPLE = [MODEL, "google/veo-3/text-to-video", "shortapi/z-image/text-to-image"]


def test_a_served_mocks_pages_agree_with_its_files() -> None:
    with ThreadedServer(create_app(TEST_CONFIG)) as server:
        target = HttpTarget(server.base_url, probe_controls=False)
        report = docs_drift.check(target)
        target.close()
    assert report.disagreements == []
    assert len(report.compared) == len(set(report.compared)) >= 56


def _planted(pages: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            text = pages.get(self.path.removeprefix(docs_drift.SKILL_PATH))
            body = (text or "not found").encode()
            self.send_response(200 if text else 404)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Pages


@pytest.fixture
def planted() -> Iterator[str]:
    """A server on 127.0.0.1 serving the mock's pages, kling-o1's with one option changed and
    veo-3's missing."""
    mock = InProcessTarget()
    texts = {m: mock.send(docs_drift.page_request(m), Secret("")).body.decode() for m in SAMPLE}
    mock.close()
    texts[MODEL] = texts[MODEL].replace('Options: "std", "pro"', 'Options: "std", "pro", "max"')
    del texts["google/veo-3/text-to-video"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _planted(texts))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_planted_difference_is_reported(planted: str, tmp_path: Path) -> None:
    target = HttpTarget(planted, probe_controls=False)
    report = docs_drift.check(target, SAMPLE)
    target.close()
    found = {(d.item, d.kind, d.detail.split(":")[0]) for d in report.disagreements}
    assert found == {
        (f"docs {MODEL}", "docs", "inputs.mode.enum"),
        ("docs google/veo-3/text-to-video", "docs", "the target has no page (HTTP 404)"),
    }
    changed = next(d for d in report.disagreements if d.item == f"docs {MODEL}")
    assert (changed.mock, changed.target) == (["std", "pro"], ["std", "pro", "max"])
    report.write(tmp_path)
    data = json.loads((tmp_path / "drift.json").read_text())
    assert len(data["disagreements"]) == 2
    curls = [d["curl"] for d in data["disagreements"]]
    assert any(c.endswith(f"{planted}/api/skill/{MODEL}") for c in curls)
    assert not any("Authorization" in c for c in curls)  # the pages are public


def test_an_unreachable_host_is_a_target_error() -> None:
    target = HttpTarget(f"http://127.0.0.1:{free_port()}", probe_controls=False, timeout=2)
    with pytest.raises(TargetError):
        docs_drift.check(target, [MODEL])
    target.close()
