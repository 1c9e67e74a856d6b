"""Every response variant a client may meet, so one client test can run against each of them.

A variant sets up the whole test on a `MockHandle` (through `MockHandle.configure`, the
scenarios and the faults): where the result goes, how a job fails and with which status,
how the first create fails and with which HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.jobs.scenarios import REASONS
from mock_server.jobs.status import WORDS

_STATUS_OF = {"429": 429, "500": 500, "503": 503, "504": 504, "3000": 502}
_CODE_OF = {"429": 1302, "500": 5000, "503": 5001, "504": 5002, "3000": 3000}


@dataclass(frozen=True)
class Variant:
    """One way the API may answer a client's job; `apply` sets it up on a mock handle."""

    name: str
    result_key: str = "auto"  # auto: by the model's output kind (videos for a video model)
    scenario: str | None = None  # for every job of the test
    fault: str | None = None  # for the first create only
    outcome: str = "succeeded"  # what the job ends as: succeeded | failed
    reason: str | None = None  # the failure text, when failed
    # The first create's error, when faulted: its status as the journal records it (the
    # error's own, also under errors-as-200) and its envelope code.
    status: int | None = None
    code: int | None = None
    error_status: str | None = None  # "200": every error answers HTTP 200 (None: as set)
    failed_status: int | None = None  # the status a failed job reports (None: as set, 3)
    status_form: str | None = None  # "string": statuses as words (None: as set, numbers)

    @property
    def job_status(self) -> int:
        """The final status the job reports: 2, or the failed status (3 unless set)."""
        return 2 if self.outcome == "succeeded" else (self.failed_status or 3)

    @property
    def reported_status(self) -> int | str:
        """The final status as the answers send it: `job_status`, or its word."""
        return WORDS[self.job_status] if self.status_form == "string" else self.job_status

    def apply(self, mock: object) -> None:
        """Set this variant up on a `MockHandle` (duck-typed to avoid an import cycle)."""
        settings: dict[str, object] = {"result_key": self.result_key}
        if self.error_status is not None:
            settings["error_status"] = self.error_status
        if self.failed_status is not None:
            settings["failed_status"] = self.failed_status
        if self.status_form is not None:
            settings["status_form"] = self.status_form
        mock.configure(**settings)  # type: ignore[attr-defined]
        if self.scenario:
            mock.scenario(self.scenario, count=None)  # type: ignore[attr-defined]
        if self.fault:
            mock.fault(self.fault, count=1, endpoint="create")  # type: ignore[attr-defined]


def _create_fails_once(fault: str) -> Variant:
    return Variant(
        f"create-{fault}-once", fault=fault, status=_STATUS_OF[fault], code=_CODE_OF[fault]
    )


DEFAULT = Variant("succeeded")
ALL: tuple[Variant, ...] = (
    DEFAULT,
    Variant("succeeded-images", result_key="images"),  # the model page's example
    *(
        Variant(f"failed-{name}", scenario=f"fail:{name}", outcome="failed", reason=text)
        for name, text in REASONS.items()
    ),
    # One public client maps 3 and 4 to failed: a client must treat any status above 2 as
    # final (A-failed-status-4).
    Variant(
        "failed-status-4",
        scenario="fail",
        outcome="failed",
        reason=REASONS["internal_error"],
        failed_status=4,
    ),
    *(_create_fails_once(fault) for fault in ("429", "500", "503", "504", "3000")),
    # The first create answers HTTP 200 {"code": 5001, ...} (A-error-http-status): a client
    # that checks only the HTTP status reads a job_id that is not there.
    Variant("errors-as-200", fault="503", status=503, code=5001, error_status="200"),
    # Statuses as words, "queued" ... "succeeded" / "failed" (A-status-strings): the official
    # agent skills wait for status "succeeded"; a live check has not settled the form.
    Variant("statuses-as-strings", status_form="string"),
    Variant(
        "statuses-as-strings-failed",
        scenario="fail:content_policy",
        outcome="failed",
        reason=REASONS["content_policy"],
        status_form="string",
    ),
)
