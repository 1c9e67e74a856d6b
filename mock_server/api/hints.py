"""Hints for the mistakes public clients of the API make, put in the error envelope's text
(never in a success answer, never changing a status or a code).

Seen in public code (DESIGN.md section 2): the job id read at the top level of create's
answer (then ``id=undefined``, ``null``, ``None``), the id sent as ``job_id``, and invented
routes (``/api/v1/job/<id>``, ``/api/v1/job/get?job_id=``, ``/api/v1/job/status?id=``,
``/v1/run``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

CREATE = "POST /api/v1/job/create"
QUERY = "GET /api/v1/job/query?id="
# What a client sends when it read the job id from the wrong place (JavaScript, Python,
# Go's fmt of nil, a float NaN), compared case-insensitively.
PLACEHOLDER_IDS = frozenset({"", "undefined", "null", "none", "nan", "nil", "<nil>"})
WHERE_THE_ID_IS = (
    'create answers {"code": 0, "data": {"amount": "...", "job_id": "..."}}: the id is '
    f"data.job_id, not a top-level job_id; query {QUERY}<data.job_id>"
)
_ID_LIKE = re.compile(r"[0-9A-Za-z_-]{8,64}")
_JOB_PATH = re.compile(r"/api/v1/jobs?/(?P<rest>[^/]+)/?(?P<more>[^/]*)")


def placeholder_id(value: str) -> bool:
    """Say whether a query id is what a client sends when it has no id (``undefined``...)."""
    return value.strip().lower() in PLACEHOLDER_IDS


def missing_id(args: Mapping[str, str]) -> str:
    """Return the text of a query without a usable id (`args`: the query string's)."""
    sent = args.get("id")
    if sent is None and "job_id" in args:
        return f"id is required: the parameter is id, not job_id; {WHERE_THE_ID_IS}"
    if sent is not None and sent.strip():
        return f"no job has the id {sent[:40]!r}, a placeholder: {WHERE_THE_ID_IS}"
    return f"id is required; {WHERE_THE_ID_IS}"


def _given_id(path_id: str | None, args: Mapping[str, str]) -> str:
    for value in (path_id, args.get("id"), args.get("job_id"), args.get("task_id")):
        if value and _ID_LIKE.fullmatch(value):
            return value
    return "<data.job_id>"


def unknown_route(method: str, path: str, args: Mapping[str, str]) -> str:
    """Return the text of a 404 for `path`: the API's two job routes, with the id the
    request carried where it carried one."""
    found = _JOB_PATH.fullmatch(path)
    if found and found["rest"] not in ("create", "query"):
        rest = found["rest"]
        path_id = rest if _ID_LIKE.fullmatch(rest) and not rest.isalpha() else None
        job_id = _given_id(path_id, args)
        return (
            f"no such route: {method} {path}; a job is read with {QUERY}{job_id} (the id "
            f"create answered at data.job_id); jobs are made with {CREATE}"
        )
    if path.rstrip("/") in ("/v1/run", "/api/v1/run", "/run"):
        return (
            f"no such route: {method} {path}; start a job with {CREATE} "
            '{"model": ..., "args": {...}}, then poll '
            f"{QUERY}<data.job_id> until status 2 (succeeded) or 3 (failed)"
        )
    return f"no such route: {method} {path}; the API has {CREATE} and {QUERY}<job_id>"
