"""``--budget-usd``: refuse creates once the money the target charged would pass a cap.

Spent is the sum of the ``amount``s the target's create answers carried; a create in flight
holds its price (ours, `catalog/pricing.py`) until its answer says what it cost, so parallel
creates cannot pass the cap together.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from mock_server.catalog.pricing import format_amount
from mock_server.errors import BALANCE_DEPLETED, ApiError

REFUSAL_STATUS = 402  # not 429: a client retries a 429, and this refusal does not pass


class SpendCap:
    """What the target charged so far, against an optional cap (USD)."""

    def __init__(self, cap: Decimal | None) -> None:
        self.cap = cap
        self.spent = Decimal(0)
        self.held = Decimal(0)
        self._lock = threading.Lock()

    def reserve(self, price: Decimal) -> Decimal:
        """Hold `price` for a create about to be forwarded, or raise the refusal."""
        with self._lock:
            if self.cap is not None and self.spent + self.held + price > self.cap:
                raise ApiError(
                    REFUSAL_STATUS,
                    BALANCE_DEPLETED,
                    f"shortapi-mock proxy: refused, not forwarded: this create costs "
                    f"${format_amount(price)} and ${format_amount(self.spent + self.held)} "
                    f"is spent or in flight, which would pass the --budget-usd cap of "
                    f"${format_amount(self.cap)}; restart the proxy with a higher cap",
                )
            self.held += price
            return price

    def settle(self, held: Decimal, charged: Decimal) -> None:
        """Release `held` and add what the target's answer charged (`contract.budget.
        charged_amount`: 0 for a refusal or an unreadable amount)."""
        with self._lock:
            self.held -= held
            if charged.is_finite() and charged > 0:
                self.spent += charged

    def summary(self) -> dict[str, Any]:
        """Return the spend for the report."""
        with self._lock:
            return {
                "spent": format_amount(self.spent),
                "cap": None if self.cap is None else format_amount(self.cap),
                "enforced": self.cap is not None,
            }
