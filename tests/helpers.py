"""Helpers shared by the tests: a valid request and short ways to call the mock."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

from mock_server import close_app, create_app
from mock_server.testing import ThreadedServer

MODEL = "kwaivgi/kling-o1/image-to-video"
KEY = "test-key-1"
AUTH = {"Authorization": f"Bearer {KEY}"}
VALID_ARGS: dict[str, Any] = {
    "mode": "std",
    "action": "frame",
    "prompt": "a black lab swims across a pool",
    "images": ["https://example.com/start.jpg"],
}


def body(**args: Any) -> dict[str, Any]:
    """Return a valid create body with `args` merged over the defaults (None removes)."""
    merged = {**copy.deepcopy(VALID_ARGS), **args}
    return {"model": MODEL, "args": {k: v for k, v in merged.items() if v is not None}}


def create(client: FlaskClient, payload: Any, **headers: str) -> Any:
    """POST a create request with the test key."""
    return client.post("/api/v1/job/create", json=payload, headers={**AUTH, **headers})


def query(client: FlaskClient, job_id: str, key: str = KEY) -> Any:
    """GET a job with `key`."""
    return client.get(f"/api/v1/job/query?id={job_id}", headers={"Authorization": f"Bearer {key}"})


def advance(client: FlaskClient, seconds: float) -> None:
    """Move the manual clock."""
    response = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.json


@contextlib.contextmanager
def served_in_thread(clock: str = "per-poll") -> Iterator[ThreadedServer]:
    """Serve a mock (memory store, `clock`) on a loopback port in this process."""
    app = create_app({"STORE": "memory", "CLOCK": clock})
    try:
        with ThreadedServer(app) as server:
            yield server
    finally:
        close_app(app)
