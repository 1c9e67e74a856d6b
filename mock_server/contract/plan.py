"""The plan: the few requests a paid or black-box target gets, each sent to it once.

Hypothesis searches and shrinks against the in-process mock (free): for every rule break,
for a valid job and for each lenient rule it finds the simplest example the mock answers as
labelled. The target then gets each once, free probes (requests meant to be rejected)
first, paid jobs after. A replay target brings the plan it was recorded with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mock_server.catalog.registry import KLING_O1_I2V
from mock_server.contract import strategies
from mock_server.contract.strategies import ACCEPTED, BrokenRequest, Expected

from .wire import Secret, WireRequest

if TYPE_CHECKING:
    from hypothesis import strategies as st

JOB_ASSUMPTIONS = (
    "A-amount-per-second",
    "A-amount-format",
    "A-job-id-format",
    "A-status-codes",
    "A-query-data-id",
    "A-result-key",
    "A-timing",
)
FAILED_JOB_ASSUMPTIONS = ("A-failed-refunded", "A-failed-error-field", "A-failure-reasons")
_PRICES = KLING_O1_I2V.price_per_second  # the model the suite's jobs use (strategies.MODEL)
_CHEAPEST = min(_PRICES, key=_PRICES.__getitem__)  # planned jobs use the cheapest mode


@dataclass(frozen=True)
class PlanItem:
    """One request to send to the target, what it must get, and what it exercises."""

    name: str
    kind: str  # invalid | job | lenient
    request: WireRequest
    expected: Expected
    assumptions: tuple[str, ...]
    rule: str | None = None
    pointer: str | None = None
    scenario: str | None = None  # the mock's X-Mock-Scenario (mock targets only)
    bound: str = "0"  # the most it costs if the target accepts it (USD)

    @property
    def price(self) -> Decimal:
        """The most this request costs if accepted."""
        return Decimal(self.bound)

    def to_dict(self) -> dict[str, Any]:
        """Return the item as JSON-ready data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "request": self.request.to_dict(),
            "expected": {"status": self.expected.status, "code": self.expected.code},
            "assumptions": list(self.assumptions),
            "rule": self.rule,
            "pointer": self.pointer,
            "scenario": self.scenario,
            "bound": self.bound,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanItem:
        """Build an item from `to_dict` output."""
        expected = Expected(int(data["expected"]["status"]), int(data["expected"]["code"]))
        return cls(
            data["name"],
            data["kind"],
            WireRequest.from_dict(data["request"]),
            expected,
            tuple(data["assumptions"]),
            data.get("rule"),
            data.get("pointer"),
            data.get("scenario"),
            str(data.get("bound", "0")),
        )


def _bound(request: WireRequest) -> str:
    if request.path != strategies.CREATE_PATH or request.authorization is None:
        return "0"  # a query, or a create without a key: nothing can be charged
    return strategies.price_bound(request.json())


def from_broken(broken: BrokenRequest) -> PlanItem:
    """Return the plan item of a generated broken (or lenient) request."""
    request = WireRequest.from_broken(broken)
    kind = "lenient" if broken.expected.accepted else "invalid"
    return PlanItem(
        f"{kind}/{broken.label}",
        kind,
        request,
        broken.expected,
        broken.assumptions,
        broken.rule,
        broken.pointer,
        bound=_bound(request),
    )


def job(name: str, body: Any, *, scenario: str | None = None) -> PlanItem:
    """Return the plan item of a valid create body (run to the end as a job)."""
    request = WireRequest.create(body)
    ids = JOB_ASSUMPTIONS + (FAILED_JOB_ASSUMPTIONS if scenario and "fail" in scenario else ())
    return PlanItem(
        f"job/{name}", "job", request, ACCEPTED, ids, scenario=scenario, bound=_bound(request)
    )


Answer = Callable[[WireRequest], tuple[int, int]]  # the reference mock: status and code


