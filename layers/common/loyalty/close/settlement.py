"""What finance's decision does to a proposed close line, and which committed lines are paid."""

from __future__ import annotations

from loyalty.close.batches import PaymentRow
from loyalty.close.header import Decision
from loyalty.close.review import CloseLine, exclude


def settle(proposal: CloseLine, decision: Decision) -> CloseLine:
    """An approved line is paid; a line finance excluded carries everything forward."""
    if proposal.partner_id in decision.exclude:
        return exclude(proposal, f"excluded by finance ({decision.approved_by}); carried forward")
    proposal.state = "paid"
    return proposal


def payment_of(line: CloseLine) -> PaymentRow | None:
    """The bank transfer of a committed line (paid lines with a payout only)."""
    if line.state == "paid" and line.payout > 0:
        return PaymentRow(line.partner_id, line.name, line.payout, line.run, line.bank_fp)
    return None
