"""The validating, recording proxy in front of the live API (`shortapi-mock proxy`).

- `settings` (defaults, checks) <- `app` (`create_proxy_app`, the mock mounted at /_mock/
  over the journal's store) <- `routes` (forward; judge creates; check answers)
- `forward` (httpx to the target), `checks` (answers against the schemas and the model:
  drift entries), `findings` (the drift report), `budget` (``--budget-usd``), `recorder`
  (``--record``, the kit's recording format), `callbacks` (``--public-url``), `parts`

`create_proxy_app` is imported on first use, so the command line loads the contract kit
(hypothesis) only when it runs the proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.proxy.app import close_proxy_app, create_proxy_app

__all__ = ["close_proxy_app", "create_proxy_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mock_server.proxy import app

        return getattr(app, name)
    raise AttributeError(f"module 'mock_server.proxy' has no attribute {name!r}")
