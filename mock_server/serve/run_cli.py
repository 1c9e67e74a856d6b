"""``shortapi-mock run|intercept|env``: any program, unmodified, against the mock.

- ``run [serve options] [--mock URL] -- CMD [ARGS...]`` starts a mock (``serve`` on a free
  port with a store in a private temp folder) or uses the one at URL, starts the
  intercepting proxy (`mock_server.intercept`), runs CMD with the variables that route its
  requests for ``api.shortapi.ai`` to the mock, stops what it started and exits with CMD's
  status.
- ``intercept [serve options] [--mock URL]`` does the same with no command: it prints the
  variables and keeps the proxy (and mock) up until Ctrl-C, for a dev server, a container
  or an IDE run configuration started elsewhere; its state is in `STATE_FILE`.
- ``env [--format shell|dotenv|json]`` prints the variables of the running ``intercept``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mock_server.serve import processes

if TYPE_CHECKING:
    from mock_server.intercept import Interception

# Spelled here, not imported: the proxy's modules (cryptography, h11) load only when used.
DEFAULT_HOSTS = ("api.shortapi.ai",)
FORMATS = ("shell", "dotenv", "json")

COMMANDS = ("run", "intercept", "env")
STATE_FILE = Path(".shortapi-mock/intercept.json")
_USAGE = "shortapi-mock run [serve options] [--mock URL] -- CMD [ARGS...]"


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """List the commands in ``shortapi-mock --help`` (`main` parses them itself)."""
    commands.add_parser("run", help="run a program with its api.shortapi.ai calls sent to the mock")
    commands.add_parser("intercept", help="keep the interception up for programs started elsewhere")
    commands.add_parser("env", help="print the variables of the running intercept")


def _common(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"shortapi-mock {prog}",
        description=description,
        epilog="Other options are serve's (shortapi-mock serve --help), for the mock started "
        "here; not with --mock.",
    )
    parser.add_argument(
        "--mock", metavar="URL", help="use the mock already serving at URL (start none)"
    )
    parser.add_argument(
        "--intercept-host",
        action="append",
        default=[],
        metavar="HOST",
        help=f"also send this host to the mock (repeatable; always {', '.join(DEFAULT_HOSTS)})",
    )
    parser.add_argument("--quiet", action="store_true", help="say nothing on stderr")
    return parser


def run_parser() -> argparse.ArgumentParser:
    """Return the parser of ``run``'s own options (before ``--``)."""
    return _common(
        "run",
        "Run CMD so that its requests to https://api.shortapi.ai reach the mock: an "
        "intercepting proxy with a CA made for this run, trusted and used through the "
        "child's environment (HTTPS_PROXY, SSL_CERT_FILE, NODE_OPTIONS, ...). Usage: " + _USAGE,
    )


def intercept_parser() -> argparse.ArgumentParser:
    """Return the parser of ``intercept``'s own options."""
    parser = _common(
        "intercept",
        "Keep the interception up (and the mock, unless --mock) until Ctrl-C; print the "
        "variables a program started elsewhere needs (`shortapi-mock env` prints them again).",
    )
    parser.add_argument("--format", choices=FORMATS, default="shell")
    return parser


