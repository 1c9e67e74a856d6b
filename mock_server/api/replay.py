"""``serve --replay FILE``: a query of a recorded job answers as the recording says.

FILE is a ``shortapi-recording/1`` document (``shortapi-mock proxy --record`` writes one,
so does the contract suite's ``--shortapi-record``). The n-th query of a recorded job id
gets the n-th recorded answer to a query of it, then the last one again (the count is kept
in the store, so every worker agrees); every other request is the mock's as usual.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, current_app, g, request

from mock_server import extensions
from mock_server.api.auth import authenticate
from mock_server.errors import ConfigError

FORMAT = "shortapi-recording/1"
QUERY_PATH = "/api/v1/job/query"
_KEPT = ("content-type", "retry-after")  # and every x-mock-* header


def _body(data: dict[str, Any]) -> bytes:
    if "body_base64" in data:
        return base64.b64decode(data["body_base64"])
    return str(data.get("body", "")).encode("utf-8")


def load(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Return the recorded query answers of each job id in the recording at `path`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--replay {path}: cannot read it ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"--replay {path}: not a {FORMAT} recording")
    answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in [*data.get("items", []), *data.get("unfinished", [])]:
        for exchange in entry.get("exchanges", []):
            sent = exchange.get("request", {})
            if sent.get("method") != "GET" or sent.get("path") != QUERY_PATH:
                continue
            ids = parse_qs(sent.get("query", "")).get("id")
            if ids:
                answers[ids[0]].append(exchange["response"])
    return dict(answers)


def _answer(recorded: dict[str, Any]) -> Response:
    headers = [
        (name, str(value))
        for name, value in dict(recorded.get("headers", {})).items()
        if name.lower() in _KEPT or name.lower().startswith("x-mock-")
    ]
    response = Response(_body(recorded), status=int(recorded["status"]), headers=headers)
    if not any(name.lower() == "content-type" for name, _ in headers):
        del response.headers["Content-Type"]
    return response


def init_app(app: Flask, path: str | Path) -> None:
    """Answer queries of the jobs recorded in `path` with their recorded answers."""
    answers = load(path)

    def replayed() -> Response | None:
        if request.method != "GET" or request.path != QUERY_PATH:
            return None
        job_id = request.args.get("id", "")
        recorded = answers.get(job_id)
        if not recorded:
            return None
        g.owner = authenticate(request.headers.get("Authorization"), app.config["API_KEYS"])
        count = extensions.store(current_app).next_count(f"replay:{job_id}")
        chosen = recorded[min(count, len(recorded)) - 1]
        try:
            body = json.loads(_body(chosen))
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        g.job_id = job_id
        g.job_status = data.get("status") if isinstance(data, dict) else None
        g.clock = None
        return _answer(chosen)

    app.before_request(replayed)
