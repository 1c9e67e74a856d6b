"""The command line: ``shortapi-mock serve`` runs the mock under gunicorn, ``shortapi-mock
contract`` the contract suite against a target, ``shortapi-mock models list`` lists the models
(`models_cli.py`)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from mock_server.clock import MODES
from mock_server.config import DEFAULTS, ERROR_STATUSES, RESULT_KEYS
from mock_server.contract import runner
from mock_server.errors import ConfigError
from mock_server.serve import models_cli, options, proxy_cli
from mock_server.state.redis_conn import PASSWORD_ENV, is_redis_url, redact
from mock_server.version import __version__

DEFAULT_STORE = "sqlite:.shortapi-mock/state.db"
SERVERS = ("gunicorn", "granian")  # serve --server: the workers' HTTP server
EXAMPLE_BODY = (
    '{"model": "kwaivgi/kling-o1/image-to-video", "args": {"mode": "std", '
    '"action": "frame", "prompt": "a cat walks", '
    '"images": ["https://example.com/start.jpg"]}}'
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``shortapi-mock`` command."""
    parser = argparse.ArgumentParser(prog="shortapi-mock", description=__doc__)
    parser.add_argument("--version", action="version", version=f"shortapi-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock over HTTP (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--clock", choices=MODES, default="realtime")
    serve.add_argument(
        "--speed",
        type=float,
        default=DEFAULTS["SPEED"],
        help="realtime clock: clock seconds per wall second",
    )
    serve.add_argument(
        "--store",
        default=DEFAULT_STORE,
        help=f"memory, sqlite:PATH or redis://HOST:PORT/DB (rediss:// for TLS; the password "
        f"in the URL or in ${PASSWORD_ENV}; several serve processes, on one host or many, "
        f"share one Redis) (default {DEFAULT_STORE})",
    )
    serve.add_argument("--workers", type=int, default=2, help="worker processes")
    serve.add_argument("--threads", type=int, default=2, help="threads per worker")
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default="gunicorn",
        help="the HTTP server of the workers: gunicorn (default) or granian (faster; cannot "
        "drop connections, so the faults reset/empty/ack-lost answer 500)",
    )
    options.add_validation(serve)
    serve.add_argument(
        "--result-key",
        choices=RESULT_KEYS,
        default=DEFAULTS["RESULT_KEY"],
        help="the key of result files (default auto: by the model's output kind)",
    )
    serve.add_argument(
        "--error-status",
        choices=ERROR_STATUSES,
        default=DEFAULTS["ERROR_STATUS"],
        help="the HTTP status of API errors: their own (default), or 200 with the non-zero code",
    )
    serve.add_argument(
        "--models-dir", metavar="DIR", help="also serve the model files of this folder"
    )
    serve.add_argument("--queued-seconds", type=float, default=DEFAULTS["QUEUED_SECONDS"])
    serve.add_argument("--processing-seconds", type=float, default=DEFAULTS["PROCESSING_SECONDS"])
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys (repeatable); default: any key",
    )
    serve.add_argument("--public-url", help="base URL of result links (default: request host)")
    serve.add_argument("--reset", action="store_true", help="start with no jobs")
    serve.add_argument(
        "--replay",
        metavar="FILE",
        help="answer queries of the jobs in this recording (proxy --record, contract "
        "--shortapi-record) with their recorded answers",
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (keys redacted)"
    )
    serve.add_argument(
        "--admin-token",
        help="require X-Mock-Admin-Token on /_mock/ (needed "
        "to use the admin API when --host is not a loopback address)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the admin API and dashboard answer besides loopback names and the "
        "bind address, e.g. behind a proxy (repeatable, fnmatch); other names get 403",
    )
    hooks = serve.add_argument_group("callbacks")
    hooks.add_argument(
        "--callback-events",
        choices=("terminal", "all"),
        default=DEFAULTS["CALLBACK_EVENTS"],
        help="call back on the terminal status only, or on every change",
    )
    hooks.add_argument("--callback-attempts", type=int, default=DEFAULTS["CALLBACK_ATTEMPTS"])
    hooks.add_argument(
        "--callback-backoff",
        type=float,
        default=DEFAULTS["CALLBACK_BACKOFF"],
        help="clock seconds before the first retry; doubles each time",
    )
    hooks.add_argument(
        "--callback-backoff-max", type=float, default=DEFAULTS["CALLBACK_BACKOFF_MAX"]
    )
    hooks.add_argument(
        "--callback-timeout",
        type=float,
        default=DEFAULTS["CALLBACK_TIMEOUT"],
        help="wall seconds for one attempt",
    )
    hooks.add_argument(
        "--callback-connect-timeout",
        type=float,
        default=DEFAULTS["CALLBACK_CONNECT_TIMEOUT"],
        help="wall seconds to connect (within the attempt's timeout)",
    )
    hooks.add_argument(
        "--callback-per-destination",
        type=int,
        default=DEFAULTS["CALLBACK_PER_DESTINATION"],
        help="attempts in flight per receiver host:port, per worker",
    )
    hooks.add_argument(
        "--callback-concurrency",
        type=int,
        default=DEFAULTS["CALLBACK_CONCURRENCY"],
        help="attempts in flight per worker",
    )
    hooks.add_argument(
        "--callback-max-age",
        type=float,
        default=DEFAULTS["CALLBACK_MAX_AGE"],
        help="clock seconds after which a pending callback is expired, not sent",
    )
    options.add_callback_hosts(hooks)
    runner.add_parser(commands)
    models_cli.add_parser(commands)
    proxy_cli.add_parser(commands)
    return parser


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """Return the app config for parsed `serve` arguments."""
    return {
        "STORE": args.store,
        "CLOCK": args.clock,
        "SPEED": args.speed,
        "PROFILE": args.profile,
        "RESULT_KEY": args.result_key,
        "ERROR_STATUS": args.error_status,
        "MODELS_DIR": args.models_dir,
        "UNKNOWN_MODELS": args.unknown_models,
        "QUEUED_SECONDS": args.queued_seconds,
        "PROCESSING_SECONDS": args.processing_seconds,
        "API_KEYS": frozenset(args.api_keys) if args.api_keys else None,
        "PUBLIC_URL": args.public_url,
        "CALLBACK_EVENTS": args.callback_events,
        "CALLBACK_ATTEMPTS": args.callback_attempts,
        "CALLBACK_BACKOFF": args.callback_backoff,
        "CALLBACK_BACKOFF_MAX": args.callback_backoff_max,
        "CALLBACK_TIMEOUT": args.callback_timeout,
        "CALLBACK_CONNECT_TIMEOUT": args.callback_connect_timeout,
        "CALLBACK_PER_DESTINATION": args.callback_per_destination,
        "CALLBACK_CONCURRENCY": args.callback_concurrency,
        "CALLBACK_MAX_AGE": args.callback_max_age,
        "CALLBACK_ALLOW_HOSTS": args.callback_allow_host,
        "CALLBACK_DENY_HOSTS": args.callback_deny_host,
        "ADMIN_TOKEN": args.admin_token,
        "ADMIN_OPEN": is_loopback(args.host),
        "BIND_HOSTS": (args.host,),
        "ALLOWED_HOSTS": tuple(args.allowed_host),
        "REPLAY_FILE": args.replay,
    }


