"""Accounts: whether a key may start a job (admission), what it pays (charge) and what comes
back when a job fails (refund). Written once here; the stores run these inside their
transaction (`state/protocol.py`: `Admission`, `AccountChange`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal

from mock_server.catalog.pricing import format_amount
from mock_server.state.protocol import AccountChange, Admission
from mock_server.state.records import Account


class AdmissionError(Exception):
    """A job refused by its key's account: balance or jobs in flight."""

    def __init__(self, reason: str, account: Account, in_flight: int) -> None:
        super().__init__(reason)
        self.reason = reason  # "balance" | "in_flight"
        self.account = account
        self.in_flight = in_flight


def check_admission(account: Account | None, amount: str, in_flight: Callable[[], int]) -> None:
    """Raise `AdmissionError` if `account` cannot take a job costing `amount`
    (A-balance-depleted, A-concurrency-limit)."""
    if account is None:
        return
    if account.balance is not None and Decimal(account.balance) < Decimal(amount):
        raise AdmissionError("balance", account, -1)
    if account.max_in_flight is not None:
        count = in_flight()
        if count >= account.max_in_flight:
            raise AdmissionError("in_flight", account, count)


def charge(account: Account | None, amount: str) -> Account | None:
    """Return `account` after paying `amount`. A key without an account is unlimited and
    pays nothing to track here (its spending is summed from its jobs when asked: keeping a
    row per create would cost a write on the hottest path)."""
    if account is None:
        return None
    balance = (
        None
        if account.balance is None
        else format_amount(Decimal(account.balance) - Decimal(amount))
    )
    return dataclasses.replace(
        account, balance=balance, spent=format_amount(Decimal(account.spent) + Decimal(amount))
    )


def refund(account: Account, amount: str) -> Account:
    """Return `account` after `amount` came back."""
    balance = (
        None
        if account.balance is None
        else format_amount(Decimal(account.balance) + Decimal(amount))
    )
    return dataclasses.replace(
        account,
        balance=balance,
        refunded=format_amount(Decimal(account.refunded) + Decimal(amount)),
    )


def admission(amount: str) -> Admission:
    """Return what a store runs to admit a job costing `amount`: check, then charge."""

    def admit(account: Account | None, in_flight: Callable[[], int]) -> Account | None:
        check_admission(account, amount, in_flight)
        return charge(account, amount)

    return admit


def refund_of(amount: str) -> AccountChange:
    """Return what a store runs to refund `amount` when a job's failure is settled."""
    return lambda account: refund(account, amount)
