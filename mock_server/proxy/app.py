"""The proxy's app factory: `create_proxy_app` wires the parts; `close_proxy_app` ends them.

The proxy is a Flask app of its own (`routes.py`) in front of a target. Beside it runs a mock
app (`mock_server.create_app`, no callback thread) over the same store, mounted at
``/_mock/``: the proxy journals every request into that store, so the mock's dashboard
(``/_mock/ui/requests``) and admin API (``/_mock/requests``) show proxied traffic as they
show the mock's own. With ``STORE`` ``sqlite:PATH`` a served mock on the same file shows it
too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from flask import Flask

from mock_server import extensions
from mock_server.api import envelope, journal
from mock_server.app import close_app, create_app

from . import routes, settings
from .budget import SpendCap
from .callbacks import CallbackRelay
from .findings import Findings
from .forward import Forwarder
from .parts import PARTS, Parts, parts
from .recorder import ProxyRecorder

MOCK_PREFIX = "/_mock"


class _Mount:
    """Send ``/_mock/...`` to the mock app, everything else to the proxy."""

    def __init__(self, proxy: Any, mock: Any) -> None:
        self.proxy, self.mock = proxy, mock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        mocked = path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/")
        chosen = self.mock if mocked else self.proxy
        return cast("Iterable[bytes]", chosen(environ, start_response))


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
    app.wsgi_app = _Mount(app.wsgi_app, mock.wsgi_app)  # type: ignore[method-assign]
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
