"""How one callback attempt is sent: a JSON POST with a connect and a total timeout, no
redirects, no retries of its own (the dispatcher retries on the clock), a capped read."""

from __future__ import annotations

import json

import urllib3

from mock_server.state.records import Delivery
from mock_server.version import __version__


class Sender:
    """POST deliveries over one connection pool."""

    def __init__(self, *, connect_timeout: float, timeout: float, response_limit: int) -> None:
        self.timeout = urllib3.Timeout(connect=connect_timeout, total=timeout)
        self.response_limit = response_limit
        self.http = urllib3.PoolManager(num_pools=8, maxsize=4, retries=False)

    def post(self, delivery: Delivery, number: int) -> tuple[int | None, str | None]:
        """Send attempt `number` of `delivery`; return the answer's status, or the error."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"shortapi-mock/{__version__}",
            "X-Mock-Delivery": str(delivery.id),
            "X-Mock-Attempt": str(number),
        }
        try:
            response = self.http.request(
                "POST",
                delivery.url,
                body=json.dumps(delivery.body).encode(),
                headers=headers,
                timeout=self.timeout,
                redirect=False,
                preload_content=False,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]
        try:
            response.read(self.response_limit)  # a capped read: a huge answer cannot stall us
        except urllib3.exceptions.HTTPError as exc:
            return None, f"{type(exc).__name__} while reading the answer: {exc}"[:300]
        finally:
            response.close()
        return response.status, None

    def close(self) -> None:
        """Close every pooled connection."""
        self.http.clear()
