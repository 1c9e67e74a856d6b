"""The benchmark's baseline: a bare Flask app that answers ``{}`` to everything.

Served by `bench/run.py` under the mock's HTTP server (granian, and gunicorn for the
comparison) with the mock's worker settings, so the mock's figures can be compared with
Flask + that server's own ceiling on the same machine.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
@app.route("/<path:_path>", methods=["GET", "POST"])
def empty(_path: str = "") -> dict[str, Any]:
    """Answer an empty JSON object, whatever was asked."""
    return {}
