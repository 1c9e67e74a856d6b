"""``python -m mock_server serve``."""

from __future__ import annotations

import sys

from mock_server.serve.cli import main

sys.exit(main())
