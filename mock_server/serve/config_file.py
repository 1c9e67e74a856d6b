"""``serve --config FILE``: settings from a JSON or TOML file (TOML from Python 3.11).

The file holds config keys as `mock_server.config.DEFAULTS` names them, e.g.::

    {"PRICES": {"kwaivgi/kling-o1/image-to-video": {"std": "0.05"}}, "UPLOADS_KEPT": 50,
     "CLOCK": "manual", "CORS": true}

A key that a command-line option also sets is that option's default (the option, when given,
wins); the others (``PRICES``, ``UPLOADS_KEPT``, ``UPLOADS_KEPT_BYTES``, ``JOURNAL_LIMIT``,
``MAX_JOBS``, ...) have no option. Keys for tests only (callables, the set-up switches) and
unknown keys are refused, naming them.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_server.config import DEFAULTS
from mock_server.errors import ConfigError

# Settings a file may not hold: callables and switches the command line manages itself.
INTERNAL = frozenset(
    {
        "WALL_CLOCK",
        "CALLBACK_RESOLVER",
        "BACKGROUND",
        "STORE_INIT",
        "ADMIN_OPEN",
        "BIND_HOSTS",
    }
)
SETTABLE = frozenset(DEFAULTS) - INTERNAL


def load(path: str) -> dict[str, Any]:
    """Return the settings in the file at `path` (raises `ConfigError` naming what is wrong)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror})") from None
    if path.endswith(".toml"):
        if sys.version_info < (3, 11):  # pragma: no cover - tomllib is 3.11+
            raise ConfigError(f"--config {path}: TOML needs Python 3.11+; use a .json file")
        tomllib = importlib.import_module("tomllib")  # typed as Any: mypy reads it as 3.10
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config {path}: not valid TOML: {exc}") from None
    else:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--config {path}: not valid JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"--config {path}: must hold an object of settings")
    unknown = sorted(set(document) - SETTABLE)
    if unknown:
        raise ConfigError(
            f"--config {path}: unknown setting(s) {', '.join(map(str, unknown))}; "
            f"the settings are {', '.join(sorted(SETTABLE))}"
        )
    return dict(document)
