"""Every documented response variant, so one client test can run against each of them."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.jobs.scenarios import REASONS


@dataclass(frozen=True)
class Variant:
    """One way the API may answer a client's job; `apply` sets it up on a mock handle."""

    name: str
    result_key: str = "images"
    scenario: str | None = None  # for every job of the test
    fault: str | None = None  # for the first create only
    outcome: str = "succeeded"  # what the job ends as: succeeded | failed
    reason: str | None = None  # the failure reason, when failed
    status: int | None = None  # the HTTP status of the first create, when faulted

    def apply(self, mock: object) -> None:
        """Set this variant up on a `MockHandle` (duck-typed to avoid an import cycle)."""
        mock.configure(result_key=self.result_key)  # type: ignore[attr-defined]
        if self.scenario:
            mock.scenario(self.scenario, count=None)  # type: ignore[attr-defined]
        if self.fault:
            mock.fault(self.fault, count=1, endpoint="create")  # type: ignore[attr-defined]


DEFAULT = Variant("succeeded-images")
ALL: tuple[Variant, ...] = (
    DEFAULT,
    Variant("succeeded-videos", result_key="videos"),
    *(
        Variant(f"failed-{name}", scenario=f"fail:{name}", outcome="failed", reason=text)
        for name, text in REASONS.items()
    ),
    *(
        Variant(f"create-{status}-once", fault=str(status), status=status)
        for status in (429, 500, 503, 504)
    ),
)
