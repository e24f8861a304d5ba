"""Issue 9, point 16 (first half): plausibility caps per line from the rules file. A line above
the EUR amount cap or the quantity cap of the rule version that prices it is held for review:
recorded with its reason in the upload's report (`held`, `.held.csv`), not accrued (no line, not
in the month totals, so not in balances), and not lost (rows = accepted + rejected + held)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from loyalty.ingest.keys import report_base
from loyalty.program.rules import parse_rules

from tests.conftest import RULES
from tests.unit.test_accrual_service import lines, month, world
from tests.unit.test_ingest_service import KEY, row, sales_csv, summary

CAPPED = RULES.decode().replace('version: "2026.1"', 'version: "2026.1-caps"') + (
    '\nplausibility:\n  max_line_eur: "5000"\n  max_line_quantity: 100\n'
)


def held(c: object, key: str = KEY) -> list[dict[str, str]]:
    body = c.blobs.get(report_base(key) + ".held.csv")  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_caps_are_part_of_the_rules_file() -> None:
    r = parse_rules(CAPPED)
    assert (r.plausibility.max_line_eur, r.plausibility.max_line_quantity) == (Decimal("5000"), 100)
    assert parse_rules(RULES.decode()).plausibility.max_line_eur is None  # no caps unless configured


def test_a_line_above_a_cap_is_held_for_review_not_accrued_not_lost() -> None:
    c = world()
    c.load("rules/caps.yaml", CAPPED.encode())
    rows = [
        row("S1", qty=2, price="100.00"),
        row("BIG", qty=1, price="5000.01"),  # EUR 5 000.01 > 5 000
        row("MANY", qty=101, price="1.00"),  # 101 units > 100
        row("EDGE", qty=1, price="5000.00"),  # at the cap: accrued
        row("RET", qty=-1, price="6000.00"),  # a return's amount counts by its size
    ]
    c.upload(KEY, sales_csv(rows))
    c.deliver()
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["held"], s["reconciled"]) == (5, 2, 0, 3, True)
    assert set(lines(c)) == {"S1", "EDGE"}
    assert month(c).net_eur == Decimal("5200.00")  # held lines are not in the totals
    got = {h["value"]: (h["line"], h["column"], h["reason"]) for h in held(c)}
    assert got["BIG"] == (
        "3",
        "sale_id",
        "held for review: line amount EUR 5000.01 is above the cap EUR 5000 (rules 2026.1-caps)",
    )
    assert got["MANY"][2] == "held for review: quantity 101 is above the cap 100 (rules 2026.1-caps)"
    assert got["RET"][0] == "6" and "EUR -6000.00" in got["RET"][2]
    assert s["held_report"] == report_base(KEY) + ".held.csv"


def test_without_caps_nothing_is_held() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("BIG", qty=1000, price="9999.00")]))
    c.deliver()
    s = summary(c)
    assert (s["accepted"], s["held"]) == (1, 0) and "held_report" not in s


def test_a_held_line_is_no_first_occurrence_in_one_chunk_or_across_chunks() -> None:
    c = world(chunk_rows=10)
    c.load("rules/caps.yaml", CAPPED.encode())
    rows = [row("A", qty=500), row("A", qty=2)] + [row(f"T{i}") for i in range(7)]
    rows += [
        row("B", qty=500),
        row("B", qty=3),
        row("T7"),
    ]  # the held B ends chunk 1, the other starts chunk 2
    assert c.upload(KEY, sales_csv(rows)).chunks_total == 2
    c.deliver()
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["held"]) == (12, 10, 0, 2)
    assert (lines(c)["A"].quantity, lines(c)["B"].quantity) == (2, 3)
