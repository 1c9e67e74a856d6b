"""``shortapi-mock proxy``: the validating, recording proxy (`mock_server.proxy`) under gunicorn.

One worker process (the budget, the callback tokens and the report live in it), threads for
concurrent requests; the app points its base URL at the proxy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask

from mock_server.errors import ConfigError
from mock_server.serve import models_cli, options, startup
from mock_server.version import __version__


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``proxy`` command to the ``shortapi-mock`` subcommands."""
    parser = commands.add_parser(
        "proxy",
        help="forward your app's traffic to the API, validating, checking and recording it",
        description="A proxy in front of the API: creates validated as the mock validates "
        "them, answers checked against the schemas (drift report), exchanges recorded.",
    )
    return options.add(parser, options.PROXY)


def proxy_config(args: argparse.Namespace) -> dict[str, Any]:
    """Return the proxy app's config for parsed ``proxy`` arguments."""
    return options.config(args, options.PROXY)


def _load(config: dict[str, Any]) -> Flask:
    from mock_server.proxy import create_proxy_app

    return create_proxy_app(config)


def _worker_exit(server: Any, worker: Any) -> None:
    from mock_server.proxy import close_proxy_app

    if isinstance(worker.wsgi, Flask):
        close_proxy_app(worker.wsgi)


def banner(base_url: str, args: argparse.Namespace) -> str:
    """Return the start-up text: where the proxy listens, where it forwards."""
    extras = [
        f"recording to {args.record}" if args.record else "",
        "blocking invalid creates" if args.block_invalid else "",
        f"budget ${args.budget_usd}" if args.budget_usd else "",
        f"reports in {args.report_dir}" if args.report_dir else "",
    ]
    return "\n".join(
        [
            f"shortapi-mock {__version__} proxy on {base_url} -> {args.target}",
            *([f"  {', '.join(e for e in extras if e)}"] if any(extras) else []),
            f"  point your app's base URL at {base_url}; dashboard: {base_url}/_mock/ui/requests",
            "",
        ]
    )


def keep_hypothesis_caches_out_of_the_folder() -> None:
    """The proxy judges creates with the contract kit, whose hypothesis strategies cache
    what they compute (Unicode tables) in ./.hypothesis: a server run leaves the user's folder
    alone and keeps them in the temporary folder (``HYPOTHESIS_STORAGE_DIRECTORY`` wins)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # without the contract extra the proxy loads no strategy either
        return

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "shortapi-mock-hypothesis")


def run(args: argparse.Namespace) -> int:
    """Check the settings, then serve the proxy until stopped."""
    from mock_server.proxy import settings

    keep_hypothesis_caches_out_of_the_folder()

    config = proxy_config(args)
    try:
        startup.check_listening(args)
        settings.check({**settings.DEFAULTS, **config})
    except ConfigError as exc:
        print(f"shortapi-mock proxy: {exc}", file=sys.stderr)
        return 2
    if args.models_dir and (problem := models_cli.load(args.models_dir)):
        print(f"shortapi-mock proxy: {problem}", file=sys.stderr)  # the worker inherits them
        return 2
    from mock_server.serve import gunicorn_app

    server_settings = gunicorn_app.options(
        args.host,
        args.port,
        workers=1,
        threads=args.threads,
        timeout=max(60, int(args.timeout) + 30),
        worker_exit=_worker_exit,
    )

    class ProxyServer(gunicorn_app.MockServer):
        """gunicorn serving the proxy app (one worker), closed when the worker exits."""

        def load(self) -> Flask:
            return _load(self.app_config)

    ProxyServer(config, server_settings, lambda url: print(banner(url, args), flush=True)).run()
    return 0
