"""What makes a request valid: body parsing, schema errors explained, the named request rules
(`rules.py`) and `Problem` (defined in `mock_server.errors`, see there why). No Flask here.
"""

from __future__ import annotations

from mock_server.errors import Problem

__all__ = ["Problem"]
