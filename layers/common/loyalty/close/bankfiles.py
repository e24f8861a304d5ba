"""Bank files of a payout run: a formula-safe CSV and ISO 20022 pain.001.001.09.

Every pain.001 is validated against the official XSD (`schemas/pain.001.001.09.xsd`, the ISO 20022
schema as sepaxml ships it) before it is written; names and remittance text are in the SEPA
character set (`loyalty.close.sepa`), so a document is always well-formed and never has an empty
name."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from loyalty.close.sepa import sepa_text
from loyalty.kernel.money import ZERO
from loyalty.kernel.reports import safe_cell

XSD = Path(__file__).parent / "schemas" / "pain.001.001.09.xsd"

# Characters XML 1.0 cannot carry at all (the registry accepts e.g. U+FFFE in a name).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str, limit: int) -> str:
    """Element text for a MaxNText field: XML-illegal characters dropped, cut to `limit`, escaped."""
    return xml_escape(_NOT_XML.sub("", value)[:limit])


@cache
def _schema() -> Any:
    import xmlschema  # only the BankFiles function validates: loaded there, once

    return xmlschema.XMLSchema(str(XSD))


def pain001_errors(xml: bytes) -> list[str]:
    """Why a document is not a valid pain.001.001.09 (empty: valid). An ill-formed document is
    one error, never an exception."""
    try:
        return [f"{e.path}: {e.reason}" for e in _schema().iter_errors(xml.decode())]
    except Exception as exc:  # xmlschema raises its own parse errors: every one means "invalid"
        return [f"not well-formed XML: {exc}"]


def end_to_end_id(period: str, partner_id: str) -> str:
    """The payment's EndToEndId (at most 35 characters): the period and a hash of the business
    identity (period, partner), so two partners never share one however long their ids are. The
    bank CSV keeps the mapping to the partner (its `reference` column)."""
    digest = hashlib.sha256(f"{period}|{partner_id}".encode()).hexdigest()[:24]
    return f"{period}-{digest}"


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
    """ISO 20022 pain.001.001.09 SEPA credit transfer initiation for EUR payouts.

    Valid against the official XSD (tests/unit/test_pain001.py validates with the schema sepaxml
    ships). Not built with sepaxml: its MsgId, PmtInfId (random) and CreDtTm (wall clock) would make
    a retried step write a different file."""
    x = xml_escape
    total = sum((p.amount for p in payments), ZERO)
    txs = []
    for p in payments:
        agent = f"<CdtrAgt><FinInstnId><BICFI>{x(p.bic)}</BICFI></FinInstnId></CdtrAgt>" if p.bic else ""
        txs.append(
            "<CdtTrfTxInf>"
            f"<PmtId><EndToEndId>{_xml_text(p.reference, 35)}</EndToEndId></PmtId>"
            f'<Amt><InstdAmt Ccy="EUR">{p.amount:.2f}</InstdAmt></Amt>'
            f"{agent}"
            f"<Cdtr><Nm>{x(sepa_text(p.name, 70, p.partner_id))}</Nm></Cdtr>"
            f"<CdtrAcct><Id><IBAN>{x(p.iban)}</IBAN></Id></CdtrAcct>"
            f"<RmtInf><Ustrd>{x(sepa_text('Partner commission ' + p.reference, 140))}</Ustrd></RmtInf>"
            "</CdtTrfTxInf>"
        )
    # FinInstnId may be empty; an empty BICFI is invalid (the debtor BIC is a deploy parameter).
    debtor_agent = f"<BICFI>{x(debtor_bic)}</BICFI>" if debtor_bic else ""
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
        "<CstmrCdtTrfInitn>"
        f"<GrpHdr><MsgId>{_xml_text(msg_id, 35)}</MsgId><CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}</CreDtTm>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<InitgPty><Nm>{x(sepa_text(debtor_name, 140, 'Partner Program'))}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{_xml_text(msg_id, 35)}</PmtInfId><PmtMtd>TRF</PmtMtd>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>"
        f"<ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt></ReqdExctnDt>"
        f"<Dbtr><Nm>{x(sepa_text(debtor_name, 140, 'Partner Program'))}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{x(debtor_iban)}</IBAN></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId>{debtor_agent}</FinInstnId></DbtrAgt>"
        "<ChrgBr>SLEV</ChrgBr>" + "".join(txs) + "</PmtInf></CstmrCdtTrfInitn></Document>\n"
    )
    return doc.encode()