def _agrees(answer: Answer) -> Callable[[PlanItem], bool]:
    """Return a condition: the mock answers the item as its label says."""
    return lambda item: answer(item.request) == (item.expected.status, item.expected.code)


def _search(
    strategy: st.SearchStrategy[PlanItem], condition: Callable[[PlanItem], bool], *, shrink: bool
) -> PlanItem:
    """Return the first example meeting `condition`, shrunk against the mock if `shrink`."""
    from hypothesis import HealthCheck, Phase, find, settings  # the contract extra, on use

    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    chosen = settings(
        database=None,
        derandomize=True,
        max_examples=200,
        phases=phases,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    return find(strategy, condition, settings=chosen)


NOT_FOR_PAID_TARGETS = frozenset({"body.max_size"})
"""Breaks the plan leaves out for a paid target: `body.max_size` sends a body past the mock's
limit (320 MiB, A-body-limit), a cost in time and traffic, not money, that a nightly run
should not pay; the in-process and served mocks still get it."""


def build(answer: Answer, *, shrink: bool, scenarios: bool, live_images: bool) -> list[PlanItem]:
    """Return the plan: probes first, then jobs, then lenient requests (all paid last).

    `answer` sends a request to the reference mock; every item is the simplest example
    (when `shrink`) the mock answers as labelled. `scenarios`: the target takes the mock's
    scenario header, so a failing job is planned too. `live_images`: jobs use the model
    page's own example images (a real API fetches them).
    """
    agrees = _agrees(answer)
    bodies = strategies.live_requests if live_images else strategies.valid_requests
    bodies = bodies.filter(lambda b: b["args"]["mode"] == _CHEAPEST)
    refer = bodies.filter(lambda b: b["args"]["action"] == "refer")
    labels = sorted(strategies.BREAKS)
    if live_images:  # a paid target: no body at the 320 MiB limit crosses the network
        labels = [label for label in labels if label not in NOT_FOR_PAID_TARGETS]
    wanted = [strategies.BREAKS[label].map(from_broken) for label in labels]
    wanted += [bodies.map(lambda b: job("minimal", b)), refer.map(lambda b: job("refer", b))]
    if scenarios:
        wanted.append(bodies.map(lambda b: job("failed", b, scenario="fail:content_policy")))
    lenient = [
        strategies.LENIENT_BREAKS[k].map(from_broken) for k in sorted(strategies.LENIENT_BREAKS)
    ]
    wanted += [s.map(_payable) for s in lenient] if live_images else lenient
    return [_search(strategy, agrees, shrink=shrink) for strategy in wanted]


def _payable(item: PlanItem) -> PlanItem:
    """Return a lenient item a paid target can really run: documented images, cheapest mode
    (unless the item leaves mode out: its default is what it checks).

    The lenient rules count images and elements, so swapping URLs keeps the rule broken.
    """
    body = item.request.json()
    urls = strategies.documented_images
    args = dict(body["args"])
    if "mode" in args:
        args["mode"] = _CHEAPEST
    args["images"] = [urls[i % len(urls)] for i in range(len(args["images"]))]
    args["elements"] = [
        {
            **e,
            "frontal_image_url": urls[0],
            **(
                {"reference_image_urls": urls[: len(e["reference_image_urls"])]}
                if "reference_image_urls" in e
                else {}
            ),
        }
        for e in args.get("elements", [])
    ]
    if not args["elements"]:
        del args["elements"]
    request = item.request.with_body({**body, "args": args})
    return dataclasses.replace(item, request=request, bound=_bound(request))


def answer_with(target: Any, key: Secret) -> Answer:
    """Return an `Answer` that sends requests to `target` (the reference mock)."""

    def answer(request: WireRequest) -> tuple[int, int]:
        response = target.send(request, key)
        body = response.json()
        code = body.get("code") if isinstance(body, dict) else None
        return response.status, code if isinstance(code, int) else -1

    return answer
