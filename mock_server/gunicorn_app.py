"""Run the app under gunicorn, programmatically (no config file, no dev server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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

    def _when_ready(self, server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.on_ready(f"http://{shown}:{port}")

    def load(self) -> Flask:
        from . import create_app

        return create_app(self.app_config)
