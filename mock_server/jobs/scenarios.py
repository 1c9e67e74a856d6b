"""Job scenarios: decide a job's fate (succeed, fail, stuck, slow) and its callbacks.

A scenario is a list of tokens, given per request (header ``X-Mock-Scenario`` or
``[mock:...]`` markers in the prompt) or for the next N jobs of one key or of every key
(`MockControl.add_scenario`, ``POST /_mock/scenarios``). Tokens:

- ``succeed`` (default), ``fail`` (= ``fail:internal_error``), ``fail:content_policy``,
  ``fail:internal_error``, ``fail:timeout``
- ``stuck`` (processing for ever), ``slow`` (processing 10x longer), ``slow:SECONDS``
- ``callback:duplicate``, ``callback:delay:SECONDS``, ``callback:out-of-order``,
  ``callback:drop``
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from mock_server import bounds
from mock_server.errors import INVALID_PARAMETER, ApiError
from mock_server.jobs.status import Status
from mock_server.state.records import Outcome
from mock_server.tokens import parse_tokens

REASONS = {  # assumption A-failure-reasons
    "content_policy": "content policy violation: the prompt or an input image was flagged",
    "internal_error": "internal error while generating the video; please retry",
    "timeout": "generation timed out",
}
HEADER = "X-Mock-Scenario"
_MARKER = re.compile(r"\[mock:([^\]]*)\]", re.IGNORECASE)
_NUMBER = r"\d+(?:\.\d+)?"
_USAGE = (
    "succeed, fail, fail:content_policy, fail:internal_error, fail:timeout, stuck, slow, "
    "slow:SECONDS, callback:duplicate, callback:delay:SECONDS, callback:out-of-order or "
    "callback:drop"
)
_TOKENS = re.compile(
    rf"^(succeed|fail(?::(?:{'|'.join(REASONS)}))?|stuck|slow(?::{_NUMBER})?|"
    rf"callback:(?:duplicate|drop|out-of-order|delay:{_NUMBER}))$"
)
SLOW_FACTOR = 10.0


def tokens(text: str) -> list[str]:
    """Split a scenario text ("fail:timeout, callback:drop") into checked tokens; a duration
    above `bounds.SCENARIO_SECONDS` is refused with a 400 naming the bound."""
    found = parse_tokens(text, _TOKENS, "scenario", _USAGE)
    for token in found:
        number = token.rpartition(":")[2]
        if number[:1].isdigit() and (len(number) > 12 or float(number) > bounds.SCENARIO_SECONDS):
            raise ApiError(
                400,
                INVALID_PARAMETER,
                f"scenario {token[:40]}: at most {bounds.SCENARIO_SECONDS:,} clock seconds (the "
                "mock's bound SCENARIO_SECONDS); use stuck for a job that never ends",
            )
    return found


def prompt_tokens(prompt: Any) -> list[str]:
    """Return the tokens of every ``[mock:...]`` marker in a prompt."""
    if not isinstance(prompt, str) or "[mock:" not in prompt.lower():
        return []
    return [t for marker in _MARKER.findall(prompt) for t in tokens(marker)]


def fate(chosen: Iterable[str], processing_for: float) -> tuple[Outcome, float]:
    """Return the job outcome and processing time that `chosen` tokens ask for."""
    outcome = Outcome()
    for token in chosen:
        name, _, arg = token.partition(":")
        if name == "succeed":
            outcome = replace(outcome, status=Status.SUCCEEDED, reason=None)
        elif name == "fail":
            reason = REASONS[arg or "internal_error"]
            outcome = replace(outcome, status=Status.FAILED, reason=reason)
        elif name == "stuck":
            outcome = replace(outcome, stuck=True)
        elif name == "slow":
            processing_for = float(arg) if arg else processing_for * SLOW_FACTOR
        elif name == "callback":
            outcome = replace(outcome, callback=arg)
    return outcome, processing_for


def ended(fail: str | None) -> Outcome:
    """Return the outcome of a job ended now: succeeded, or failed for reason name `fail`."""
    if fail is None:
        return Outcome()
    return Outcome(status=Status.FAILED, reason=REASONS[fail])
