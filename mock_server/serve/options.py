"""The command line's options, declared once: one row per option, a table per command.

A row (`Option`) holds the flag, the argparse keywords and the config key the option sets;
`add` puts a table's rows on a parser, `config` turns parsed arguments into the app's config
(each row's value under its key). Options that several commands share (``--profile``,
``--models-dir``, the callback host patterns, ...) are one row used in each table; a row that
differs in one command says so with `Option.but`. To add an option, add a row to the table of
each command that takes it (and, for the mock, its key to `mock_server.config.DEFAULTS`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mock_server.clock import MODES
from mock_server.config import (
    DEFAULTS,
    ERROR_STATUSES,
    PROFILES,
    RESULT_KEYS,
    STATUS_FORMS,
    UNKNOWN_MODELS,
)
from mock_server.proxy.settings import DEFAULTS as PROXY_DEFAULTS
from mock_server.proxy.settings import LIVE_URL
from mock_server.state.redis_conn import PASSWORD_ENV

DEFAULT_STORE = "sqlite:.shortapi-mock/state.db"
SERVERS = ("gunicorn", "granian")  # serve --server: the workers' HTTP server
PROXY_PORT = 8010
Parser = argparse.ArgumentParser | argparse._ArgumentGroup


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Option:
    """One option: its flag, its argparse keywords (`spec`), the config key it sets (None:
    the command reads it itself) with `convert` applied, and its help group."""

    flag: str
    key: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    convert: Callable[[Any], Any] = _same
    group: str | None = None

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds the option's value."""
        return str(self.spec.get("dest") or self.flag.lstrip("-").replace("-", "_"))

    def but(self, **spec: Any) -> Option:
        """Return this row with some argparse keywords changed (a command's own default)."""
        return replace(self, spec={**self.spec, **spec})


def option(
    flag: str,
    key: str | None = None,
    *,
    convert: Callable[[Any], Any] = _same,
    group: str | None = None,
    **spec: Any,
) -> Option:
    """Return a row: `spec` is what `argparse.ArgumentParser.add_argument` takes."""
    return Option(flag, key, spec, convert, group)


def add(parser: argparse.ArgumentParser, rows: Iterable[Option]) -> argparse.ArgumentParser:
    """Add `rows` to `parser` (rows of a group under its heading) and return the parser."""
    groups: dict[str, Parser] = {}
    for row in rows:
        target: Parser = parser
        if row.group:
            target = groups.get(row.group) or groups.setdefault(
                row.group, parser.add_argument_group(row.group)
            )
        spec = dict(row.spec)
        if row.key and spec.get("action") == "store_true":
            # A switch a config file may turn on can be turned off again: --no-<flag>.
            spec["action"] = argparse.BooleanOptionalAction
            spec.setdefault("default", False)  # store_true's, which this action lacks
        target.add_argument(row.flag, **spec)
    return parser


def config(args: argparse.Namespace, rows: Iterable[Option]) -> dict[str, Any]:
    """Return the config keys `rows` set, from the parsed `args`."""
    return {row.key: row.convert(getattr(args, row.dest)) for row in rows if row.key}


