"""What the mock takes by default that a model's page does not promise, and the warnings
that say so (DESIGN.md principle 2: as strict as the live API, no stricter).

Public evidence shows the live API taking undocumented args and applying the default of a
field the page marks required *with a default* (A-envelope-unknown-keys,
A-required-with-default). By default the mock does the same: such a field left out is
filled with its default before the schema and the rules run (so ``if``/``then`` conditions
and rules see the value the job runs with), and each unknown key and each default applied is
a warning. With ``--strict-args`` (or the strict profile) the page's strict reading applies:
the model file's own schema, unknown keys and those fields' absence are errors. The job's
stored ``args`` are always the args as sent; pricing and result files read the defaults
(`ModelSpec.value`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from mock_server.catalog.registry import ModelSpec
from mock_server.errors import PROBLEMS_ECHOED, Problem
from mock_server.strictjson import escape

UNKNOWN_KEY = "args.unknown_key"
DEFAULT_APPLIED = "args.default_applied"


def with_defaults(spec: ModelSpec, args: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Return `args` with every required-with-default field left out filled with its
    default, and one warning per field so filled."""
    filled = dict(args)
    problems = []
    for key, default in spec.required_defaults.items():
        if key in args:
            continue
        filled[key] = default
        problems.append(
            Problem(
                DEFAULT_APPLIED,
                f"/args/{escape(key)}",
                f"{key} is left out: the page marks it required with default "
                f"{json.dumps(default)}, which applies, as on the live API "
                "(A-required-with-default); send it to be explicit (--strict-args rejects "
                "its absence)",
                severity="warning",
            )
        )
    return filled, problems


def unknown_keys(spec: ModelSpec, args: Mapping[str, Any], *, strict: bool) -> Iterator[Problem]:
    """Yield a warning for each key of `args` the model file does not name: on a partial
    model always (A-partial-models), on a complete one unless `strict` (then the schema
    rejects it)."""
    if strict and spec.complete:
        return
    names, hinted = sorted(spec.properties), 0
    for key in args:
        if key in spec.properties:
            continue
        # A close name is looked for only for the problems that are echoed (difflib costs
        # ~15 us a key; a body may carry thousands of unknown keys).
        hinted += 1
        close = difflib.get_close_matches(str(key), names, n=1) if hinted <= PROBLEMS_ECHOED else []
        hint = f"did you mean {close[0]!r}? " if close else ""
        why = (
            "the model's page was only partly seen, so the mock cannot tell whether the live "
            "API takes it (A-partial-models)"
            if not spec.complete
            else "not on the model's page; the live API takes undocumented args "
            "(A-envelope-unknown-keys), so the mock keeps it in the job's args (--strict-args "
            "rejects it)"
        )
        yield Problem(
            UNKNOWN_KEY,
            f"/args/{escape(key)}",
            f"unknown key {key!r}: {hint}{why}; passed unchecked",
            severity="warning",
        )


def what_leniency_does(spec: ModelSpec, key: str) -> str:
    """Say in a few words what the default (lenient) mode does with input `key` of `spec`."""
    if key in spec.required_defaults:
        return f"may be left out: default {json.dumps(spec.required_defaults[key])} applies, warned"
    if key in spec.required:
        return "required"
    if key in spec.defaults:
        return f"optional: default {json.dumps(spec.defaults[key])}"
    return "optional"
