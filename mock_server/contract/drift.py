"""Drift: where the target and the mock answer the same request differently.

`compare` takes the target's run of a plan item and the in-process mock's run of the same
item and lists each disagreement: accepted vs rejected, HTTP status, error code, response
shape, amount, status sequence, timing, callbacks. Each is tied to assumption ids: shape
differences to the ``x-assumption`` annotations of the schema at that path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.contract.strategies import ALWAYS
from mock_server.data import schemas
from mock_server.validation.request import json_type

from .client import JobRun, status_of
from .wire import Exchange

TIMING_FACTOR = 5.0  # times slower or faster than the mock before timing counts as drift
# Reported, but not a failure: the mock is fast on purpose (A-timing; --processing-seconds).
INFORMATIONAL = ("timing",)
MESSAGES = {  # message -> (its schema, the assumption of a field the schema does not know)
    "create": ("create-response.json", "A-amount-format"),
    "query": ("query-response.json", "A-query-data-id"),
    "error": ("error.json", "A-error-message-info"),
    "callback": ("callback.json", "A-callback-body"),
    "upload": ("upload-response.json", "A-image-upload"),
}


@dataclass(frozen=True)
class Disagreement:
    """One point where the target and the mock disagree, and the assumptions it touches."""

    item: str
    kind: str  # acceptance, http-status, error-code, shape, amount, status-sequence, timing, ...
    detail: str
    mock: Any
    target: Any
    assumptions: tuple[str, ...]
    exchange: Exchange  # the target's exchange: its reproducer

    @property
    def informational(self) -> bool:
        """Say whether this is reported only (the mock differs here on purpose)."""
        return self.kind in INFORMATIONAL

    def to_dict(self) -> dict[str, Any]:
        """Return the disagreement as JSON-ready data (with a curl reproducer)."""
        return {
            "item": self.item,
            "kind": self.kind,
            "detail": self.detail,
            "mock": self.mock,
            "target": self.target,
            "assumptions": list(self.assumptions),
            "informational": self.informational,
            "curl": self.exchange.request.curl(self.exchange.base_url),
        }


def shape(value: Any, path: str = "") -> dict[str, str]:
    """Return every path of a JSON value with its type; array items share ``[]``."""
    found = {path: json_type(value)} if path else {}
    if isinstance(value, dict):
        for key, child in value.items():
            found.update(shape(child, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for child in value:
            found.update(shape(child, f"{path}[]"))
    return found


def _deref(node: Any, document: str) -> tuple[Any, str]:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        file, _, pointer = ref.partition("#")
        document = file or document
        node = schemas.load(document)
        for part in filter(None, pointer.split("/")):
            node = node[part]
    return node, document


def _children(node: Any, document: str, part: str) -> Iterator[tuple[Any, str]]:
    node, document = _deref(node, document)
    if not isinstance(node, Mapping):
        return
    if part == "[]" and "items" in node:
        yield _deref(node["items"], document)
    elif part in node.get("properties", {}):
        yield node["properties"][part], document
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(key, ()):
            yield from _children(branch, document, part)


def assumption_at(schema: str, path: str) -> str | None:
    """Return the deepest ``x-assumption`` on the way to `path` in `schema`, or None."""
    root = schemas.load(schema)
    found, level = root.get("x-assumption"), [(root, schema)]
    for part in path.replace("[]", ".[]").split("."):
        level = [child for node, doc in level for child in _children(node, doc, part)]
        for node, doc in level:
            for candidate in (node, _deref(node, doc)[0]):
                if isinstance(candidate, Mapping) and "x-assumption" in candidate:
                    found = candidate["x-assumption"]
        if not level:
            break
    return found


def _top(paths: set[str]) -> list[str]:
    """Return the paths whose parent is not in `paths` (the root of each difference)."""

    def parent(path: str) -> str:
        return path.removesuffix("[]") if path.endswith("[]") else path.rpartition(".")[0]

    return sorted(p for p in paths if parent(p) not in paths)


def compare_shapes(
    message: str, where: str, item: str, mock: Any, target: Any, exchange: Exchange
) -> list[Disagreement]:
    """Return one disagreement per assumption whose paths differ between the two bodies."""
    schema, fallback = MESSAGES[message]
    ours, theirs = shape(mock), shape(target)
    mock_only = _top({p for p in ours if ours.get(p) != theirs.get(p)})
    target_only = _top({p for p in theirs if ours.get(p) != theirs.get(p)})
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for side, paths in ((0, mock_only), (1, target_only)):
        for path in paths:
            key = assumption_at(schema, path) or fallback
            grouped.setdefault(key, ([], []))[side].append(f"{path}: {(ours, theirs)[side][path]}")
    return [
        Disagreement(
            item,
            "shape",
            f"{where}: the mock sends {', '.join(m) or 'nothing more'}; "
            f"the target sends {', '.join(t) or 'nothing more'}",
            m,
            t,
            (key,),
            exchange,
        )
        for key, (m, t) in sorted(grouped.items())
    ]


def _answer(exchange: Exchange) -> dict[str, Any]:
    body = exchange.response.json()
    code = body.get("code") if isinstance(body, dict) else None
    return {"status": exchange.response.status, "code": code}


def _specific(ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(i for i in ids if i not in ALWAYS)


def compare(target: JobRun, mock: JobRun) -> list[Disagreement]:
    """Return every disagreement between the target's and the mock's run of one item."""
    item, exchange = target.item, target.create
    ours, theirs = _answer(mock.create), _answer(target.create)
    if target.accepted != mock.accepted:
        verb = "accepted" if target.accepted else "refused"
        return [
            Disagreement(
                item.name,
                "acceptance",
                f"the target {verb} it, the mock did not",
                ours,
                theirs,
                item.assumptions,
                exchange,
            )
        ]
    if not target.accepted:
        return _compare_errors(target, mock)
    found = _compare_create_shapes("create", "create answer", target, mock)
    amounts = [run.create.response.json()["data"].get("amount") for run in (mock, target)]
    if amounts[0] != amounts[1]:
        found.append(
            Disagreement(
                item.name,
                "amount",
                f"amount {amounts[1]!r}, the mock charges {amounts[0]!r}",
                amounts[0],
                amounts[1],
                ("A-amount-per-second", "A-amount-format"),
                exchange,
            )
        )
    if target.polls and mock.polls:
        found += _compare_jobs(target, mock)
    return found


def _compare_errors(target: JobRun, mock: JobRun) -> list[Disagreement]:
    item, exchange = target.item, target.create
    ours, theirs = _answer(mock.create), _answer(target.create)
    ids = ("A-error-codes", *_specific(item.assumptions))
    found = [
        Disagreement(
            item.name,
            kind,
            f"{word} {theirs[field]}, the mock answers {ours[field]}",
            ours[field],
            theirs[field],
            ids,
            exchange,
        )
        for field, kind, word in (("status", "http-status", "HTTP"), ("code", "error-code", "code"))
        if ours[field] != theirs[field]
    ]
    return found + _compare_create_shapes("error", "error answer", target, mock)


def _compare_create_shapes(
    message: str, where: str, target: JobRun, mock: JobRun
) -> list[Disagreement]:
    """Return the shape disagreements between the two create answers."""
    return compare_shapes(
        message,
        where,
        target.item.name,
        mock.create.response.json(),
        target.create.response.json(),
        target.create,
    )


def _within(sequence: list[int], full: list[int]) -> bool:
    remaining = iter(full)
    return all(status in remaining for status in sequence)


def _first_at(run: JobRun, status: int) -> Exchange:
    return next(p for p in run.polls if status_of(p) == status)


def _compare_jobs(target: JobRun, mock: JobRun) -> list[Disagreement]:
    item, last = target.item.name, target.polls[-1]
    found = []
    if not _within(target.sequence, mock.sequence):
        found.append(
            Disagreement(
                item,
                "status-sequence",
                f"statuses {target.sequence}, the mock goes {mock.sequence}",
                mock.sequence,
                target.sequence,
                ("A-status-codes",),
                last,
            )
        )
    for status in sorted(set(target.sequence) & set(mock.sequence)):
        theirs, ours = _first_at(target, status), _first_at(mock, status)
        found += compare_shapes(
            "query",
            f"query at status {status}",
            item,
            ours.response.json(),
            theirs.response.json(),
            theirs,
        )
    found += _compare_timing(target, mock)
    if target.callbacks is not None and mock.callbacks is not None:
        found += _compare_callbacks(target, mock)
    return found


def _compare_timing(target: JobRun, mock: JobRun) -> list[Disagreement]:
    theirs, ours = target.elapsed, mock.elapsed
    if not theirs or not ours or 1 / TIMING_FACTOR <= theirs / ours <= TIMING_FACTOR:
        return []
    return [
        Disagreement(
            target.item.name,
            "timing",
            f"{theirs:g} s to a terminal status, the mock takes {ours:g} s",
            ours,
            theirs,
            ("A-timing",),
            target.polls[-1],
        )
    ]


def _compare_callbacks(target: JobRun, mock: JobRun) -> list[Disagreement]:
    assert target.callbacks is not None and mock.callbacks is not None
    item, last = target.item.name, target.polls[-1]
    if len(target.callbacks) != len(mock.callbacks):
        return [
            Disagreement(
                item,
                "callback-count",
                f"{len(target.callbacks)} callback(s), the mock sends {len(mock.callbacks)}",
                len(mock.callbacks),
                len(target.callbacks),
                ("A-callback-events",),
                last,
            )
        ]
    if not target.callbacks:
        return []
    return compare_shapes(
        "callback", "callback", item, mock.callbacks[-1], target.callbacks[-1], last
    )
