"""What tests and people use to steer the mock: `MockControl` (clock, settings, scenarios,
faults, accounts, jobs, journal), the fault tokens and the connection-dropping middleware."""

from __future__ import annotations

from mock_server.control.mock_control import MockControl, get_control, key_id

__all__ = ["MockControl", "get_control", "key_id"]
