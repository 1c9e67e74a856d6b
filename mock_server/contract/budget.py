"""The spending cap of a paid run: checked before each submission, and against each charge.

Before a create is sent to a paid target, the most it can cost (its price, or for a probe
the dearest price it could be charged if the target accepted it) is reserved; a request
that would take the run over the cap is not sent. Each amount the target returns is
checked against the reservation and the cap. A dry run reserves nothing and sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from mock_server.catalog.pricing import format_amount

from .wire import WireResponse


class BudgetError(Exception):
    """Base of the budget's refusals."""


class BudgetExhausted(BudgetError):
    """Sending this request could take the run over its cap; it was not sent."""


class DryRun(BudgetError):
    """A dry run sends nothing."""


class Overcharged(AssertionError):
    """The target charged more than the price reserved, or more than the cap."""


@dataclass
class Reservation:
    """Money set aside for one submission."""

    label: str
    bound: Decimal


@dataclass
class Budget:
    """The cap of one run and what was spent against it."""

    cap: Decimal
    enforced: bool = True  # False: a free target (the mock); amounts are still tallied
    dry_run: bool = False
    spent: Decimal = Decimal(0)
    ledger: list[dict[str, str]] = field(default_factory=list)

    def reserve(self, label: str, bound: Decimal) -> Reservation:
        """Set `bound` aside for `label`, or raise if it does not fit under the cap."""
        if self.dry_run:
            raise DryRun(f"dry run: {label} (up to ${bound}) not sent")
        if self.enforced and bound > 0 and self.spent + bound > self.cap:
            raise BudgetExhausted(
                f"{label} could cost ${bound}; ${self.spent} of the ${self.cap} cap is spent "
                "(raise --shortapi-budget-usd to run it)"
            )
        return Reservation(label, bound)

    def settle(self, reservation: Reservation, response: WireResponse) -> Decimal:
        """Record what `response` charged; raise `Overcharged` if it broke the reservation."""
        charged = charged_amount(response)
        self.spent += charged
        self.ledger.append(
            {"label": reservation.label, "bound": str(reservation.bound), "charged": str(charged)}
        )
        if self.enforced and charged > reservation.bound:
            raise Overcharged(
                f"{reservation.label}: charged ${charged}, the price was ${reservation.bound}"
            )
        if self.enforced and self.spent > self.cap:
            raise Overcharged(f"spent ${self.spent}, over the ${self.cap} cap")
        return charged

    def summary(self) -> dict[str, Any]:
        """Return the cap, the spend and every charge, JSON-ready."""
        return {
            "cap": str(self.cap),
            "spent": str(self.spent),
            "enforced": self.enforced,
            "dry_run": self.dry_run,
            "charges": list(self.ledger),
        }


def charged_amount(response: WireResponse) -> Decimal:
    """Return the amount an accepted create answer charged (0 when rejected)."""
    body = response.json()
    if not response.accepted or not isinstance(body.get("data"), dict):
        return Decimal(0)
    try:
        return Decimal(str(body["data"].get("amount", "0")))
    except InvalidOperation:
        return Decimal(0)


def planned_spend(plan: Iterable[tuple[str, Decimal, bool]], cap: Decimal) -> list[str]:
    """Return the lines of a dry run: each submission, its price, and what fits the cap.

    `plan` holds (label, the most it can cost, whether it is meant to be accepted); probes
    meant to be rejected are free unless the target accepts them.
    """
    lines, total, fits, sent_count = [], Decimal(0), Decimal(0), 0
    for label, bound, paid in plan:
        if bound <= 0:
            continue
        if not paid:
            lines.append(f"  $0      free probe (up to ${bound} if accepted)  {label}")
            continue
        total += bound
        sent = fits + bound <= cap
        fits += bound if sent else 0
        sent_count += sent
        lines.append(f"  ${bound:<6} {'paid job' if sent else 'skipped: over the cap':<33} {label}")
    lines.append(
        f"  planned ${format_amount(total)} for {sent_count} paid job(s) under the "
        f"${format_amount(cap)} cap; "
        f"at most ${format_amount(fits)} will be spent"
    )
    return lines
