"""The monthly close's pure domain: KPIs, holding, minimum payout, clawback, ledger, files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.close.bankfiles import Payment, bank_csv, pain001
from loyalty.close.ledger import Ledger, payable_account
from loyalty.close.proposal import summarize
from loyalty.close.review import CloseLine, MonthFacts, PartnerFacts, exclude, ledger_entries, review_partner
from loyalty.close.statements import StatementLine, statement_csv, statement_html
from loyalty.kernel.iban import mask_iban, valid_iban
from loyalty.kernel.periods import cutoff, next_period, open_period, period_before, previous_period
from loyalty.program.rules import parse_rules

RULES = parse_rules((Path(__file__).resolve().parents[2] / "rules/default-program.yaml").read_text())
D = Decimal


def facts(months: list[MonthFacts], history: list[CloseLine] | None = None, **kw: object) -> PartnerFacts:
    base: dict[str, object] = dict(
        partner_id="P1", name="Acme", segment="smb", certified={}, has_bank=True, tier_now="Bronze"
    )
    base.update(kw)
    return PartnerFacts(months=months, history=history or [], **base)  # type: ignore[arg-type]


def test_periods() -> None:
    assert next_period("2026-12") == "2027-01"
    assert previous_period("2026-01") == "2025-12"
    assert period_before(dt.date(2026, 11, 1)) == "2026-10"
    assert period_before(dt.date(2027, 1, 1)) == "2026-12"
    assert cutoff("2028-02") == dt.date(2028, 2, 29)
    assert open_period("2026-09", {"2026-09", "2026-10"}) == "2026-11"
    assert open_period("2026-11", {"2026-09", "2026-10"}) == "2026-11"


def test_iban_check_digits_and_mask() -> None:
    assert valid_iban("DE89370400440532013000")
    assert valid_iban("FR1420041010050500013M02606")
    assert not valid_iban("DE89370400440532013001")
    assert not valid_iban("DE8937040044")
    assert mask_iban("DE89370400440532013000") == "DE89 **** 3000"


def test_holding_period_pays_only_what_is_30_days_old_at_the_cutoff() -> None:
    aug = MonthFacts("2026-08", D("3000"), 3, 0, {1: D("20.00"), 20: D("40.00"), 31: D("100.00")})
    line = review_partner(RULES, "2026-08", "close-2026-08", facts([aug]))
    assert line.matured_now == D("20.00")  # only Aug 1 + 30 days <= Aug 31
    assert (line.payout, line.carried_out) == (D("0"), D("20.00"))  # below the EUR 50 minimum
    hist = [line]
    line2 = review_partner(RULES, "2026-09", "close-2026-09", facts([aug], hist))
    assert line2.matured_now == D("140.00")  # Aug 20 and Aug 31 matured by Sep 30
    assert (line2.carried_in, line2.payout, line2.carried_out) == (D("20.00"), D("160.00"), D("0.00"))


def test_clawback_carries_a_negative_balance_and_flags_it() -> None:
    paid = CloseLine("P1", "2026-09", "r", matured_total=D("500.00"), payout=D("500.00"), state="paid")
    # a return after the payout takes 80 back: the cumulative matured total drops
    sep = MonthFacts("2026-09", D("10"), 1, 0, {1: D("500.00")})
    octo = MonthFacts("2026-10", D("-4000"), 1, 1, {1: D("-80.00")})
    line = review_partner(RULES, "2026-10", "close-2026-10", facts([sep, octo], [paid]))
    assert (line.matured_now, line.payout, line.carried_out) == (D("-80.00"), D("0"), D("-80.00"))
    assert any("negative balance" in a for a in line.anomalies)
    entries = ledger_entries(line)
    assert [(e.debit, e.credit, e.amount) for e in entries] == [
        (payable_account("P1"), "expense:commission", D("80.00"))
    ]


def test_no_bank_details_holds_the_payout() -> None:
    aug = MonthFacts("2026-08", D("5000"), 1, 0, {1: D("100.00")})
    line = review_partner(RULES, "2026-08", "r", facts([aug], has_bank=False))
    assert (line.payout, line.carried_out) == (D("0"), D("100.00"))
    assert "no bank details" in line.payout_reason and line.anomalies


def test_payout_over_three_times_the_average_is_an_anomaly() -> None:
    hist = [
        CloseLine("P1", f"2026-0{m}", "r", matured_total=D(100 * (9 - m)), payout=D("100.00"), state="paid")
        for m in (8, 7, 6)
    ]
    aug = MonthFacts("2026-08", D("0"), 0, 0, {1: D("700.00")})  # history's newest: 100 of it matured
    sep = MonthFacts("2026-09", D("0"), 0, 0, {1: D("400.00")})  # not 30 days old at Sep 30
    line = review_partner(RULES, "2026-09", "r", facts([aug, sep], hist))
    assert line.payout == D("600.00")
    assert any("over 3x the 6-month average EUR 100.00" in a for a in line.anomalies)


def test_kpis_new_customers_returns_rate_and_tier_progress() -> None:
    jul = MonthFacts("2026-07", D("20000"), 4, 0, {}, 2)  # C1, C2
    aug = MonthFacts("2026-08", D("9000"), 10, 2, {}, 2)  # C2 again, C3 and C4 new
    line = review_partner(RULES, "2026-08", "r", facts([jul, aug]))
    assert (line.new_customers, line.returns_rate) == (2, D("0.2000"))
    assert line.trailing == D("29000") and line.tier_after == "Silver" and line.tier_change == "up"
    assert line.progress == "EUR 71 000.00 more trailing-3-month sales to reach Gold"
    gold = review_partner(RULES, "2026-08", "r", facts([MonthFacts("2026-08", D("260000"), 1, 0, {})]))
    assert gold.tier_after == "Gold" and "1 more certified on CERT-SALES for Platinum" in gold.progress


def test_exclusion_carries_everything_forward() -> None:
    aug = MonthFacts("2026-08", D("0"), 0, 0, {1: D("70.00")})
    line = exclude(review_partner(RULES, "2026-08", "r", facts([aug])), "excluded by finance")
    assert (line.payout, line.carried_out, line.state) == (D("0"), D("70.00"), "excluded")
    assert [e.credit for e in ledger_entries(line)] == [payable_account("P1")]  # expense recognised, not paid


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-30000, max_value=90000), min_size=1, max_size=8))
def test_money_is_conserved_and_the_ledger_balances(amounts_cents: list[int]) -> None:
    """Whatever matures (returns included), every cent is either paid or carried; the ledger's
    trial balance is zero and the partner's liability equals the carried balance."""
    months: list[MonthFacts] = []
    history: list[CloseLine] = []
    ledger = Ledger()
    period = "2026-01"
    paid = D(0)
    for cents in amounts_cents:
        months.append(MonthFacts(period, D(0), 0, 0, {1: D(cents) / 100}))
        # day 1 of the *previous* month matures at this cut-off in every month length
        line = review_partner(RULES, period, "r", facts(list(months), list(reversed(history))))
        line.state = "paid"
        for e in ledger_entries(line):
            ledger.post(e)
        paid += line.payout
        history.append(line)
        assert line.payout == 0 or line.payout >= RULES.minimum_payout_eur
        period = next_period(period)
    total = sum((m.by_day[1] for m in months[:-1]), D(0))  # the last month's day 1 is not yet 30 days old
    if cutoff(history[-1].period).day == 31:
        total += months[-1].by_day[1]
    assert paid + history[-1].carried_out == total
    assert ledger.trial_balance() == 0
    assert ledger.balances().get(payable_account("P1"), D(0)) == -history[-1].carried_out


