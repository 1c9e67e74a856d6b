"""Cross-origin calls from a browser front-end (``serve --cors``, config ``CORS``).

Off by default, as the live API is not known to answer them. On, the API's routes (all but
the admin API and the dashboard under ``/_mock/``, which a web page must never drive, see
`guard.py`) answer a browser's preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
with 204 and ``Access-Control-Allow-Origin`` (the request's Origin), ``-Allow-Methods`` (the
route's), ``-Allow-Headers`` (of those asked: ``Authorization``, ``Content-Type`` and any
``X-Mock-*``) and ``-Max-Age``; every answer to a request with an Origin carries
``Access-Control-Allow-Origin`` and ``Access-Control-Expose-Headers`` (its ``X-Mock-*``
headers and ``Retry-After``, so a script can read them). Off, an ``OPTIONS`` request answers
the API's envelope (JSON, never Flask's empty HTML), naming the allowed methods and ``--cors``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request

ALLOWED_HEADERS = frozenset({"authorization", "content-type"})
MAX_AGE = "600"  # seconds a browser may keep a preflight's answer
_PRIVATE = ("admin", "dashboard")  # blueprints no other origin may call


def _public() -> bool:
    return request.url_rule is not None and request.blueprint not in _PRIVATE


def _methods() -> str:
    rule = request.url_rule
    return ", ".join(sorted((rule.methods or set()) - {"HEAD"})) if rule else "OPTIONS"


def options_response() -> Response:
    """Flask's answer to an ``OPTIONS`` request that no hook answered: the envelope."""
    if not _public():
        note = "; the admin API takes no cross-origin calls"
    elif not current_app.config["CORS"]:
        note = "; cross-origin calls are off (serve --cors turns them on)"
    else:
        note = ""
    answer = jsonify({"code": 0, "message": f"allowed methods: {_methods()}{note}"})
    answer.headers["Allow"] = _methods()
    return answer


def _preflight() -> Response | None:
    """Answer a browser's preflight to a public route when CORS is on."""
    if (
        request.method != "OPTIONS"
        or "Access-Control-Request-Method" not in request.headers
        or not current_app.config["CORS"]
        or not _public()
    ):
        return None
    asked = request.headers.get("Access-Control-Request-Headers", "")
    headers = [
        name.strip()
        for name in asked.split(",")
        if name.strip().lower() in ALLOWED_HEADERS or name.strip().lower().startswith("x-mock-")
    ]
    answer = Response(status=204)
    del answer.headers["Content-Type"]
    answer.headers["Access-Control-Allow-Methods"] = _methods()
    answer.headers["Access-Control-Allow-Headers"] = ", ".join(headers or sorted(ALLOWED_HEADERS))
    answer.headers["Access-Control-Max-Age"] = MAX_AGE
    return answer


def _headers(response: Response) -> Response:
    """Let the calling page read the answer (its Origin allowed, the mock's headers exposed)."""
    origin = request.headers.get("Origin")
    if origin and current_app.config["CORS"] and _public():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
        exposed = [h for h, _ in response.headers.items() if h.lower().startswith("x-mock-")]
        if "Retry-After" in response.headers:
            exposed.append("Retry-After")
        if exposed:
            response.headers["Access-Control-Expose-Headers"] = ", ".join(exposed)
    return response


def init_app(app: Flask) -> None:
    """Answer preflights; add the CORS headers to every answer. Before the journal's hooks:
    Flask runs after-request hooks last registered first, so these see its request id."""
    app.before_request(_preflight)
    app.after_request(_headers)
    app.make_default_options_response = options_response  # type: ignore[method-assign]
