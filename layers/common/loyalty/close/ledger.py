"""Payout arithmetic and the double-entry ledger (PRODUCT §5), pure domain, used by the monthly
close (`loyalty.close`).

- Holding: a day's commission becomes payable once `day + holding_days <= cut-off` (the last
  instant of the closed month); returns inside the window simply net out.
- Clawback and minimum payout: the payable amount is the carried balance (negative after returns
  that followed a payout) plus what matured this close; it is paid only when it reaches the
  minimum, otherwise all of it carries forward.
- Ledger: entries are immutable and balanced (debit = credit per entry); corrections are
  reversal entries; an account's balance is the sum of its entries; the trial balance is zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from loyalty.kernel.money import ZERO, to_cents

EXPENSE = "expense:commission"
BONUS = "expense:bonus"  # target bonuses (issue 10)
OVERRIDE = "expense:override"  # multi-level overrides (issue 10)
EXPENSES = (EXPENSE, BONUS, OVERRIDE)  # what a partner's matured amounts are booked against
BANK = "asset:bank"


def payable_account(partner_id: str) -> str:
    return f"liability:partner:{partner_id}"


def matured(by_day: Mapping[str, Decimal], cutoff: dt.date, holding_days: int) -> Decimal:
    """Commission of the days (ISO dates) whose holding period has passed at `cutoff`."""
    limit = (cutoff - dt.timedelta(days=holding_days)).isoformat()
    return sum((v for d, v in by_day.items() if d <= limit), ZERO)


@dataclass(frozen=True)
class PayoutDecision:
    carried_in: Decimal
    matured: Decimal
    payout: Decimal
    carried_out: Decimal
    reason: str


def decide_payout(carried_in: Decimal, matured_now: Decimal, minimum: Decimal) -> PayoutDecision:
    total = carried_in + matured_now
    if total >= minimum and total > 0:
        return PayoutDecision(
            carried_in, matured_now, to_cents(total), ZERO, f"balance EUR {total} >= minimum {minimum}"
        )
    return PayoutDecision(
        carried_in, matured_now, ZERO, total, _why_nothing_paid(carried_in, matured_now, minimum)
    )


def _why_nothing_paid(carried_in: Decimal, matured_now: Decimal, minimum: Decimal) -> str:
    """The true reason a close pays nothing, as the statement shows it."""
    total = carried_in + matured_now
    if total < 0:
        return "negative balance (returns after payout) is recovered from later payouts"
    if total > 0:
        return f"below the EUR {minimum} minimum"
    if matured_now == 0 and carried_in == 0:
        return "nothing to pay: no commission passed its holding period and no balance is carried"
    return "the matured commission recovers the negative balance carried in"


@dataclass(frozen=True)
class Entry:
    entry_id: str
    period: str
    debit: str
    credit: str
    amount: Decimal
    memo: str
    reverses: str = ""

    def __post_init__(self) -> None:
        if self.amount <= 0 or self.amount != to_cents(self.amount):
            raise ValueError("an entry moves a positive amount in cents")
        if self.debit == self.credit:
            raise ValueError("an entry moves money between two different accounts")


def entry_id(*parts: str) -> str:
    """Deterministic id from business identities (period, partner, kind): writing it twice is one entry."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class Ledger:
    """Append-only: an id can be posted once; a correction is a reversal entry."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: dict[str, Entry] = {}
        for e in entries:
            self.post(e)

    def post(self, e: Entry) -> bool:
        """Post once; the same entry again is a no-op, a different one under the same id an error."""
        cur = self._entries.get(e.entry_id)
        if cur is not None:
            if cur != e:
                raise ValueError(f"entry {e.entry_id} exists with other content; entries are immutable")
            return False
        if e.reverses and e.reverses not in self._entries:
            raise ValueError(f"entry {e.entry_id} reverses unknown entry {e.reverses}")
        self._entries[e.entry_id] = e
        return True

    def reverse(self, original_id: str, period: str, memo: str) -> Entry:
        o = self._entries[original_id]
        rev = Entry(
            entry_id("reversal", original_id), period, o.credit, o.debit, o.amount, memo, reverses=original_id
        )
        self.post(rev)
        return rev

    def balances(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for e in self._entries.values():
            out[e.debit] += e.amount
            out[e.credit] -= e.amount
        return dict(out)

    def trial_balance(self) -> Decimal:
        return sum(self.balances().values(), ZERO)

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries.values())