def _keys(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values else None


def _patterns(values: list[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


# Rows several commands share.
HOST = option("--host", default="127.0.0.1")
PORT = option("--port", type=int, default=8000, help="0 picks a free port")
THREADS = option("--threads", type=int, default=2, help="threads per worker")
PROFILE = option(
    "--profile",
    "PROFILE",
    choices=PROFILES,
    default=DEFAULTS["PROFILE"],
    help="how requests are judged: default, or strict (lenient findings are errors; "
    "implies --strict-args)",
)
STRICT_ARGS = option(
    "--strict-args",
    "STRICT_ARGS",
    action="store_true",
    default=DEFAULTS["STRICT_ARGS"],
    help="read args as the pages do, strictly: an undocumented arg, or a field marked "
    "required with a default left out, is a 400 (default: accepted with a warning, as the "
    "live API does)",
)
UNKNOWN = option(
    "--unknown-models",
    "UNKNOWN_MODELS",
    choices=UNKNOWN_MODELS,
    default=DEFAULTS["UNKNOWN_MODELS"],
    help="a model id the catalogue does not hold: invalid model (default), or accept it "
    "checking only the envelope",
)
MODELS_DIR = option("--models-dir", metavar="DIR", help="also serve the model files of this folder")
PUBLIC_URL = option(
    "--public-url", "PUBLIC_URL", help="base URL of result links (default: request host)"
)
REPORT_DIR = option(
    "--report-dir", metavar="DIR", help="write drift.md, drift.json, drift.xml here"
)
CALLBACK_ALLOW = option(
    "--callback-allow-host",
    "CALLBACK_ALLOW_HOSTS",
    action="append",
    metavar="PATTERN",
    help="call back only to hosts matching (repeatable, fnmatch)",
)
CALLBACK_DENY = option(
    "--callback-deny-host",
    "CALLBACK_DENY_HOSTS",
    convert=_patterns,
    action="append",
    default=[],
    metavar="PATTERN",
    help="never call back to hosts matching (repeatable, fnmatch)",
)


def _callbacks(flag: str, key: str, kind: type, help: str | None = None) -> Option:
    return option(flag, key, group="callbacks", type=kind, default=DEFAULTS[key], help=help)


SERVE: tuple[Option, ...] = (
    option(
        "--config",
        metavar="FILE",
        help="settings from a JSON (or, Python 3.11+, TOML) file of config keys, e.g. PRICES, "
        "UPLOADS_KEPT, JOURNAL_LIMIT; an option given on the command line wins",
    ),
    HOST,
    PORT,
    option("--clock", "CLOCK", choices=MODES, default="realtime"),
    option(
        "--speed",
        "SPEED",
        type=float,
        default=DEFAULTS["SPEED"],
        help="realtime clock: clock seconds per wall second",
    ),
    option(
        "--store",
        "STORE",
        default=DEFAULT_STORE,
        help=f"memory, sqlite:PATH or redis://HOST:PORT/DB (rediss:// for TLS; the password "
        f"in the URL or in ${PASSWORD_ENV}; several serve processes, on one host or many, "
        f"share one Redis) (default {DEFAULT_STORE})",
    ),
    option("--workers", type=int, default=2, help="worker processes"),
    THREADS,
    option(
        "--server",
        choices=SERVERS,
        default=None,
        help="the HTTP server of the workers: gunicorn with an event loop in front of the "
        "threads (default when installed) or granian (cannot drop connections, so the "
        "faults reset/empty/ack-lost answer 500; stalled clients can hold its threads)",
    ),
    PROFILE,
    STRICT_ARGS,
    UNKNOWN,
    option(
        "--result-key",
        "RESULT_KEY",
        choices=RESULT_KEYS,
        default=DEFAULTS["RESULT_KEY"],
        help="the key of result files (default auto: by the model's output kind)",
    ),
    option(
        "--error-status",
        "ERROR_STATUS",
        choices=ERROR_STATUSES,
        default=DEFAULTS["ERROR_STATUS"],
        help="the HTTP status of API errors: their own (default), or 200 with the non-zero code",
    ),
    option(
        "--status-form",
        "STATUS_FORM",
        choices=STATUS_FORMS,
        default=DEFAULTS["STATUS_FORM"],
        help="job statuses as numbers (default) or as words, queued/processing/succeeded/"
        "failed (the statuses-as-strings variant)",
    ),
    replace(MODELS_DIR, key="MODELS_DIR"),
    option("--queued-seconds", "QUEUED_SECONDS", type=float, default=DEFAULTS["QUEUED_SECONDS"]),
    option(
        "--processing-seconds",
        "PROCESSING_SECONDS",
        type=float,
        default=DEFAULTS["PROCESSING_SECONDS"],
    ),
    option(
        "--api-key",
        "API_KEYS",
        convert=_keys,
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys (repeatable); default: any key",
    ),
    PUBLIC_URL,
    option("--reset", action="store_true", help="start with no jobs"),
    option(
        "--replay",
        "REPLAY_FILE",
        metavar="FILE",
        help="answer queries of the jobs in this recording (proxy --record, contract "
        "--shortapi-record) with their recorded answers",
    ),
    option("--access-log", action="store_true", help="log every request (keys redacted)"),
    option(
        "--cors",
        "CORS",
        action="store_true",
        help="let browser pages of any origin call the API (preflights answered, X-Mock-* "
        "headers exposed); never the admin API",
    ),
    option(
        "--admin-token",
        "ADMIN_TOKEN",
        help="require X-Mock-Admin-Token on /_mock/ (needed "
        "to use the admin API when --host is not a loopback address)",
    ),
    option(
        "--allowed-host",
        "ALLOWED_HOSTS",
        convert=_patterns,
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the admin API and dashboard answer besides loopback names and the "
        "bind address, e.g. behind a proxy (repeatable, fnmatch); other names get 403",
    ),
    option(
        "--callback-events",
        "CALLBACK_EVENTS",
        group="callbacks",
        choices=("terminal", "all"),
        default=DEFAULTS["CALLBACK_EVENTS"],
        help="call back on the terminal status only, or on every change",
    ),
    _callbacks("--callback-attempts", "CALLBACK_ATTEMPTS", int),
    _callbacks(
        "--callback-backoff",
        "CALLBACK_BACKOFF",
        float,
        "clock seconds before the first retry; doubles each time",
    ),
    _callbacks("--callback-backoff-max", "CALLBACK_BACKOFF_MAX", float),
    _callbacks("--callback-timeout", "CALLBACK_TIMEOUT", float, "wall seconds for one attempt"),
    _callbacks(
        "--callback-connect-timeout",
        "CALLBACK_CONNECT_TIMEOUT",
        float,
        "wall seconds to connect (within the attempt's timeout)",
    ),
    _callbacks(
        "--callback-per-destination",
        "CALLBACK_PER_DESTINATION",
        int,
        "attempts in flight per receiver host:port, per worker",
    ),
    _callbacks(
        "--callback-concurrency", "CALLBACK_CONCURRENCY", int, "attempts in flight per worker"
    ),
    _callbacks(
        "--callback-max-age",
        "CALLBACK_MAX_AGE",
        float,
        "clock seconds after which a pending callback is expired, not sent",
    ),
    replace(CALLBACK_ALLOW, group="callbacks"),
    replace(CALLBACK_DENY, group="callbacks"),
)

PROXY: tuple[Option, ...] = (
    option("--target", "TARGET", default=LIVE_URL, help=f"where to forward (default {LIVE_URL})"),
    HOST,
    PORT.but(default=PROXY_PORT),
    option("--record", "RECORD", metavar="FILE", help="record the exchanges (keys redacted)"),
    option(
        "--block-invalid",
        "BLOCK_INVALID",
        action="store_true",
        help="answer an invalid create with the mock's 400; never forward it",
    ),
    option(
        "--budget-usd",
        "BUDGET_USD",
        metavar="N",
        help="refuse creates once the amounts charged plus the new one's price would pass N",
    ),
    PUBLIC_URL.but(
        metavar="URL",
        help="where the target reaches this proxy: callback_url is rewritten to it, the "
        "callbacks checked, recorded and forwarded to the app's own URL",
    ),
    replace(REPORT_DIR, key="REPORT_DIR"),
    option("--store", "STORE", default="memory", help="the journal's store: memory or sqlite:PATH"),
    THREADS.but(default=8, help="requests served at once"),
    option("--timeout", "TIMEOUT", type=float, default=PROXY_DEFAULTS["TIMEOUT"]),
    PROFILE,
    STRICT_ARGS,
    UNKNOWN,
    MODELS_DIR.but(help="also judge creates by the model files of this folder"),
    CALLBACK_ALLOW,
    CALLBACK_DENY,
)

CONTRACT: tuple[Option, ...] = (
    option(
        "--target",
        default="mock",
        help="mock (in-process, the default), an http(s) URL, live (needs SHORTAPI_KEY) "
        "or replay:FILE",
    ),
    option("--budget-usd", type=float, help="the most a paid target may cost (default 1)"),
    option("--dry-run", action="store_true", help="print the planned spend, send nothing"),
    REPORT_DIR.but(default="reports", help="where the reports go (default reports/)"),
    MODELS_DIR.but(help="also check the models of this folder (the in-process mock serves them)"),
)
