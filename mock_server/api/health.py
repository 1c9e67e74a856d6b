"""``GET /healthz``: a liveness probe for containers and load balancers.

Open on any bind, without a key or the admin token, and never journaled (a probe every few
seconds would fill the journal); it says ok and the version, nothing else (the store, the
settings and the jobs are the admin API's, ``/_mock/health``).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from mock_server.version import __version__

bp = Blueprint("health", __name__)
PATH = "/healthz"


@bp.get(PATH)
def healthz() -> Response:
    """Say the process answers."""
    return jsonify({"status": "ok", "version": __version__})
