"""Command-line options `serve` and `proxy` share: how requests are judged (the validation
profile, unknown model ids) and which hosts callbacks may go to, spelled and explained once."""

from __future__ import annotations

import argparse

from mock_server.config import DEFAULTS, PROFILES, UNKNOWN_MODELS


def add_validation(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--profile`` and ``--unknown-models``."""
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=DEFAULTS["PROFILE"],
        help="how requests are judged: default, or strict (lenient findings are errors)",
    )
    parser.add_argument(
        "--unknown-models",
        choices=UNKNOWN_MODELS,
        default=DEFAULTS["UNKNOWN_MODELS"],
        help="a model id the catalogue does not hold: invalid model (default), or accept it "
        "checking only the envelope",
    )


def add_callback_hosts(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--callback-allow-host`` and ``--callback-deny-host``."""
    parser.add_argument(
        "--callback-allow-host",
        action="append",
        metavar="PATTERN",
        help="call back only to hosts matching (repeatable, fnmatch)",
    )
    parser.add_argument(
        "--callback-deny-host",
        action="append",
        default=[],
        metavar="PATTERN",
        help="never call back to hosts matching (repeatable, fnmatch)",
    )
