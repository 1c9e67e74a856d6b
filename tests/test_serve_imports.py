"""What `serve` loads: a mock on SQLite (the default) never imports redis-py. Loaded in the
process that starts the workers, its ~20 MB of modules end up in every worker's memory too
(issue 24: the default serve's idle PSS, 66 -> 57 MiB; measured by bench/headline.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKER = """
import json, sys
from mock_server.serve import cli
from mock_server.app import create_app
app = create_app({{"STORE": "sqlite:{db}", "CLOCK": "manual"}})
answer = app.test_client().post(
    "/api/v1/job/create",
    headers={{"Authorization": "Bearer k"}},
    json={{"model": "kwaivgi/kling-o1/image-to-video",
          "args": {{"mode": "std", "action": "frame", "prompt": "a cat",
                    "images": ["https://example.com/a.jpg"]}}}},
)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "redis")
print(json.dumps([answer.status_code, loaded]))
"""


def test_a_mock_on_sqlite_never_loads_redis(tmp_path: Path) -> None:
    code = WORKER.format(db=tmp_path / "state.db")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    status, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200
    assert loaded == []
