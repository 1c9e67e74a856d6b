"""`serve`'s start-up checks: every option value and the replay file, before the port is
probed (`granian_app.bind_problem`) and anything is written, so a failed start is one line
naming the option (no traceback, no banner) and changes nothing a running mock shares.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
from pathlib import Path
from typing import Any

from mock_server import bounds
from mock_server.config import check
from mock_server.errors import ConfigError
from mock_server.serve import options

PROG = "shortapi-mock serve"
MAX_SPEED = bounds.SPEED  # clock seconds per wall second: beyond, times lose their meaning
MAX_WORKERS = 64
MAX_THREADS = 256


class StartupError(ConfigError):
    """A start-up failure: `option` (``--port``...) and what is wrong with its value."""

    def __init__(self, option: str, text: str) -> None:
        super().__init__(f"{option}: {text}" if option else text)
        self.option = option


def fail(error: ConfigError) -> int:
    """Print `error` as one line, as argparse does, and return its exit status (2)."""
    print(f"{PROG}: error: {error}", file=sys.stderr)
    return 2


def check_options(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Raise `StartupError` naming the first option whose value cannot work."""
    check_listening(args)
    _whole("--workers", args.workers, MAX_WORKERS)
    if not math.isfinite(args.speed) or not 0 < args.speed <= MAX_SPEED:
        raise StartupError(
            "--speed",
            f"{args.speed} clock seconds per wall second; use more than 0, at most "
            f"{MAX_SPEED:,.0f}",
        )
    for option in ("callback_backoff", "callback_backoff_max"):
        value = getattr(args, option)
        if not math.isfinite(value) or value < 0:
            raise StartupError(_option(option), f"{value}; use a finite number of seconds >= 0")
    try:
        check(config)
    except ConfigError as exc:  # named by the setting: told by the option that sets it
        text = str(exc)
        optioned = {row.key for row in options.SERVE if row.key}  # not a --config-only one
        for name in (name for name in config if name in optioned):
            if text.startswith(name + " ") or f" {name} " in text:
                raise StartupError(_option(name), text.replace(name, "the value")) from None
        raise StartupError("", text) from None
    if args.store.startswith("sqlite:"):
        _check_sqlite_path(args.store.removeprefix("sqlite:"))
    if args.replay:
        from mock_server.api import replay

        replay.load(args.replay)  # raises ConfigError naming --replay


def _option(setting: str) -> str:
    return "--" + setting.lower().replace("_", "-")


def check_listening(args: argparse.Namespace) -> None:
    """Raise `StartupError` unless ``--port`` and ``--threads`` can work (serve and proxy)."""
    if not 0 <= args.port <= 65535:
        raise StartupError("--port", f"{args.port} is not a TCP port; use 1 to 65535, or 0 for any")
    _whole("--threads", args.threads, MAX_THREADS)


def _whole(option: str, value: int, high: int) -> None:
    if not 1 <= value <= high:
        raise StartupError(option, f"{value}; use a whole number from 1 to {high}")


def _check_sqlite_path(path: str) -> None:
    """Raise `StartupError` unless the SQLite file's folder exists or can be made, and is
    writable (nothing is created here)."""
    folder = Path(path).resolve().parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not _writable(existing):
        raise StartupError(
            "--store",
            f"sqlite:{path}: cannot create the file in {folder} (no such writable "
            "folder); use a path in a folder you can write",
        )


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


STORE_ERRORS = (OSError, sqlite3.Error, ValueError)
"""What opening a store raises on a bad --store value (besides `ConfigError`)."""
