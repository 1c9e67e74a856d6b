"""`Interception`: a private folder (0700) holding the run's CA, the CA bundle and the Node
preload, the proxy serving, and the variables a child needs; everything gone at `stop()`."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path

from mock_server.intercept import env
from mock_server.intercept.ca import CertificateAuthority
from mock_server.intercept.proxy import DEFAULT_HOSTS, InterceptProxy, Opener


class Interception:
    """The proxy to `mock_url` for `hosts`, and the variables that route a child to it."""

    def __init__(
        self,
        mock_url: str,
        *,
        hosts: Iterable[str] = DEFAULT_HOSTS,
        environ: Mapping[str, str] | None = None,
        open_connection: Opener = socket.create_connection,
        parent: Path | None = None,
    ) -> None:
        self.mock_url = mock_url.rstrip("/")
        self.hosts = tuple(dict.fromkeys(h.lower() for h in hosts))
        self._environ = dict(os.environ if environ is None else environ)
        self._open = open_connection
        self._parent = parent  # where the private folder is made (default: the temp dir)
        self.folder: Path | None = None
        self.proxy: InterceptProxy | None = None
        self.variables: dict[str, str] = {}

    def start(self) -> Interception:
        """Make the CA and bundle, start the proxy."""
        self.folder = env.private_folder(parent=self._parent)
        try:
            ca = CertificateAuthority(self.folder)
            bundle = env.write_bundle(self.folder, ca.cert_path, self._environ)
            preload = env.copy_preload(self.folder)
            self.proxy = InterceptProxy(
                self.mock_url, ca, hosts=self.hosts, open_connection=self._open
            ).start()
        except BaseException:
            self.stop()
            raise
        self.variables = env.intercept_variables(
            proxy_url=self.proxy.url,
            mock_url=self.mock_url,
            bundle=bundle,
            preload=preload,
            hosts=self.hosts,
            environ=self._environ,
        )
        return self

    @property
    def ca_path(self) -> Path:
        """The run's CA certificate (PEM)."""
        assert self.folder is not None, "start() first"
        return self.folder / "ca.pem"

    def environment(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return `environ` (default: this process's) with the interception variables set."""
        base = os.environ if environ is None else environ
        return env.child_environment(self.variables, base)

    def stop(self) -> None:
        """Stop the proxy and remove the folder (CA, keys, bundle, preload)."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> Interception:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
