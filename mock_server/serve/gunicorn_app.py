"""Run the app under gunicorn, programmatically (no config file, no dev server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from mock_server.keys import auth_secrets
from mock_server.serve.granian_app import redact_line

__all__ = ["FRONT_WORKER", "MockServer", "RedactingLogger", "options", "redact_line"]

# `serve`'s worker class: an event loop reads requests, threads run the app (serve/front.py).
FRONT_WORKER = "mock_server.serve.front.FrontWorker"


def options(
    host: str, port: int, *, workers: int, threads: int, access_log: bool = False, **extra: Any
) -> dict[str, Any]:
    """Return the gunicorn settings `serve` and `proxy` run with: gthread workers, the
    redacting logger, a short graceful stop; `extra` settings added or replacing these."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-" if access_log else None,
        "logger_class": "mock_server.serve.gunicorn_app.RedactingLogger",
        "loglevel": "warning",
        "graceful_timeout": 5,
        **extra,
    }


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with API keys masked in access log lines."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        keys = auth_secrets(environ.get("HTTP_AUTHORIZATION"))
        for name in ("r", "U", "q", "a", "f"):  # request line, path, query, agent, referer
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_line(atoms[name], keys)
        if "{authorization}i" in atoms:
            atoms["{authorization}i"] = "***"
        return atoms


class MockServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build the app with `config`."""

    def __init__(
        self, config: dict[str, Any], options: dict[str, Any], on_ready: Callable[[str], None]
    ) -> None:
        self.app_config = config
        self.options = options
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)
        self.cfg.set("when_ready", self._when_ready)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25.1 opens a control socket in the user's runtime or home folder, one
            # path for every server (two mocks would take each other's), with a thread and an
            # event loop in the master: nothing the mock uses.
            self.cfg.set("control_socket_disable", True)

    def _when_ready(self, server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.on_ready(f"http://{shown}:{port}")

    def load(self) -> Flask | Any:
        from mock_server import create_app

        app = create_app(self.app_config)
        if self.cfg.worker_class_str == FRONT_WORKER and self.cfg.accesslog:
            # gunicorn's access log is its gthread worker's; the front worker logs with ours.
            from mock_server.serve.granian_app import RedactingAccessLog

            return RedactingAccessLog(app)
        return app
