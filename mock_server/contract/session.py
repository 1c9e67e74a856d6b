"""One contract run: a target, the in-process reference mock, the budget, the results.

On a generative target (a mock with controls) hypothesis sends as many generated requests
as the profile allows. On any other target (live, a black-box URL, a replay) the run sends
the plan once, probes first, and every property is checked on those answers. Drift always
compares the plan's answers with the reference mock's answers to the same requests.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mock_server.testing.receiver import CallbackReceiver

from . import drift, plan, profiles
from .budget import Budget, BudgetError
from .client import ApiClient, JobRun, Snapshot
from .plan import PlanItem
from .recording import Recorder, ReplayTarget
from .report import DriftReport
from .targets import HttpTarget, InProcessTarget, LiveTarget, Target
from .wire import Secret

Check = Callable[[JobRun], None]


@dataclass(frozen=True)
class Options:
    """How to run: the cap, the waiting, where reports and recordings go."""

    budget_usd: Decimal = Decimal("1")
    dry_run: bool = False
    timeout: float = 900.0
    poll_interval: float = 2.5
    report_dir: Path = Path("reports")
    record: Path | None = None
    shrink: bool = False
    callbacks: bool = True


class ContractSession:
    """Runs plan items and generated requests against a target and the reference mock."""

    def __init__(self, target: Target, key: Secret, options: Options | None = None) -> None:
        self.target, self.key, self.options = target, key, options or Options()
        self.reference = InProcessTarget()
        self.recorder = Recorder() if self.options.record else None
        self.budget = Budget(
            self.options.budget_usd, enforced=target.paid, dry_run=self.options.dry_run
        )
        self.client = ApiClient(
            target,
            key,
            self.budget,
            timeout=self.options.timeout,
            poll_interval=self.options.poll_interval,
            observe=self.recorder.observe if self.recorder else None,
        )
        self.reference_client = ApiClient(
            self.reference,
            Secret("sk-reference-" + _nonce()),
            Budget(self.options.budget_usd, enforced=False),
        )
        self._receivers: dict[str, CallbackReceiver] = {}
        self._plan: list[PlanItem] | None = None
        self._runs: dict[str, JobRun] = {}
        self.skipped: dict[str, str] = {}
        if target.controls is not None:
            target.controls.open_account(key)

    # --- what the target is ---------------------------------------------------------------

    @property
    def exact(self) -> bool:
        """Say whether the target is a mock, so answers must match the labels exactly."""
        return self.target.controls is not None

    def receiver(self, who: str = "target") -> CallbackReceiver | None:
        """Return a callback receiver the target (or the reference) can reach, or None."""
        reachable = self.target.reaches_loopback if who == "target" else True
        if not (self.options.callbacks and reachable):
            return None
        if who not in self._receivers:
            self._receivers[who] = CallbackReceiver().start()
        return self._receivers[who]

    # --- the plan -------------------------------------------------------------------------

    def plan(self) -> list[PlanItem]:
        """Return the plan: recorded by a replay target, else searched on the reference."""
        if self._plan is None:
            recorded = self.target.recorded_plan()
            self._plan = (
                [PlanItem.from_dict(item) for item in recorded]
                if recorded is not None
                else _built_plan(self, self.options.shrink, self.exact, self.target.paid)
            )
        return self._plan

    def plan_runs(self) -> dict[str, JobRun]:
        """Send every plan item once (free probes first); return the runs that were sent."""
        if not self._runs:
            for item in sorted(self.plan(), key=lambda i: i.kind != "invalid"):
                try:
                    self._runs[item.name] = self.run(item)
                except BudgetError as refused:
                    self.skipped[item.name] = str(refused)
        return self._runs

    def planned(self, kind: str) -> list[JobRun]:
        """Return the plan's runs of `kind` (sending the plan first if needed)."""
        return [run for run in self.plan_runs().values() if run.item.kind == kind]

    # --- running --------------------------------------------------------------------------

    def run(self, item: PlanItem) -> JobRun:
        """Send `item` to the target; follow it to its end unless it is a probe."""
        if self.recorder:
            self.recorder.begin(item)
        before = self.snapshot()
        run = self.client.run(item, receiver=self.receiver(), poll=item.kind != "invalid")
        return dataclasses.replace(run, before=before, after=self.snapshot())

    def snapshot(self) -> Snapshot | None:
        """Return the key's newest job and spend, when the target offers controls."""
        controls = self.target.controls
        if controls is None:
            return None
        return Snapshot(controls.newest_job(self.key), str(controls.account(self.key)["spent"]))

    def reference_run(self, target_run: JobRun) -> JobRun:
        """Run the same item on the reference mock (failing it if the target's job failed)."""
        item = target_run.item
        if item.scenario is None and target_run.sequence[-1:] == [3]:
            item = dataclasses.replace(item, scenario="fail")
        receiver = self.receiver("reference") if target_run.callbacks is not None else None
        return self.reference_client.run(item, receiver=receiver, poll=bool(target_run.polls))

    def each(
        self,
        kind: str,
        generated: st.SearchStrategy[PlanItem],
        check: Check,
        *,
        only: Callable[[PlanItem], bool] | None = None,
        examples: int | None = None,
    ) -> int:
        """Check `check` on generated items (generative targets) or on the plan's runs of
        `kind` that pass `only`; return how many were checked."""
        if self.target.generative:
            count = 0
            chosen = {"max_examples": examples} if examples else {}

            @profiles.contract_settings(**chosen)
            @given(generated)
            def generated_check(item: PlanItem) -> None:
                nonlocal count
                count += 1
                check(self.run(item))

            generated_check()
            return count
        runs = [run for run in self.planned(kind) if only is None or only(run.item)]
        for run in runs:
            check(run)
        return len(runs)

    # --- drift ----------------------------------------------------------------------------

    def drift(self) -> DriftReport:
        """Compare the plan's answers from the target and from the reference mock."""
        report = DriftReport(self.target.name, self.target.where)
        for name, run in self.plan_runs().items():
            report.compared.append(name)
            report.disagreements += drift.compare(run, self.reference_run(run))
        report.skipped = dict(self.skipped)
        report.budget = self.budget.summary()
        return report

    def close(self) -> None:
        """Save the recording, stop the receivers, close both targets."""
        if self.recorder and self.options.record:
            self.recorder.save(self.options.record, target=self.target)
        for receiver in self._receivers.values():
            receiver.stop()
        self.reference.close()
        self.target.close()


_PLANS: dict[tuple[bool, bool, bool], list[PlanItem]] = {}


def _built_plan(
    session: ContractSession, shrink: bool, scenarios: bool, live: bool
) -> list[PlanItem]:
    """Build a plan once per process: the search is deterministic and the mock is one code."""
    key = (shrink, scenarios, live)
    if key not in _PLANS:
        answer = plan.answer_with(session.reference, session.reference_client.key)
        _PLANS[key] = plan.build(answer, shrink=shrink, scenarios=scenarios, live_images=live)
    return _PLANS[key]


def _nonce() -> str:
    return secrets.token_hex(6)


def target_for(spec: str, *, live_url: str, timeout: float) -> Target:
    """Return the target `--shortapi-target` names: mock, live, replay:PATH or a URL."""
    if spec == "mock":
        return InProcessTarget()
    if spec == "live":
        return LiveTarget(live_url, timeout=timeout)
    if spec.startswith("replay:"):
        return ReplayTarget(Path(spec.removeprefix("replay:")))
    if spec.startswith(("http://", "https://")):
        return HttpTarget(spec, timeout=timeout)
    raise ValueError(
        f"--shortapi-target must be mock, live, replay:PATH or an http(s) URL, not {spec!r}"
    )
