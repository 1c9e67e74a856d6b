"""The command line: ``shortapi-mock serve`` runs the mock under gunicorn, ``shortapi-mock
contract`` the contract suite against a target, ``shortapi-mock models list`` lists the models
(`models_cli.py`)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from mock_server.contract import runner
from mock_server.errors import ConfigError
from mock_server.serve import config_file, models_cli, options, proxy_cli, run_cli, startup
from mock_server.state.redis_conn import is_redis_url, redact
from mock_server.version import __version__

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
    options.add(serve, options.SERVE)
    options.add(
        commands.add_parser(
            "contract",
            help="run the contract suite against the mock, a URL, the live API or a recording",
            description="Run the contract suite; write drift.md, drift.json and JUnit XML.",
            epilog=runner.EPILOG,
        ),
        options.CONTRACT,
    )
    models_cli.add_parser(commands)
    proxy_cli.add_parser(commands)
    run_cli.add_parsers(commands)
    return parser


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """Return the app config for parsed `serve` arguments."""
    return {
        **getattr(args, "file_settings", {}),
        **options.config(args, options.SERVE),
        "ADMIN_OPEN": is_loopback(args.host),
        "BIND_HOSTS": (args.host,),
    }


def is_loopback(host: str) -> bool:
    """Say whether `host` is a loopback address (or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_server() -> str:
    """Return the server `serve` runs without --server: gunicorn when it can be imported
    (not on Windows), else granian."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "granian"
    return "gunicorn"


def banner(base_url: str, args: argparse.Namespace) -> str:
    """Return the start-up text: where the mock listens and a curl to paste."""
    key = "test-key"
    return "\n".join(
        [
            f"shortapi-mock {__version__} serving on {base_url}",
            f"  store {redact(args.store)}, clock {args.clock} x{args.speed}, "
            f"{args.workers} worker(s) under {args.server}, profile {args.profile}, "
            f"result key {args.result_key}"
            + (", errors as HTTP 200" if args.error_status == "200" else ""),
            f"  dashboard: {base_url}/_mock/ui  admin: {base_url}/_mock/health  "
            f"openapi: {base_url}/openapi.json",
            *(
                [f"  models dir {args.models_dir}: replaces the shipped {', '.join(gone)}"]
                if args.models_dir and (gone := models_cli.replaced())
                else []
            ),
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
    from mock_server.serve.granian_app import bind_problem

    args.server = args.server or default_server()
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
    try:  # every value, then the port: before the store is touched
        startup.check_options(args, config)
    except ConfigError as exc:
        return startup.fail(exc)
    if problem := bind_problem(args.host, args.port):
        print(f"shortapi-mock: {problem}", file=sys.stderr)
        return 2
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
        except startup.STORE_ERRORS as exc:  # a file the store cannot open: one line
            return startup.fail(startup.StartupError("--store", f"{args.store}: {exc}"))
        close_app(setup)
        config["STORE_INIT"] = False
    with tempfile.TemporaryDirectory(prefix="shortapi-mock-") as private:
        if args.workers > 1:  # one worker sends callbacks in the background (callbacks/leader.py)
            config["CALLBACK_LEADER_LOCK"] = os.path.join(private, "callbacks.lock")
        start_workers(config, args)
    return 0


def start_workers(config: dict[str, Any], args: argparse.Namespace) -> None:
    """Run `args.server` with `args.workers` workers of `args.threads` threads each."""

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
    from mock_server.serve import gunicorn_app

    settings = gunicorn_app.options(
        args.host,
        args.port,
        workers=args.workers,
        threads=args.threads,
        access_log=args.access_log,
        worker_class=gunicorn_app.FRONT_WORKER,
    )
    gunicorn_app.MockServer(config, settings, on_ready).run()


def with_config_file(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, list[str], dict[str, Any]]:
    """Apply ``serve --config FILE``: its keys that an option sets become that option's
    default and the arguments are parsed again (an option given wins); return the new
    arguments, the rest, and the file's other settings (raises `ConfigError`)."""
    settings = config_file.load(args.config)
    rows = {row.key: row for row in options.SERVE if row.key}
    serve_parser = next(
        action.choices["serve"]
        for action in parser._subparsers._group_actions  # type: ignore[union-attr]
        if isinstance(action, argparse._SubParsersAction)
    )
    serve_parser.set_defaults(**{rows[k].dest: v for k, v in settings.items() if k in rows})
    again, extra = parser.parse_known_args(argv)
    return again, extra, {k: v for k, v in settings.items() if k not in rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``shortapi-mock`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in run_cli.COMMANDS:  # they take a command line after --
        return run_cli.main(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # extra: pytest arguments of `contract`
    args.file_settings = {}
    if args.command == "serve" and args.config:
        try:
            args, extra, file_settings = with_config_file(parser, args, argv)
        except ConfigError as exc:
            print(f"shortapi-mock: {exc}", file=sys.stderr)
            return 2
        args.file_settings = file_settings
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
