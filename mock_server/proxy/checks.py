"""Check each answer the target gives against our schemas and the model's expectations.

Every difference is a `Disagreement` of the contract kit's drift (so the proxy's findings
land in the same report): ``shape`` (a field missing, extra or of another type than the
schema says: one entry per assumption the paths touch), ``amount`` (create's amount is not
our price for the sent args), ``unknown-status`` (a status outside 0..4), ``result-kind``
(a succeeded job's result is not under the key of its model's output kind; uploads'
answers are checked for their shape too) and
``acceptance`` (the target accepted a create the mock refuses, or refused one it accepts).
The mock's side of each entry is what we expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import ValidationError

from mock_server.catalog.pricing import Table, amount
from mock_server.catalog.registry import MODELS, ModelSpec
from mock_server.contract.drift import MESSAGES, Disagreement, assumption_at
from mock_server.contract.wire import Exchange
from mock_server.data import schemas
from mock_server.validation.request import CreateRequest

KNOWN_STATUSES = (0, 1, 2, 3, 4)  # job.json: 0 queued, 1 processing, 2 succeeded, 3/4 failed
NOT_ACCEPTANCE = (401, 402, 403, 429)  # refusals for the key or the load, not the request


def _path(error: ValidationError) -> str:
    parts = ["[]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "".join(parts).lstrip(".")


def _leaves(error: ValidationError) -> Iterable[ValidationError]:
    """Return the errors a oneOf/anyOf failure stands for: its best branch's, else itself."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if deepest.absolute_path != error.absolute_path:
            return [deepest]
    return [error]


def schema_findings(
    message: str,
    item: str,
    body: Any,
    exchange: Exchange,
    *,
    skip: Iterable[str] = (),
) -> list[Disagreement]:
    """Return one ``shape`` entry per assumption whose paths break the message's schema."""
    schema, fallback = MESSAGES[message]
    skipped = set(skip)
    grouped: dict[str, tuple[list[str], list[Any]]] = {}
    for error in schemas.validator(schema).iter_errors(body):
        for leaf in _leaves(error):
            path = _path(leaf)
            if path in skipped or any(path.startswith(s + ".") for s in skipped):
                continue
            key = (assumption_at(schema, path) if path else None) or fallback
            said, sent = grouped.setdefault(key, ([], []))
            said.append(f"{path or '(body)'}: {leaf.message[:200]}")
            sent.append({path or "(body)": leaf.instance})
    return [
        Disagreement(
            item,
            "shape",
            f"{message} answer does not match {schema}: {'; '.join(said)}",
            [s.split(":", 1)[0] + f": as {schema} says" for s in said],
            sent,
            (key,),
            exchange,
        )
        for key, (said, sent) in sorted(grouped.items())
    ]


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if isinstance(value, (str, int, float)) else None
    except InvalidOperation:
        return None


def _price_assumptions(spec: ModelSpec) -> tuple[str, ...]:
    named = spec.pricing.get("assumption")
    ids = ("A-amount-per-second", "A-amount-format", *([named] if isinstance(named, str) else []))
    return tuple(dict.fromkeys(ids))


def create_findings(
    item: str,
    exchange: Exchange,
    valid: CreateRequest | None,
    refused: tuple[int, int] | None,
    prices: Table,
) -> list[Disagreement]:
    """Check a create answer: its envelope, the acceptance, the amount against our price.

    `valid` is our validation's result (None when the mock refuses the request, with
    `refused` its status and code)."""
    body = exchange.response.json()
    accepted = exchange.response.accepted
    found = schema_findings("create" if accepted else "error", item, body, exchange)
    status = exchange.response.status
    if accepted and valid is None and refused is not None:
        found.append(
            Disagreement(
                item,
                "acceptance",
                f"the target accepted a create the mock refuses with HTTP {refused[0]}",
                {"status": refused[0], "code": refused[1]},
                {"status": status, "code": 0},
                ("A-error-codes",),
                exchange,
            )
        )
    if not accepted and valid is not None and status not in NOT_ACCEPTANCE and status < 500:
        code = body.get("code") if isinstance(body, dict) else None
        found.append(
            Disagreement(
                item,
                "acceptance",
                f"the target refused a create the mock accepts (HTTP {status}, code {code})",
                {"status": 200, "code": 0},
                {"status": status, "code": code},
                ("A-error-codes",),
                exchange,
            )
        )
    if accepted and valid is not None and valid.model.known:
        ours = amount(valid.model, valid.args, prices)
        theirs = body["data"].get("amount") if isinstance(body.get("data"), dict) else None
        if _decimal(theirs) != Decimal(ours):
            found.append(
                Disagreement(
                    item,
                    "amount",
                    f"amount {theirs!r}, our price for these args is {ours!r}",
                    ours,
                    theirs,
                    _price_assumptions(valid.model),
                    exchange,
                )
            )
    return found


def job_findings(
    message: str, item: str, data: Any, exchange: Exchange, model: str | None
) -> tuple[list[Disagreement], set[str]]:
    """Check a job record (a query's or a callback's ``data``): status and result kind.

    Return the findings and the paths the schema check should leave to them."""
    found: list[Disagreement] = []
    skip: set[str] = set()
    if not isinstance(data, dict):
        return found, skip
    status = data.get("status")
    if isinstance(status, bool) or status not in KNOWN_STATUSES:
        skip |= {"data", "data.status"}  # the job's oneOf fails with it: one entry says it
        found.append(
            Disagreement(
                item,
                "unknown-status",
                f"{message}: status {status!r} is none of {list(KNOWN_STATUSES)}",
                list(KNOWN_STATUSES),
                status,
                ("A-status-codes",),
                exchange,
            )
        )
    spec = MODELS.get(model or str(data.get("model", "")))
    result = data.get("result")
    if status == 2 and spec is not None and isinstance(result, dict):
        keys = sorted(result)
        if keys != [spec.output]:
            skip |= {"data.result"}
            found.append(
                Disagreement(
                    item,
                    "result-kind",
                    f"{message}: result under {keys}, {spec.id} makes {spec.output}",
                    [spec.output],
                    keys,
                    ("A-result-key",),
                    exchange,
                )
            )
    return found, skip


def query_findings(item: str, exchange: Exchange, model: str | None) -> list[Disagreement]:
    """Check a query answer: the envelope, the job's fields and types, status, result kind."""
    body = exchange.response.json()
    if not exchange.response.accepted:
        return schema_findings("error", item, body, exchange)
    found, skip = job_findings("query", item, body.get("data"), exchange, model)
    return found + schema_findings("query", item, body, exchange, skip=skip)


def upload_findings(item: str, exchange: Exchange) -> list[Disagreement]:
    """Check an upload answer (POST /api/v1/image/send) against upload-response.json."""
    body = exchange.response.json()
    message = "upload" if exchange.response.accepted else "error"
    return schema_findings(message, item, body, exchange)


def callback_findings(item: str, exchange: Exchange, body: Any) -> list[Disagreement]:
    """Check a callback body against callback.json (A-callback-body), status, result kind."""
    data = body.get("data") if isinstance(body, dict) else None
    model = data.get("model") if isinstance(data, dict) else None
    found, skip = job_findings(
        "callback", item, data, exchange, model if isinstance(model, str) else None
    )
    return found + schema_findings("callback", item, body, exchange, skip=skip)