def is_loopback(host: str) -> bool:
    """Say whether `host` is a loopback address (or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def banner(base_url: str, args: argparse.Namespace) -> str:
    """Return the start-up text: where the mock listens and a curl to paste."""
    key = "test-key"
    return "\n".join(
        [
            f"shortapi-mock {__version__} serving on {base_url}",
            f"  store {redact(args.store)}, clock {args.clock} x{args.speed}, "
            f"{args.workers} worker(s), profile {args.profile}, result key {args.result_key}"
            + (", errors as HTTP 200" if args.error_status == "200" else ""),
            f"  dashboard: {base_url}/_mock/ui  admin: {base_url}/_mock/health  "
            f"openapi: {base_url}/openapi.json",
            "try:",
            f"  curl -s {base_url}/api/v1/job/create -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d {shlex.quote(EXAMPLE_BODY)}",
            "",
        ]
    )


def reset_store(url: str) -> None:
    """Empty the shared store at `url` (Redis: every host's jobs, journal and settings), so
    the set-up below starts it afresh; the hosts started after it should not pass --reset."""
    from mock_server.state import open_store
    from mock_server.state.records import Runtime

    store = open_store(url)
    try:
        store.reset(Runtime())
    finally:
        store.close()


def serve(args: argparse.Namespace) -> int:
    """Prepare the store once, then run `args.server` with `args.workers` workers."""
    from mock_server import close_app, create_app

    if args.store == "memory" and args.workers > 1:
        print(
            "shortapi-mock: the memory store lives in one process; with --workers > 1 use "
            "--store sqlite:PATH or redis://HOST:PORT/DB (or --workers 1)",
            file=sys.stderr,
        )
        return 2
    if args.models_dir and (problem := models_cli.load(args.models_dir)):
        print(f"shortapi-mock: {problem}", file=sys.stderr)  # here, not in every worker
        return 2
    config = app_config(args)
    if args.store.startswith("sqlite:") and args.reset:
        path = args.store.removeprefix("sqlite:")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    if args.store != "memory":
        try:
            if is_redis_url(args.store) and args.reset:  # only the mock's keys (its prefix)
                reset_store(args.store)
            setup = create_app({**config, "BACKGROUND": False})  # one process sets it up
        except ConfigError as exc:  # e.g. Redis unreachable: said once, with the fix
            print(f"shortapi-mock: {exc}", file=sys.stderr)
            return 2
        close_app(setup)
        config["STORE_INIT"] = False
    start_workers(config, args)
    return 0


def start_workers(config: dict[str, Any], args: argparse.Namespace) -> None:
    """Run `args.server` with `args.workers` workers of `args.threads` threads each."""
    from mock_server.serve import gunicorn_app

    def on_ready(url: str) -> None:
        print(banner(url, args), flush=True)

    if args.server == "granian":
        from mock_server.serve import granian_app

        granian_app.run(
            config,
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            access_log=args.access_log,
            on_ready=on_ready,
        )
        return
    settings = gunicorn_app.options(
        args.host, args.port, workers=args.workers, threads=args.threads, access_log=args.access_log
    )
    gunicorn_app.MockServer(config, settings, on_ready).run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``shortapi-mock`` command."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # extra: pytest arguments of `contract`
    if args.command == "contract":
        return runner.run(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "serve":
        return serve(args)
    if args.command == "proxy":
        return proxy_cli.run(args)
    if args.command == "models":
        return models_cli.run(args)
    return 2  # pragma: no cover - argparse requires a command
