"""The proxy's app factory: `create_proxy_app` wires the parts; `close_proxy_app` ends them.

The proxy is a Flask app of its own (`routes.py`) in front of a target. Beside it runs a mock
app (`mock_server.create_app`, no callback thread) over the same store, mounted at
``/_mock/``: the proxy journals every request into that store, so the mock's dashboard
(``/_mock/ui/requests``) and admin API (``/_mock/requests``) show proxied traffic as they
show the mock's own. With ``STORE`` ``sqlite:PATH`` a served mock on the same file shows it
too. Only those views are mounted, read-only: the mock's controls (clock, scenarios, faults)
would steer nothing behind the proxy, and a contract run aimed at the proxy must see a black
box, as the live API is, not a mock it may control. ``GET /_mock/health`` answers the
proxy's own ``{"status": "proxy", "target": ...}`` (up, and not a mock).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from flask import Flask
from werkzeug.wrappers import Response

from mock_server import errors, extensions
from mock_server.api import envelope, journal
from mock_server.app import close_app, create_app
from mock_server.errors import NOT_FOUND

from . import routes, settings
from .budget import SpendCap
from .callbacks import CallbackRelay
from .findings import Findings
from .forward import Forwarder
from .parts import PARTS, Parts, parts
from .recorder import ProxyRecorder

MOCK_PREFIX = "/_mock"
VIEWS = ("/_mock/ui", "/_mock/requests")  # what the proxy shows of the mock app: its journal
HEALTH = "/_mock/health"  # the proxy's own: up, and a proxy (so no kit takes it for a mock)
_NO_CONTROLS = (
    "shortapi-mock proxy: {path} is not here; the proxy shows its traffic at /_mock/ui and "
    "/_mock/requests (GET) and has no mock controls: the target's jobs and clock are its own"
)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class _Mount:
    """Send GETs of the journal views under ``/_mock/`` to the mock app, refuse the rest of
    ``/_mock/`` (the API's 404 envelope), send everything else to the proxy."""

    def __init__(self, proxy: Any, mock: Any, target: str) -> None:
        self.proxy, self.mock, self.target = proxy, mock, target

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not _under(path, MOCK_PREFIX):
            return cast("Iterable[bytes]", self.proxy(environ, start_response))
        viewing = environ.get("REQUEST_METHOD") in ("GET", "HEAD")
        if viewing and any(_under(path, view) for view in VIEWS):
            return cast("Iterable[bytes]", self.mock(environ, start_response))
        if viewing and path == HEALTH:
            body: dict[str, Any] = {"status": "proxy", "target": self.target}
            answer = Response(json.dumps(body), status=200, mimetype="application/json")
        else:
            body = errors.envelope(NOT_FOUND, _NO_CONTROLS.format(path=path))
            answer = Response(json.dumps(body), status=404, mimetype="application/json")
        return answer(environ, start_response)


def create_proxy_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the proxy's Flask app; `config` overrides `mock_server.proxy.settings.DEFAULTS`."""
    app = Flask("mock_server.proxy", static_folder=None)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(config or {})
    app.url_map.strict_slashes = False
    settings.check(app.config)
    store_url = app.config["STORE"]
    mock = create_app(
        {
            "STORE": store_url,
            "STORE_INIT": store_url == "memory",  # a shared file keeps its mock's settings
            "BACKGROUND": False,
        }
    )
    extensions.attach(app, extensions.STORE, extensions.store(mock))
    extensions.attach(app, extensions.CLOCK, extensions.clock(mock))
    cfg = app.config
    report_dir = Path(cfg["REPORT_DIR"]) if cfg["REPORT_DIR"] else None
    budget = None if cfg["BUDGET_USD"] is None else Decimal(str(cfg["BUDGET_USD"]))
    proxy = Parts(
        config=cfg,
        forwarder=Forwarder(cfg["TARGET"], timeout=cfg["TIMEOUT"], transport=cfg["TRANSPORT"]),
        findings=Findings(cfg["TARGET"].rstrip("/"), report_dir),
        budget=SpendCap(budget),
        mock=mock,
        recorder=ProxyRecorder(Path(cfg["RECORD"]), cfg["TARGET"]) if cfg["RECORD"] else None,
    )
    if cfg["PUBLIC_URL"]:
        proxy.relay = CallbackRelay(
            cfg["PUBLIC_URL"],
            allow=cfg["CALLBACK_ALLOW_HOSTS"],
            deny=cfg["CALLBACK_DENY_HOSTS"],
            blocked=cfg["CALLBACK_BLOCKED_NETWORKS"],
            resolver=cfg["CALLBACK_RESOLVER"],
            timeout=cfg["CALLBACK_TIMEOUT"],
            transport=cfg["TRANSPORT"],
        )
    app.extensions[PARTS] = proxy
    envelope.init_app(app)
    journal.init_app(app)
    app.register_blueprint(routes.bp)
    app.wsgi_app = _Mount(app.wsgi_app, mock.wsgi_app, cfg["TARGET"])  # type: ignore[method-assign]
    return app


def close_proxy_app(app: Flask) -> None:
    """Write the report and the recording, close the connections and the store."""
    proxy = parts(app)
    proxy.findings.write()
    if proxy.recorder is not None:
        proxy.recorder.save()
    proxy.forwarder.close()
    if proxy.relay is not None:
        proxy.relay.close()
    close_app(proxy.mock)


__all__ = ["Parts", "close_proxy_app", "create_proxy_app", "parts"]
