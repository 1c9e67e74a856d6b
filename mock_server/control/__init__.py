"""What tests and people use to steer the mock: `MockControl` (clock, settings, scenarios,
faults, accounts, jobs, journal), the one choice of which waiting scenario or fault serves a
request (`injections.py`), the fault tokens and the connection-dropping middleware."""

from __future__ import annotations

from mock_server.control.mock_control import MockControl, key_id
from mock_server.extensions import control as get_control

__all__ = ["MockControl", "get_control", "key_id"]
