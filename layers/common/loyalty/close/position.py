"""A partner's commission position, consistent with the ledger (`loyalty balance`).

Every euro of commission a partner has earned (the month totals of every month) is in exactly
one of four states, so `provisional + held + payable + paid = earned`:

- **provisional**: commission of months no close has settled yet (after the partner's last
  close): its rate is final only at that month's close, and returns can still net it out;
- **held**: commission of closed months whose holding period has not passed as of `as_of`;
- **payable**: commission of closed months that has matured (its holding period passed by
  `as_of`) and was not paid: the balance the last close carried (`carried`) plus what matured
  since that close's cut-off; the next close pays it if it reaches the minimum;
- **paid**: what the ledger sent to the bank (the partner's payout entries).

`carried` is the partner's ledger balance after its last close (matured, not paid: below the
minimum, excluded by finance, held for missing bank details; negative after a clawback), so
`paid + carried` is everything the closes matured, and `payable - carried` what matured since.
`as_of` is today, or the last close's cut-off if that is later (maturity never goes back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.close.ledger import BANK, BONUS, OVERRIDE, Entry, matured, payable_account
from loyalty.close.ports import PositionStore
from loyalty.close.review import MonthFacts, day_totals
from loyalty.close.runs import FINISHED
from loyalty.earning.records import MonthTotals
from loyalty.kernel.money import ZERO, to_cents
from loyalty.kernel.periods import cutoff
from loyalty.program.rules import RuleBook, RuleVersion

PROGRAM_EXPENSES = (BONUS, OVERRIDE)
DEFAULT_HOLDING_DAYS = 30  # before any rules are loaded (as the balance of a month does)
_AFTER_EVERY_PERIOD = "9999-12"


@dataclass(frozen=True)
class Position:
    partner_id: str
    as_of: dt.date
    last_close: str | None  # the latest settled period (None: no close yet)
    provisional: Decimal
    held: Decimal
    payable: Decimal
    paid: Decimal
    carried: Decimal
    # of held and payable+paid: bonuses and overrides (issue 10) held, and matured by `as_of`
    program_held: Decimal = ZERO
    program_matured: Decimal = ZERO

    @property
    def earned(self) -> Decimal:
        return self.provisional + self.held + self.payable + self.paid

    @property
    def matured_since_close(self) -> Decimal:
        return self.payable - self.carried

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "last_close": self.last_close,
            "commission_eur": {
                "provisional": str(self.provisional),
                "held": str(self.held),
                "payable": str(self.payable),
                "paid": str(self.paid),
                "carried": str(self.carried),
            },
            "earned_eur": str(self.earned),
            "of_which_bonuses_and_overrides_eur": {
                "held": str(self.program_held),
                "matured": str(self.program_matured),
            },
        }


def settled(partner_id: str, entries: Sequence[Entry]) -> tuple[Decimal, Decimal]:
    """(paid, carried) from the partner's ledger entries: payouts to the bank, and the balance
    of its payable account (credited by matured commission, debited by clawbacks and payouts)."""
    acct = payable_account(partner_id)
    paid = sum((e.amount for e in entries if e.debit == acct and e.credit == BANK), ZERO)
    credits = sum((e.amount for e in entries if e.credit == acct), ZERO)
    debits = sum((e.amount for e in entries if e.debit == acct), ZERO)
    return paid, credits - debits


def position(
    partner_id: str,
    months: Sequence[MonthTotals],
    entries: Sequence[Entry],
    last_close: str | None,
    holding_days: int,
    today: dt.date,
    pending: Sequence[Sequence[str]] = (),
) -> Position:
    """The partner's position (see the module's doc) from its month totals and ledger entries;
    `pending` is the program accruals (bonuses, overrides) its last close still held
    ([earned_on, kind, amount]): they are held until their holding period passes by `as_of`,
    payable after; the ones a close matured are in the ledger (expense:bonus, expense:override)."""
    paid, carried = settled(partner_id, entries)
    as_of = max(today, cutoff(last_close)) if last_close else today
    limit = as_of - dt.timedelta(days=holding_days)
    program_booked = program_matured(partner_id, entries)
    pending_due = sum((Decimal(p[2]) for p in pending if dt.date.fromisoformat(p[0]) <= limit), ZERO)
    pending_held = sum((Decimal(p[2]) for p in pending if dt.date.fromisoformat(p[0]) > limit), ZERO)
    closed = [m for m in months if last_close is not None and m.month <= last_close]
    provisional = sum((m.commission for m in months if last_close is None or m.month > last_close), ZERO)
    facts = [MonthFacts(m.month, m.net_eur, m.lines, m.returns, m.by_day) for m in closed]
    matured_by_now = to_cents(matured(day_totals(facts), as_of, holding_days))
    closed_total = sum((m.commission for m in closed), ZERO)
    return Position(
        partner_id,
        as_of,
        last_close,
        provisional=to_cents(provisional),
        held=to_cents(closed_total - matured_by_now + pending_held),
        payable=to_cents(matured_by_now + program_booked + pending_due - paid),
        paid=to_cents(paid),
        carried=to_cents(carried),
        program_held=to_cents(pending_held),
        program_matured=to_cents(program_booked + pending_due),
    )


def program_matured(partner_id: str, entries: Sequence[Entry]) -> Decimal:
    """Bonuses and overrides the closes matured (net of clawbacks), from the ledger."""
    acct = payable_account(partner_id)
    out = ZERO
    for e in entries:
        if e.debit in PROGRAM_EXPENSES and e.credit == acct:
            out += e.amount
        elif e.debit == acct and e.credit in PROGRAM_EXPENSES:
            out -= e.amount
    return out


class PositionService:
    """One partner's position: its month totals and latest close (one Query), its ledger
    entries (one Query) and the program's finished closes."""

    def __init__(self, store: PositionStore) -> None:
        self.store = store

    def position(self, partner_id: str, today: dt.date) -> Position:
        months, history = self.store.close_facts(partner_id, _AFTER_EVERY_PERIOD, history=1)
        finished = [c.period for c in self.store.list_closes() if c.status == FINISHED]
        # a partner with nothing new at a close has no line of it, but that month is settled too
        last = max([*finished, *(h.period for h in history)], default=None)
        entries = self.store.ledger_entries(partner_id=partner_id)
        book = RuleBook(self.store.rule_versions())
        holding = DEFAULT_HOLDING_DAYS
        if book and today >= book.versions[0].effective_from:
            holding = self._rules(book, partner_id, today).holding_days
        pending = history[0].program_pending if history else []
        return position(partner_id, months, entries, last, holding, today, pending)

    def _rules(self, book: RuleBook, partner_id: str, today: dt.date) -> RuleVersion:
        """The partner's version today (a pilot's for its cohort or segment)."""
        if not book.scoped:
            return book.in_effect(today)
        p = self.store.get_partner(partner_id)
        return book.in_effect(today, p.cohort if p else None, p.segment if p else None)
