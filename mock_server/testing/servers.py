"""The app served by werkzeug's threaded server on a loopback port, in a daemon thread."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_server import extensions
from mock_server.testing.receiver import BackgroundServer


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request (the journal has them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class ThreadedServer:
    """The app served by werkzeug's threaded server on a random loopback port."""

    def __init__(
        self, app: Flask, *, host: str = "127.0.0.1", port: int = 0, poll_interval: float = 0.05
    ) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._background = BackgroundServer(
            self._server, name="shortapi-mock-server", poll_interval=poll_interval
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> ThreadedServer:
        """Serve in a daemon thread."""
        self._background.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the port and stop the callback thread."""
        self._background.stop()
        extensions.dispatcher(self.app).stop()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
