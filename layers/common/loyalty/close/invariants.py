"""The per-partner payout invariant, checked before anything is committed (issue 9, point 1).

Whatever the order in which closes ran, a partner's books must agree with the close line that is
about to be committed:

- the line adds up: payout = carried in + matured now - carried out;
- it continues the books: what matured before (the ledger's accruals less clawbacks) plus what
  matures now is the line's matured total, and the carried-in balance is what matured before less
  what was paid before (the partner's liability account);
- total paid never exceeds total matured: what was paid before plus this payout is at most the
  matured total.

A close of an earlier period after a later one (which already released that commission) breaks
the second rule; a line edited between proposal and payment breaks the first. Pure: the ledger
entries come from the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from loyalty.close.ledger import BANK, EXPENSES, Entry, payable_account
from loyalty.close.review import CloseLine
from loyalty.kernel.money import ZERO


@dataclass(frozen=True)
class Position:
    """A partner's position in the books: commission, bonuses and overrides matured (net of
    clawbacks) and paid."""

    matured: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def carried(self) -> Decimal:
        return self.matured - self.paid


def position(partner_id: str, entries: Iterable[Entry]) -> Position:
    """Sum a partner's ledger entries (entries of other accounts are ignored)."""
    acct = payable_account(partner_id)
    matured = paid = ZERO
    for e in entries:
        if e.debit in EXPENSES and e.credit == acct:
            matured += e.amount
        elif e.debit == acct and e.credit in EXPENSES:
            matured -= e.amount
        elif (e.debit, e.credit) == (acct, BANK):
            paid += e.amount
    return Position(matured, paid)


def line_problems(line: CloseLine) -> list[str]:
    """The line's own arithmetic."""
    if line.payout != line.carried_in + line.matured_now - line.carried_out:
        return [
            f"payout {line.payout} != carried in {line.carried_in} + matured now {line.matured_now}"
            f" - carried out {line.carried_out}"
        ]
    if line.payout < 0:
        return [f"negative payout {line.payout}"]
    return []


def problems(line: CloseLine, books: Position) -> list[str]:
    """Every way the line disagrees with itself or with the partner's books (empty: consistent)."""
    out = line_problems(line)
    if books.matured + line.matured_now != line.matured_total:
        out.append(
            f"matured before {books.matured} + matured now {line.matured_now} != matured total "
            f"{line.matured_total} (was this commission released by another close?)"
        )
    if line.carried_in != books.carried:
        out.append(f"carried in {line.carried_in} != the books' balance {books.carried}")
    if line.payout > 0 and books.paid + line.payout > line.matured_total:
        out.append(
            f"paid before {books.paid} + payout {line.payout} exceeds the total matured {line.matured_total}"
        )
    return out
