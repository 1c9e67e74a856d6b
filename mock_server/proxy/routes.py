"""The proxy's routes: every request forwarded, creates judged first, answers checked.

A create is validated exactly as the mock validates it (`validation/request.py`); its
problems go in ``X-Mock-Errors`` / ``X-Mock-Warnings`` of the relayed answer and in the
journal. With ``BLOCK_INVALID`` an invalid create gets the mock's own error answer and is
never forwarded; with ``BUDGET_USD`` a create that would pass the cap gets a 402 (the
mock's envelope) and is never forwarded. Each answer is checked (`checks.py`); what differs
is in the drift report and, for the curious, in ``X-Mock-Drift``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from mock_server.api.envelope import problems_header
from mock_server.api.uploads import SEND_PATH as UPLOAD_PATH
from mock_server.catalog.pricing import amount
from mock_server.contract.budget import charged_amount
from mock_server.contract.client import job_id_of, status_of
from mock_server.contract.strategies import BEARER, CREATE_PATH, QUERY_PATH
from mock_server.contract.wire import Exchange, Secret, WireRequest, WireResponse, json_or_none
from mock_server.errors import NOT_FOUND, UNAVAILABLE, ApiError, Problem
from mock_server.keys import bearer_key
from mock_server.validation.request import CreateRequest, parse_json_body, validate_create

from . import checks, recorder
from .callbacks import PATH as CALLBACK_PATH
from .forward import Answer, ForwardError
from .parts import Parts, parts

bp = Blueprint("proxy", __name__)
# Keys this long are scrubbed wherever they appear; a shorter test key (any key works on the
# mock) would turn every "k" of a recording into the placeholder. Bearer tokens and key-like
# parameters are masked whatever their length.
MIN_SCRUBBED = 8
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _wire(body: bytes) -> WireRequest:
    """Return the request as the kit's `WireRequest`: the key never in it."""
    header = request.headers.get("Authorization")
    key = bearer_key(header)
    if key and len(key) >= MIN_SCRUBBED:
        Secret(key)  # known to `scrub`: no file the proxy writes can carry it
    authorization = BEARER if key else ("***" if header else None)
    query = request.query_string.decode("latin-1")
    return WireRequest(
        request.method,
        request.path,
        query,
        body,
        request.headers.get("Content-Type"),
        authorization,
    )


def _send(proxy: Parts, body: bytes) -> Answer:
    try:
        return proxy.forwarder.send(
            request.method,
            request.path,
            request.query_string.decode("latin-1"),
            request.headers.items(),
            body,
        )
    except ForwardError as exc:
        raise ApiError(
            502,
            UNAVAILABLE,
            f"shortapi-mock proxy: the target {proxy.forwarder.target} did not answer ({exc}); "
            "check --target and the network",
        ) from None


def _relay(answer: Answer, problems: list[Problem], found: list[Any]) -> Response:
    """Return the target's answer as the app gets it, the proxy's findings in headers."""
    response = Response(answer.body, status=answer.status, headers=list(answer.headers))
    if answer.header("Content-Type") is None:
        del response.headers["Content-Type"]
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    for name, chosen in (("X-Mock-Errors", errors), ("X-Mock-Warnings", warnings)):
        if chosen:
            response.headers[name] = problems_header(chosen)
        else:
            response.headers.pop(name, None)
    if found:
        drift = [{"kind": d.kind, "assumptions": list(d.assumptions)} for d in found]
        response.headers["X-Mock-Drift"] = json.dumps(drift)
    _journal(answer)
    return response


def _journal(answer: Answer) -> None:
    body = json_or_none(answer.body)
    code = body.get("code") if isinstance(body, dict) else None
    if answer.status >= 400 or (isinstance(code, int) and code != 0):
        g.error_code = code if isinstance(code, int) else None


def _judge(proxy: Parts, body: bytes) -> tuple[CreateRequest | None, ApiError | None]:
    """Validate a create as the mock does: the request, or the mock's error."""
    try:
        parsed = parse_json_body(request.content_type, body)
        return (
            validate_create(
                parsed,
                profile=proxy.config["PROFILE"],
                strict_args=proxy.config["STRICT_ARGS"],
                unknown_models=proxy.config["UNKNOWN_MODELS"],
            ),
            None,
        )
    except ApiError as error:
        if not error.problems:  # content type, JSON: one problem says what the mock says
            error.problems = (Problem("request.body", "", error.text),)
        return None, error


def _model_of(body: Any) -> str:
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


