"""Payee checks of a proposal (issue 9, points 2 and 16): the bank details a payout goes to are
snapshotted at Propose (ciphertext copy, mask, fingerprint, BIC, name: never the plain IBAN), a
payee whose bank details changed since its last payout waits a cooling-off before it is paid
(held and carried, not lost), and a first-ever payout above a threshold is flagged. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loyalty.close.review import CloseLine
from loyalty.kernel.money import ZERO, to_cents
from loyalty.program.rules import Payouts


@dataclass(frozen=True)
class BankSnapshot:
    """A payee's bank details as the proposal saw them. `iban_enc` is the registry's ciphertext
    (encryption context = partner id): only the BankFiles function can decrypt it."""

    partner_id: str
    name: str
    iban_enc: str
    iban_mask: str
    fingerprint: str
    bic: str
    since: str = ""  # when these details were loaded (ISO date-time), for the cooling-off

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BankSnapshot:
        return cls(**{k: str(d.get(k) or "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PayeeHistory:
    """What the partner's earlier closes say: the fingerprint its last payout went to."""

    last_fingerprint: str
    ever_paid: bool


def hold(line: CloseLine, reason: str) -> None:
    """Nothing is paid now; the whole balance carries forward (the line still adds up)."""
    line.carried_out = to_cents(line.carried_in + line.matured_now)
    line.payout = ZERO
    line.payout_reason = reason


def check_payee(
    line: CloseLine, bank: BankSnapshot | None, past: PayeeHistory, rules: Payouts, cutoff: dt.date
) -> None:
    """Apply the payee checks to a reviewed line (in place): missing bank details or a change
    within the cooling-off hold the payout; changes and large first payouts are anomalies."""
    if line.payout <= 0:
        return
    if bank is None or not bank.iban_enc:
        line.anomalies.append("no bank details on file: payout held and carried forward")
        hold(line, "held: no bank details on file")
        return
    if past.last_fingerprint and bank.fingerprint != past.last_fingerprint:
        since = dt.date.fromisoformat(bank.since[:10]) if bank.since else cutoff
        until = since + dt.timedelta(days=rules.bank_change_cooling_days)
        if until > cutoff:
            line.anomalies.append(
                f"bank details changed on {since} (now {bank.iban_mask}) since the last payout: "
                f"held until the {rules.bank_change_cooling_days}-day cooling-off ends on {until}"
            )
            hold(line, f"held: bank details changed on {since}; cooling-off until {until}")
            return
        line.anomalies.append(
            f"bank details changed on {since} (now {bank.iban_mask}) since the last payout; "
            "cooling-off passed"
        )
    if not past.ever_paid and line.payout > rules.first_payout_review_eur:
        line.anomalies.append(
            f"first-ever payout EUR {line.payout} is above the EUR {rules.first_payout_review_eur} "
            "review threshold"
        )
