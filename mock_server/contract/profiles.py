"""Hypothesis profiles of the contract suite: modest by default, more for CI and nightly.

The default ("contract") keeps the suite's share of ``make test`` small and deterministic;
"contract-smoke" is smaller still (the kit's own runs of the suite in a subprocess). Load
another with ``pytest --hypothesis-profile=contract-ci`` (or ``contract-nightly``): the
suite uses the loaded profile when its name starts with "contract".
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

DEFAULT = "contract"
_COMMON: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    # Requests go over HTTP and bodies can be a megabyte: slow and large are expected.
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
PROFILES: dict[str, dict[str, Any]] = {
    "contract-smoke": {
        "max_examples": 4,
        "stateful_step_count": 8,
        "derandomize": True,
        "database": None,
    },
    DEFAULT: {"max_examples": 12, "stateful_step_count": 12, "derandomize": True, "database": None},
    "contract-ci": {
        "max_examples": 60,
        "stateful_step_count": 25,
        "derandomize": True,
        "database": None,
    },
    "contract-nightly": {"max_examples": 250, "stateful_step_count": 40},
}
for _name, _values in PROFILES.items():
    settings.register_profile(_name, **_COMMON, **_values)


def active() -> settings:
    """Return the loaded profile if it is one of the suite's, else the default one."""
    name, loaded = settings.get_current_profile_name(), settings.default
    return (
        loaded
        if loaded is not None and name.startswith("contract")
        else settings.get_profile(DEFAULT)
    )


def contract_settings(**changes: Any) -> settings:
    """Return settings for one contract test: the active profile with `changes`."""
    return settings(active(), **changes)
