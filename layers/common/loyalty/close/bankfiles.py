"""Bank files of a payout run: a formula-safe CSV and ISO 20022 pain.001.001.09."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

from loyalty.kernel.money import ZERO
from loyalty.kernel.reports import safe_cell


@dataclass(frozen=True)
class Debtor:
    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class Payment:
    partner_id: str
    name: str
    amount: Decimal
    iban: str
    bic: str
    reference: str


def bank_csv(payments: Sequence[Payment]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["partner_id", "name", "amount", "currency", "iban", "bic", "reference"])
    for p in payments:
        w.writerow(
            [safe_cell(c) for c in (p.partner_id, p.name, str(p.amount), "EUR", p.iban, p.bic, p.reference)]
        )
    return buf.getvalue().encode()


def pain001(
    payments: Sequence[Payment],
    msg_id: str,
    created: dt.datetime,
    execution_date: dt.date,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str,
) -> bytes:
    """ISO 20022 pain.001.001.09 SEPA credit transfer initiation for EUR payouts."""
    x = xml_escape
    total = sum((p.amount for p in payments), ZERO)
    txs = []
    for p in payments:
        agent = f"<CdtrAgt><FinInstnId><BICFI>{x(p.bic)}</BICFI></FinInstnId></CdtrAgt>" if p.bic else ""
        txs.append(
            "<CdtTrfTxInf>"
            f"<PmtId><EndToEndId>{x(p.reference[:35])}</EndToEndId></PmtId>"
            f'<Amt><InstdAmt Ccy="EUR">{p.amount:.2f}</InstdAmt></Amt>'
            f"{agent}"
            f"<Cdtr><Nm>{x(p.name[:70])}</Nm></Cdtr>"
            f"<CdtrAcct><Id><IBAN>{x(p.iban)}</IBAN></Id></CdtrAcct>"
            f"<RmtInf><Ustrd>{x(('Partner commission ' + p.reference)[:140])}</Ustrd></RmtInf>"
            "</CdtTrfTxInf>"
        )
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
        "<CstmrCdtTrfInitn>"
        f"<GrpHdr><MsgId>{x(msg_id[:35])}</MsgId><CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}</CreDtTm>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<InitgPty><Nm>{x(debtor_name)}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{x(msg_id[:35])}</PmtInfId><PmtMtd>TRF</PmtMtd>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>"
        f"<ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt></ReqdExctnDt>"
        f"<Dbtr><Nm>{x(debtor_name)}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{x(debtor_iban)}</IBAN></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><BICFI>{x(debtor_bic)}</BICFI></FinInstnId></DbtrAgt>"
        "<ChrgBr>SLEV</ChrgBr>" + "".join(txs) + "</PmtInf></CstmrCdtTrfInitn></Document>\n"
    )
    return doc.encode()
