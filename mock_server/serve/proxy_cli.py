"""``shortapi-mock proxy``: the validating, recording proxy (`mock_server.proxy`) under gunicorn.

One worker process (the budget, the callback tokens and the report live in it), threads for
concurrent requests; the app points its base URL at the proxy.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flask import Flask

from mock_server.errors import ConfigError
from mock_server.proxy.settings import DEFAULTS, LIVE_URL
from mock_server.serve import options
from mock_server.version import __version__

DEFAULT_PORT = 8010


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
    parser.add_argument("--target", default=LIVE_URL, help=f"where to forward (default {LIVE_URL})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--record", metavar="FILE", help="record the exchanges (keys redacted)")
    parser.add_argument(
        "--block-invalid",
        action="store_true",
        help="answer an invalid create with the mock's 400; never forward it",
    )
    parser.add_argument(
        "--budget-usd",
        metavar="N",
        help="refuse creates once the amounts charged plus the new one's price would pass N",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="where the target reaches this proxy: callback_url is rewritten to it, the "
        "callbacks checked, recorded and forwarded to the app's own URL",
    )
    parser.add_argument(
        "--report-dir", metavar="DIR", help="write drift.md, drift.json, drift.xml here"
    )
    parser.add_argument(
        "--store", default="memory", help="the journal's store: memory or sqlite:PATH"
    )
    parser.add_argument("--threads", type=int, default=8, help="requests served at once")
    parser.add_argument("--timeout", type=float, default=DEFAULTS["TIMEOUT"])
    options.add_validation(parser)
    options.add_callback_hosts(parser)
    return parser


def proxy_config(args: argparse.Namespace) -> dict[str, Any]:
    """Return the proxy app's config for parsed ``proxy`` arguments."""
    return {
        "TARGET": args.target,
        "STORE": args.store,
        "RECORD": args.record,
        "BLOCK_INVALID": args.block_invalid,
        "BUDGET_USD": args.budget_usd,
        "PUBLIC_URL": args.public_url,
        "REPORT_DIR": args.report_dir,
        "TIMEOUT": args.timeout,
        "PROFILE": args.profile,
        "UNKNOWN_MODELS": args.unknown_models,
        "CALLBACK_ALLOW_HOSTS": args.callback_allow_host,
        "CALLBACK_DENY_HOSTS": tuple(args.callback_deny_host),
    }


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


def run(args: argparse.Namespace) -> int:
    """Check the settings, then serve the proxy until stopped."""
    from mock_server.proxy import settings

    config = proxy_config(args)
    try:
        settings.check({**settings.DEFAULTS, **config})
    except ConfigError as exc:
        print(f"shortapi-mock proxy: {exc}", file=sys.stderr)
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