def test_summary_totals_by_tier_segment_and_top() -> None:
    lines = [
        CloseLine(
            f"P{i}",
            "2026-08",
            "r",
            name=f"N{i}",
            segment="smb" if i % 2 else "ent",
            tier_after="Silver",
            payout=D(i * 10),
            tier_change="up" if i == 3 else "hold",
        )
        for i in range(1, 30)
    ]
    lines[4].anomalies.append("x")
    s = summarize("2026-08", "r", lines).to_json()
    assert s["partners"] == 29 and s["payees"] == 29
    assert s["totals"]["payout"] == str(sum(D(i * 10) for i in range(1, 30)))
    assert [t["partner_id"] for t in s["top"][:2]] == ["P29", "P28"] and len(s["top"]) == 20
    assert s["by_segment"]["smb"]["partners"] == 15 and s["tier_moves"] == {"hold": 28, "up": 1}
    assert s["anomaly_count"] == 1


def test_statement_lines_are_formula_safe_and_totalled() -> None:
    line = CloseLine(
        "P1",
        "2026-08",
        "r",
        name='=HYPERLINK("x")',
        payout=D("12.00"),
        tier_before="Bronze",
        tier_after="Bronze",
    )
    rows = [
        StatementLine(
            "=1+1",
            "2026-08-01",
            "SKU",
            "hardware",
            2,
            D("100.00"),
            "USD",
            D("1.10"),
            "2026-08-01",
            D("90.91"),
            "Bronze",
            D("0.02"),
            "2026.1",
            D("1.82"),
            "month",
        ),
        StatementLine(
            "S2",
            "2026-08-02",
            "SKU",
            "services",
            -1,
            D("-50.00"),
            "EUR",
            None,
            "",
            D("-50.00"),
            "Bronze",
            D("0.03"),
            "2026.1",
            D("-1.50"),
            "original",
        ),
    ]
    data = list(csv.reader(io.StringIO(statement_csv(line, rows).decode())))
    assert data[1][0] == "'=1+1" and data[1][11] == "2" and data[2][5] == "-50.00"
    assert data[3][0] == "TOTAL" and data[3][9] == "40.91" and data[3][13] == "0.32"
    partner_row = next(r for r in data if r and r[0] == "partner")
    assert partner_row[1].startswith("P1 ")
    html = statement_html(line, rows).decode()
    assert "&quot;x&quot;" in html and "<td>=1+1</td>" in html and "rule version" in html


def test_bank_files() -> None:
    pays = [
        Payment("P1", "Acme & Co", D("60.00"), "DE89370400440532013000", "COBADEFFXXX", "2026-08-P1"),
        Payment("P2", "=Beta", D("72.50"), "FR1420041010050500013M02606", "", "2026-08-P2"),
    ]
    rows = list(csv.reader(io.StringIO(bank_csv(pays).decode())))
    assert rows[2][1] == "'=Beta" and rows[1][2] == "60.00"
    xml = pain001(
        pays,
        "close-2026-08",
        dt.datetime(2026, 9, 1, 2),
        dt.date(2026, 9, 1),
        "Program",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    root = ET.fromstring(xml)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "132.50"
    txs = root.findall(".//p:CdtTrfTxInf", ns)
    assert [t.findtext("p:Cdtr/p:Nm", namespaces=ns) for t in txs] == ["Acme + Co", "Beta"]  # SEPA set
    assert txs[0].find("p:Amt/p:InstdAmt", ns).attrib["Ccy"] == "EUR"  # type: ignore[union-attr]
