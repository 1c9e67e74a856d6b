"""The least a create must do, as a plain WSGI app: read the body, parse the JSON, store one
row in SQLite (WAL, synchronous=NORMAL, one transaction, as the mock's store), answer a job
id. No Flask, no validation, no journal, no settling, no callbacks: the floor under which no
mock of this API can go on a given server (`bench/headline.py` serves it under ``serve``'s
default server beside the mock).

The database is ``$FLOOR_DB`` (default a file in the system's temporary folder).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

_PATH = os.environ.get("FLOOR_DB") or os.path.join(tempfile.gettempdir(), "shortapi-floor.db")
_local = threading.local()


def _db() -> sqlite3.Connection:
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(_PATH, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, data TEXT)")
        _local.db = db
    return db


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Store the body's JSON as a job and answer its id."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    job_id = secrets.token_hex(12)
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO jobs VALUES (?, ?)", (job_id, json.dumps(body)))
    db.execute("COMMIT")
    answer = json.dumps({"code": 0, "data": {"job_id": job_id}}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
    )
    return [answer]