def env_parser() -> argparse.ArgumentParser:
    """Return the parser of ``env``."""
    parser = argparse.ArgumentParser(
        prog="shortapi-mock env",
        description="Print the variables of the running `shortapi-mock intercept` (started "
        'in this folder): eval "$(shortapi-mock env)", or --format dotenv for '
        "docker run --env-file and IDE run configurations.",
    )
    parser.add_argument("--format", choices=FORMATS, default="shell")
    parser.add_argument("--state", type=Path, default=STATE_FILE, help=f"default {STATE_FILE}")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``run``, ``intercept`` or ``env`` (`argv` starts with the command's name)."""
    command, rest = argv[0], list(argv[1:])
    if command == "env":
        return print_env(env_parser().parse_args(rest))
    if command == "run":
        if "--" not in rest:
            run_parser().parse_known_args(rest)  # --help still helps
            run_parser().error(f"give the command after --: {_USAGE}")
        cut = rest.index("--")
        rest, child = rest[:cut], rest[cut + 1 :]
        if not child:
            run_parser().error(f"no command after --: {_USAGE}")
        parser = run_parser()
    else:
        child, parser = [], intercept_parser()
    args, serve_args = parser.parse_known_args(rest)
    if args.mock and serve_args:
        parser.error(
            f"serve options ({' '.join(serve_args)}) are for a mock started here, not --mock"
        )
    serve = None if args.mock else _serve_options(serve_args)
    return _run(args, serve_args, _hosts(args, serve), child)


def _serve_options(serve_args: list[str]) -> argparse.Namespace:
    """Parse serve's options as serve would; exit 2 with serve's message on a bad one (before
    anything starts)."""
    from mock_server.serve import cli

    return cli.build_parser().parse_args(["serve", *serve_args])


def _hosts(args: argparse.Namespace, serve: argparse.Namespace | None) -> list[str]:
    hosts = [*DEFAULT_HOSTS, *args.intercept_host]
    public = urlsplit(serve.public_url).hostname if serve and serve.public_url else None
    if public and public not in ("localhost", "127.0.0.1", "::1"):
        hosts.append(public)  # the result links' host
    return hosts


@contextlib.contextmanager
def _mock(args: argparse.Namespace, serve_args: list[str]) -> Iterator[tuple[str, Path | None]]:
    """Yield the mock's URL, and the private folder the run keeps its files in: --mock's URL
    (and no folder), or that of a `serve` started here, whose store is in the folder."""
    if args.mock:
        yield args.mock.rstrip("/"), None
        return
    from mock_server.intercept.env import private_folder

    folder = private_folder("shortapi-mock-run-")
    defaults = ["--host", "127.0.0.1", "--port", "0", "--store", f"sqlite:{folder}/state.db"]
    try:
        # the user's options win; the mock removes the folder when it ends, even if we die
        mock = processes.MockProcess([*defaults, *serve_args], folder=folder)
        try:
            yield mock.url, folder
        finally:
            mock.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(f"shortapi-mock {text}", file=sys.stderr, flush=True)


def _run(
    args: argparse.Namespace, serve_args: list[str], hosts: list[str], child: list[str]
) -> int:
    from mock_server.intercept import Interception

    try:
        with (
            _mock(args, serve_args) as (mock_url, folder),
            Interception(mock_url, hosts=hosts, parent=folder) as interception,
        ):
            assert interception.proxy is not None
            _say(
                args,
                f"{'run' if child else 'intercept'}: {', '.join(hosts)} -> the mock at "
                f"{mock_url} (dashboard {mock_url}/_mock/ui), through {interception.proxy.url}",
            )
            if child:
                return processes.run_child(child, interception.environment())
            return _hold(args, interception)
    except processes.MockStartError as exc:
        print(f"shortapi-mock: {exc}", file=sys.stderr)
        return 2


def _hold(args: argparse.Namespace, interception: Interception) -> int:
    """Print the variables, write the state file, wait for a signal; clean up."""
    state = {"pid": os.getpid(), "variables": interception.variables}
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.touch(mode=0o600)
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")
    from mock_server.intercept.env import render

    sys.stdout.write(render(interception.variables, args.format))
    sys.stdout.flush()
    _say(args, 'intercept: in another shell, eval "$(shortapi-mock env)"; Ctrl-C stops')
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopped.set()

    handlers = {s: signal.signal(s, stop) for s in processes.FORWARDED[:3]}
    try:
        while not stopped.wait(3600):
            pass
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        with contextlib.suppress(FileNotFoundError):
            if json.loads(STATE_FILE.read_text()).get("pid") == os.getpid():
                STATE_FILE.unlink()
    return 0


def print_env(args: argparse.Namespace) -> int:
    """Print the running intercept's variables; 1 when none runs."""
    from mock_server.intercept.env import render

    try:
        state = json.loads(args.state.read_text())
        os.kill(int(state["pid"]), 0)
        variables = state["variables"]
        proxy = urlsplit(variables["HTTPS_PROXY"])
        socket.create_connection((proxy.hostname, proxy.port), timeout=5).close()
    except (OSError, ValueError, KeyError, TypeError):
        print(
            f"shortapi-mock env: no shortapi-mock intercept is running here ({args.state}); "
            "start one: shortapi-mock intercept [--mock URL]",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(render(variables, args.format))
    return 0
