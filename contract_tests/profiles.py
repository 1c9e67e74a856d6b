"""Hypothesis profiles of the contract suite: modest by default, more for CI and nightly.

The default ("contract") keeps the suite's share of ``make test`` small and deterministic.
Load another with ``pytest --hypothesis-profile=contract-ci`` (or ``contract-nightly``):
the suite uses the loaded profile when its name starts with "contract".
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

DEFAULT = "contract"
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    DEFAULT,
    max_examples=12,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
)
settings.register_profile(
    "contract-ci",
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
)
settings.register_profile(
    "contract-nightly",
    max_examples=250,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
)


def active() -> settings:
    """Return the loaded profile if it is one of the suite's, else the default one."""
    name = settings.get_current_profile_name()
    return settings.default if name.startswith("contract") else settings.get_profile(DEFAULT)


def contract_settings(**changes: object) -> settings:
    """Return settings for one contract test: the active profile with `changes`."""
    return settings(active(), **changes)  # type: ignore[arg-type]
