"""Check a user's own client against generated jobs, every response variant and fault.

Wrap your client in a `ClientAdapter` (submit a job, wait for it) and call `check_client`
from a test that has one of the plugin's mock fixtures::

    def test_my_client_honours_the_contract(shortapi_mock):
        check_client(lambda mock: MyAdapter(base_url=mock.base_url, key=mock.api_key),
                     shortapi_mock)

The args are generated from the model's own schema: ``model="google/nano-banana-pro/..."``
checks a client of any served model (kling-o1 image-to-video by default).

For every variant in `mock_server.testing.variants.ALL` (result under ``videos`` or ``images``,
each failure reason, a failed job reported as 4, a 429, 5xx or 3000 on the first create, errors
sent as HTTP 200) hypothesis generates valid args;
the check runs the client on the per-poll clock (each query moves the job one step, so
nothing waits) and fails, with the smallest args it can find, when the client

- sends a request that breaks the contract (anything the mock rejects, unknown job ids,
  polling too fast or after a final status: `mock_server.testing.client_checks`),
- crashes with an exception that is not one of its own (`ClientAdapter.errors`),
- reports a result other than the job's: status 2 with the first URL of the job's result
  (its video, image or song), or a failed status (3, or the 4 the job reported in
  failed-status-4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

try:
    from hypothesis import Phase, given
except ImportError as exc:  # pragma: no cover - shown to a user without the extra
    raise ImportError(
        "check_client needs hypothesis, the kit's contract extra: "
        "pip install 'shortapi-mock[contract]'"
    ) from exc

from mock_server.contract import strategies
from mock_server.testing import MockHandle, variants

from . import profiles

KLING = "kwaivgi/kling-o1/image-to-video"


@dataclass(frozen=True)
class ClientResult:
    """What the client says became of a job."""

    status: int  # 2 succeeded; 3 (or 4, as the API may say) failed
    video_url: str | None = None  # the result's first URL (a video, image or song)


class ClientAdapter(Protocol):
    """Your client, wrapped for the check."""

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions your client raises on purpose (not a crash)."""
        ...

    def submit(self, args: Mapping[str, Any]) -> str:
        """Create a job of the checked model with `args`; return its id."""
        ...

    def wait(self, job_id: str) -> ClientResult:
        """Poll the job until it ends, as your client does; say how it ended."""
        ...


class ClientCheckFailed(AssertionError):
    """The client broke the contract or mishandled a response variant."""


def check_client(
    make_client: Callable[[MockHandle], ClientAdapter],
    mock: MockHandle,
    *,
    chosen: Sequence[variants.Variant] = variants.ALL,
    shrink: bool = True,
    examples: int | None = None,
    model: str = KLING,
) -> int:
    """Run the client on generated jobs under each variant; raise on the first problem.

    With `shrink`, hypothesis first looks for the smallest args that show the problem;
    `examples` per variant defaults to the active contract profile's ``max_examples``.
    Returns how many jobs were run.
    """
    runs = 0
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    generated = strategies.valid_args if model == KLING else strategies.valid_args_for(model)

    def under(variant: variants.Variant) -> Callable[[], None]:
        @profiles.contract_settings(
            phases=phases, **({"max_examples": examples} if examples else {})
        )
        @given(args=generated)
        def one(args: dict[str, Any]) -> None:
            nonlocal runs
            runs += 1
            _run_once(make_client, mock, variant, args)

        return one

    for variant in chosen:
        under(variant)()
    return runs


def _run_once(
    make_client: Callable[[MockHandle], ClientAdapter],
    mock: MockHandle,
    variant: variants.Variant,
    args: dict[str, Any],
) -> None:
    check_on_teardown = mock.check_on_teardown
    mock.reset()
    mock.check_on_teardown = check_on_teardown  # reset() would turn a test's opt-out off
    mock.set_clock("per-poll")
    variant.apply(mock)
    client = make_client(mock)
    job_id, result, error = None, None, None
    try:
        job_id = client.submit(args)
        result = client.wait(job_id)
    except client.errors as raised:  # the client's own, deliberate error
        error = raised
    except Exception as crash:  # anything else is the client crashing on a valid answer
        raise ClientCheckFailed(f"[{variant.name}] the client crashed: {crash!r}") from crash
    _check_requests(mock, variant)
    _check_outcome(variant, job_id, result, error, _first_url(mock, job_id))


def _check_requests(mock: MockHandle, variant: variants.Variant) -> None:
    found = mock.violations()
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        raise ClientCheckFailed(f"[{variant.name}] the client broke the contract:\n{lines}")
    mock.check()


def _check_outcome(
    variant: variants.Variant,
    job_id: str | None,
    result: ClientResult | None,
    error: BaseException | None,
    expected_url: str | None,
) -> None:
    name = variant.name
    if error is not None:
        if variant.outcome == "succeeded" and variant.fault is None:
            raise ClientCheckFailed(
                f"[{name}] the client raised {error!r} for a job that succeeded"
            )
        return  # raising its own error on a failed job or a fault is handling it
    assert result is not None and job_id is not None
    if variant.outcome == "failed":
        if result.status < 3:
            raise ClientCheckFailed(
                f"[{name}] the job failed ({variant.reason}); the client "
                f"says status {result.status}"
            )
        return
    if result.status != 2 or result.video_url is None or result.video_url != expected_url:
        raise ClientCheckFailed(
            f"[{name}] job {job_id} succeeded with its result at {expected_url}; "
            f"the client says {result}"
        )


def _first_url(mock: MockHandle, job_id: str | None) -> str | None:
    """Return the first URL of the job's result, as a query answers it now (None: no job,
    or no result)."""
    for job in mock.jobs():
        if job["id"] == job_id:
            result = job.get("answer", {}).get("result", {})
            for entries in result.values():
                if entries:
                    return str(entries[0]["url"])
    return None
