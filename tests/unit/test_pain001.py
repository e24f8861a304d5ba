"""Every pain.001 the close writes is valid against the official pain.001.001.09 XSD.

The schema is the one sepaxml ships (ISO 20022 Standards Editor output); xmlschema validates.
The file is also compared field by field with what sepaxml itself builds from the same payments.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.close.bankfiles import Payment, end_to_end_id, pain001, pain001_errors
from loyalty.close.sepa import sepa_text
from loyalty.kernel.ids import ID_RE

XSD = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"))
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
CREATED = dt.datetime(2026, 9, 1, 2)
DEBTOR = ("Partner Program", "DE89370400440532013000", "COBADEFFXXX")
IBANS = [
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "GB29NWBK60161331926819",
]


def _file(payments: list[Payment], bic: str = DEBTOR[2]) -> bytes:
    return pain001(payments, "close-2026-08", CREATED, CREATED.date(), DEBTOR[0], DEBTOR[1], bic)


def _errors(xml: bytes) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in XSD.iter_errors(xml.decode())]


def _txs(xml: bytes) -> list[tuple[str | None, ...]]:
    root = ET.fromstring(xml)
    return [
        tuple(
            t.findtext(path, namespaces=NS)
            for path in ("p:PmtId/p:EndToEndId", "p:Amt/p:InstdAmt", "p:Cdtr/p:Nm", "p:CdtrAcct/p:Id/p:IBAN")
        )
        for t in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]


def test_the_bank_file_of_the_close_tests_is_valid() -> None:
    pays = [
        Payment("P1", "Acme & Co", Decimal("60.00"), IBANS[0], "COBADEFFXXX", "2026-08-P1"),
        Payment("P2", "=Beta", Decimal("72.50"), IBANS[1], "", "2026-08-P2"),
    ]
    xml = _file(pays)
    assert _errors(xml) == []
    assert _txs(xml) == [
        ("2026-08-P1", "60.00", "Acme + Co", IBANS[0]),
        ("2026-08-P2", "72.50", "Beta", IBANS[1]),
    ]


def test_names_are_transliterated_to_the_sepa_character_set_and_stay_valid() -> None:
    names = [
        'Müller & Söhne <GmbH> "Ost"',
        "Łódź Ærø Café O'Brien",
        "\u041e\u041e\u041e «Ромашка» & Co",  # Cyrillic OOO
        "東京 Trading 😀 ]]> -->",
        "A" * 64 + "é" * 20,  # longer than Max70Text
        "Null\ufffeByte\uffffName",  # characters XML cannot carry
    ]
    pays = [
        Payment(f"P{i}", name, Decimal(f"{i}5.{i}0"), IBANS[i % len(IBANS)], "", f"2026-08-P{i}")
        for i, name in enumerate(names)
    ]
    xml = _file(pays)
    assert _errors(xml) == []
    got = [t[2] for t in _txs(xml)]
    assert got == [
        "Muller + Sohne GmbH 'Ost'",
        "Lodz AEro Cafe O'Brien",
        "OOO 'Romashka' + Co",
        "Trading --",
        ("A" * 64 + "e" * 20)[:70],
        "Null Byte Name",
    ]
    root = ET.fromstring(xml)
    total = sum(Decimal(t[1] or "") for t in _txs(xml))
    for ctrl in root.iterfind(".//p:CtrlSum", NS):
        assert Decimal(ctrl.text or "") == total
    assert [n.text for n in root.iterfind(".//p:NbOfTxs", NS)] == ["6", "6"]


def test_an_empty_debtor_bic_leaves_the_agent_empty_instead_of_invalid() -> None:
    xml = _file([Payment("P1", "Acme", Decimal("50.00"), IBANS[0], "", "2026-08-P1")], bic="")
    assert _errors(xml) == []
    assert ET.fromstring(xml).find(".//p:DbtrAgt/p:FinInstnId/p:BICFI", NS) is None


payees = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=64).filter(lambda s: bool(ID_RE.match(s))),  # what the registry takes
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
        st.sampled_from(IBANS),
        st.sampled_from(["", "COBADEFFXXX", "BNPAFRPP"]),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}", fullmatch=True),  # partner ids
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda t: t[4],
)


@settings(max_examples=60, deadline=None)
@given(payees)
def test_every_file_of_any_payees_is_valid(rows: list[tuple[str, Decimal, str, str, str]]) -> None:
    pays = [Payment(pid, name, amount, iban, bic, f"2026-08-{pid}") for name, amount, iban, bic, pid in rows]
    xml = _file(pays)
    assert _errors(xml) == []
    txs = _txs(xml)
    assert [t[0] for t in txs] == [f"2026-08-{pid}"[:35] for *_, pid in rows]
    assert [Decimal(t[1] or "") for t in txs] == [amount for _, amount, *_ in rows]
    ctrl = ET.fromstring(xml).findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS)
    assert Decimal(ctrl or "") == sum((amount for _, amount, *_ in rows), Decimal(0))


@pytest.mark.parametrize("count", [1, 3])
def test_same_payments_fields_as_sepaxml_builds(count: int) -> None:
    pays = [
        Payment(
            f"P{i}",
            f"Partner {i} & Söhne",
            Decimal(f"{50 + i}.{i}5"),
            IBANS[i],
            "COBADEFFXXX",
            f"2026-08-P{i}",
        )
        for i in range(count)
    ]
    ref = sepaxml.SepaTransfer(
        {"name": DEBTOR[0], "IBAN": DEBTOR[1], "BIC": DEBTOR[2], "batch": True, "currency": "EUR"},
        schema="pain.001.001.09",
        clean=False,
    )
    for p in pays:
        ref.add_payment(
            {
                "name": sepa_text(p.name, 70),
                "IBAN": p.iban,
                "BIC": p.bic,
                "amount": int(p.amount * 100),
                "execution_date": CREATED.date(),
                "description": f"Partner commission {p.reference}",
                "endtoend_id": p.reference,
            }
        )
    theirs = ref.export(validate=True)
    ours = _file(pays)
    assert _txs(ours) == _txs(theirs)
    for path in ("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs"):
        assert ET.fromstring(ours).findtext(path, namespaces=NS) == ET.fromstring(theirs).findtext(
            path, namespaces=NS
        )


def test_a_name_of_nothing_but_non_sepa_characters_becomes_the_partner_id() -> None:
    """A registry name of U+FFFF alone made an empty <Nm>: an invalid file (issue 9, point 20)."""
    xml = _file([Payment("P00007", "\uffff", Decimal("50.00"), IBANS[0], "", "2026-08-P00007")])
    assert _errors(xml) == [] and _txs(xml)[0][2] == "P00007"


def test_end_to_end_ids_are_unique_within_35_characters_by_construction() -> None:
    long_a, long_b = "DISTRIBUTOR-NORTH-EAST-REGION-00001", "DISTRIBUTOR-NORTH-EAST-REGION-00002"
    assert f"2026-08-{long_a}"[:35] == f"2026-08-{long_b}"[:35]  # what the old ids collided on
    ids = {end_to_end_id("2026-08", p) for p in (long_a, long_b, "P1")} | {end_to_end_id("2026-09", "P1")}
    assert len(ids) == 4 and all(len(i) <= 35 and i.startswith("2026-0") for i in ids)
    assert end_to_end_id("2026-08", "P1") == end_to_end_id("2026-08", "P1")  # deterministic


def test_invalid_or_ill_formed_documents_are_reported_not_raised() -> None:
    assert pain001_errors(b"<Document><unclosed></Document>")[0].startswith("not well-formed XML")
    bad = pain001(
        [Payment("P1", "Acme", Decimal("50.00"), IBANS[0], "", "r")],
        "m",
        CREATED,
        CREATED.date(),
        "P",
        "",
        "",
    )
    assert any("IBAN" in e for e in pain001_errors(bad))
