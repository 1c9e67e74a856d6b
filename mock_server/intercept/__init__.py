"""Interception for any program: an HTTPS proxy with a CA made per run that hands the
requests a child process sends to ``api.shortapi.ai`` to the mock, and the environment that
makes the child use it (`shortapi-mock run`, `intercept`, `env`, and the pytest fixture
``shortapi_subprocess_env``).

    with Interception(mock_url) as interception:
        subprocess.run(cmd, env=interception.environment())

`ca.py` (the CA and leaf certificates), `proxy.py` (the proxy), `http1.py` (one forwarded
exchange), `env.py` (the child's variables), `session.py` (`Interception`: all of it in a
private folder removed at the end), `node_preload.mjs` (Node's fetch and http(s).request).
"""

from __future__ import annotations

from mock_server.intercept.proxy import DEFAULT_HOSTS, InterceptProxy
from mock_server.intercept.session import Interception

__all__ = ["DEFAULT_HOSTS", "InterceptProxy", "Interception"]