def create(proxy: Parts, body: bytes) -> Response:
    """Judge, budget, forward and check a create."""
    valid, error = _judge(proxy, body)
    problems = list(valid.warnings if valid else error.problems if error else ())
    g.problems = problems
    if error is not None and proxy.config["BLOCK_INVALID"]:
        raise error
    prices = proxy.config["PRICES"]
    price = Decimal(amount(valid.model, valid.args, prices)) if valid else Decimal(0)
    held = proxy.budget.reserve(price)
    parsed = json_or_none(body)
    model = _model_of(parsed)
    name = proxy.findings.name(model.rsplit("/", 1)[-1] or "create")
    sent = body
    if proxy.relay is not None and (rewritten := proxy.relay.rewrite(parsed, name)):
        sent = rewritten
    try:
        answer = _send(proxy, sent)
    except ApiError:
        proxy.budget.settle(held, Decimal(0))
        raise
    response = WireResponse.of(answer.status, answer.headers, answer.body)
    proxy.budget.settle(held, charged_amount(response))
    exchange = Exchange(_wire(body), response, 0.0, base_url=proxy.forwarder.target)
    refused = (error.status, error.code) if error else None
    found = checks.create_findings(name, exchange, valid, refused, prices)
    proxy.findings.add(name, found)
    job_id = job_id_of(response)
    if job_id:
        g.job_id = job_id
        proxy.remember(job_id, model, name)
    if proxy.recorder is not None:
        item = recorder.plan_item(name, exchange, refused=refused, price=str(price))
        proxy.recorder.create(item, exchange, job_id)
    return _relay(answer, problems, found)


def query(proxy: Parts, body: bytes) -> Response:
    """Forward a query and check the job it answers."""
    answer = _send(proxy, body)
    response = WireResponse.of(answer.status, answer.headers, answer.body)
    exchange = Exchange(_wire(body), response, base_url=proxy.forwarder.target)
    job_id = request.args.get("id", "")
    model, name = proxy.job(job_id)
    name = name or proxy.findings.name("query")
    found = checks.query_findings(name, exchange, model)
    proxy.findings.add(name, found)
    status = status_of(exchange)
    g.job_id, g.job_status = job_id or None, status
    if proxy.recorder is not None:
        proxy.recorder.query(job_id, exchange, status)
    return _relay(answer, [], found)


@bp.route("/", defaults={"path": ""}, methods=METHODS)
@bp.route("/<path:path>", methods=METHODS)
def forward(path: str) -> Response:
    """Forward any request to the target; creates and queries are checked on the way."""
    proxy = parts(current_app)
    body = request.get_data()
    g.body = body
    if request.method == "POST" and request.path == CREATE_PATH:
        return create(proxy, body)
    if request.method == "GET" and request.path == QUERY_PATH:
        return query(proxy, body)
    answer = _send(proxy, body)
    response = WireResponse.of(answer.status, answer.headers, answer.body)
    exchange = Exchange(_wire(body), response, base_url=proxy.forwarder.target)
    found = []
    if request.method == "POST" and request.path == UPLOAD_PATH:
        name = proxy.findings.name("upload")
        found = checks.upload_findings(name, exchange)
        proxy.findings.add(name, found)
    if proxy.recorder is not None:
        proxy.recorder.other(exchange)
    return _relay(answer, [], found)


@bp.post(CALLBACK_PATH + "<token>")
def callback(token: str) -> Response:
    """Record and check a callback of the target, then post it on to the app's own URL."""
    proxy = parts(current_app)
    route = proxy.relay.route(token) if proxy.relay is not None else None
    if proxy.relay is None or route is None:
        raise ApiError(404, NOT_FOUND, "shortapi-mock proxy: no callback was handed out here")
    body = request.get_data()
    g.body = body
    parsed = json_or_none(body)
    data = parsed.get("data") if isinstance(parsed, dict) else None
    job_id = data.get("job_id") or data.get("id") if isinstance(data, dict) else None
    g.job_id = job_id if isinstance(job_id, str) else None
    wire = WireRequest("POST", request.path, "", body, request.content_type, None)
    exchange = Exchange(wire, WireResponse(200), base_url=proxy.relay.public_url)
    found = checks.callback_findings(route.item, exchange, parsed)
    proxy.findings.add(route.item, found)
    if proxy.recorder is not None:
        proxy.recorder.callback(g.job_id, parsed)
    outcome = proxy.relay.forward(route.url, body, request.content_type)
    if isinstance(outcome, str):
        g.problems = [Problem("callback.forward", "/callback_url", outcome)]
        raise ApiError(502, UNAVAILABLE, f"shortapi-mock proxy: callback {outcome}")
    return _relay(outcome, [], found)
