from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.earning.commission.calculator import Calculator
from loyalty.earning.commission.model import Accrual, AccrualError, OriginalRate, PartnerContext, RateEntry
from loyalty.earning.commission.rates import PeriodTokens, RateProblem, RateTable, resolve_rate
from loyalty.ingest.sales.block import SaleBlock
from loyalty.ingest.sales.contract import COLUMNS, SaleRow
from loyalty.ingest.sales.validator import SalesValidator
from loyalty.kernel.csvio.model import RawBlock, RowIssue
from loyalty.kernel.reports import safe_cell
from loyalty.program.fx import FxTable
from loyalty.program.rules import RuleBook, RuleVersion, parse_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = RuleBook([parse_rules((ROOT / "rules/default-program.yaml").read_text())])
TODAY = dt.date(2026, 11, 23)


def rights(pid: str) -> str | None:
    return None if pid in {"P1", "P2"} else f"may not create sales for partner {pid!r}"


class Tiers:
    def __init__(self, tiers: dict[tuple[str, str], str]) -> None:
        self.tiers = tiers

    def tier_for(self, partner_id: str, month: str) -> str | None:
        return self.tiers.get((partner_id, month))


FX = FxTable(
    [(dt.date(2026, 10, 1), "USD", Decimal("1.08")), (dt.date(2026, 10, 15), "USD", Decimal("1.12"))]
)


def validate(values: list[str], line: int = 2) -> SaleRow | RowIssue:
    return SalesValidator(rights, TODAY).validate(line, values)


def row(**kw: str) -> list[str]:
    base = dict(
        sale_id="S1",
        partner_id="P1",
        sold_at="2026-10-02",
        sku="A",
        quantity="2",
        unit_price="10.5",
        currency="EUR",
        category="",
        customer_id="",
        original_sale_id="",
    )
    base.update(kw)
    return [base[c] for c in COLUMNS]


def test_valid_row_is_normalised() -> None:
    r = validate(
        row(sold_at="2026-10-02T23:30:00+02:00", currency="usd", category=" Services ", unit_price="10,50")
    )
    assert isinstance(r, SaleRow)
    assert r.sold_at == "2026-10-02T21:30:00Z" and r.currency == "USD" and r.category == "services"
    assert r.unit_price == Decimal("10.50")


@pytest.mark.parametrize(
    ("kw", "column", "reason"),
    [
        ({"partner_id": "P9"}, "partner_id", "may not create sales"),
        ({"sold_at": "2026-02-30"}, "sold_at", "ISO 8601"),
        ({"sold_at": "2027-01-01"}, "sold_at", "future"),
        ({"quantity": "0"}, "quantity", "must not be 0"),
        ({"quantity": "1.5"}, "quantity", "whole number"),
        ({"unit_price": "-1"}, "unit_price", "negative"),
        ({"currency": "EURO"}, "currency", "ISO 4217"),
        ({"sku": "=1+1"}, "sku", "formula"),
        ({"sale_id": ""}, "sale_id", "required"),
        ({"original_sale_id": "S0"}, "original_sale_id", "only allowed on returns"),
        ({"quantity": "-1", "original_sale_id": "S1"}, "original_sale_id", "cannot refer to itself"),
    ],
)
def test_row_errors_say_what_and_why(kw: dict[str, str], column: str, reason: str) -> None:
    r = validate(row(**kw))
    assert isinstance(r, RowIssue) and r.column == column and reason in r.reason and r.line == 2


def test_commission_tier_category_fx_rounding() -> None:
    calc = Calculator(RULES, Tiers({("P1", "2026-10"): "Gold"}), FX)
    r = validate(
        row(quantity="3", unit_price="33.33", currency="USD", category="services", sold_at="2026-10-20")
    )
    assert isinstance(r, SaleRow)
    a = calc.compute(r)
    # 99.99 USD / 1.12 = 89.276785.. EUR x 5 % (Gold 4 % + services 1 pp) = 4.4638.. -> 4.46
    assert (a.net, a.fx_rate, a.fx_date, a.net_eur, a.tier, a.rate, a.commission) == (
        Decimal("99.99"),
        Decimal("1.12"),
        "2026-10-15",
        Decimal("89.28"),
        "Gold",
        Decimal("0.05"),
        Decimal("4.46"),
    )
    assert "rules 2026.1" in a.trace() and "1.12 USD/EUR" in a.trace()


def test_return_uses_the_original_sales_rate() -> None:
    calc = Calculator(RULES, Tiers({("P1", "2026-11"): "Silver"}), FX)
    r = validate(
        row(sale_id="R1", quantity="-1", unit_price="100", sold_at="2026-11-02", original_sale_id="S1")
    )
    assert isinstance(r, SaleRow)
    own = calc.compute(r)
    assert own.commission == Decimal("-3.00") and own.rate_basis == "month"
    orig = calc.compute(r, OriginalRate(Decimal("0.02"), "Bronze", "2026.1", "2026-10"))
    assert (
        orig.commission == Decimal("-2.00") and orig.rate_basis == "original-sale" and orig.tier == "Bronze"
    )


def test_missing_fx_rate_is_a_clear_row_error() -> None:
    calc = Calculator(RULES, Tiers({}), FX)
    r = validate(row(currency="USD", sold_at="2026-09-30"))
    assert isinstance(r, SaleRow)
    blk, issues = calc.compute_block(SaleBlock.from_rows([r]))
    assert (
        len(blk) == 0
        and issues[0].column == "currency"
        and "no USD/EUR rate on or before 2026-09-30" in issues[0].reason
    )


# -- the columnar fast path gives exactly the row-by-row answer -------------------------------------
cell = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "=x",
            "-1",
            "0",
            "1",
            "2",
            "10,5",
            "10.5",
            "1.2.3",
            "abc",
            "P1",
            "P2",
            "P9",
            "EUR",
            "usd",
            "XXX",
        ]
    ),
    st.sampled_from(
        ["2026-10-01", "2026-10-15T10:00:00+03:00", "2026-02-30", "2030-01-01", "services", "S1", "S2", " S3"]
    ),
    st.text(max_size=6),
)
valid_row = st.fixed_dictionaries(
    {
        "sale_id": st.sampled_from(["S1", "S2", "S3", "R1"]),
        "partner_id": st.sampled_from(["P1", "P2"]),
        "sold_at": st.sampled_from(["2026-10-01", "2026-10-20T10:00:00Z", "2026-09-30"]),
        "sku": st.sampled_from(["A", "B-1"]),
        "quantity": st.sampled_from(["1", "-2", "7"]),
        "unit_price": st.sampled_from(["0.99", "10,50", "1234.5678"]),
        "currency": st.sampled_from(["EUR", "USD"]),
        "category": st.sampled_from(["", "services", "hardware"]),
        "customer_id": st.sampled_from(["", "C1"]),
        "original_sale_id": st.just(""),
    }
).map(lambda d: [d[c] for c in COLUMNS])
any_row = st.one_of(valid_row, st.lists(cell, min_size=10, max_size=10))


@settings(max_examples=300, deadline=None)
@given(st.lists(any_row, min_size=1, max_size=30))
def test_fast_block_path_equals_row_by_row(rows: list[list[str]]) -> None:
    lines = list(range(2, 2 + len(rows)))
    block = RawBlock(lines, [tuple(r[i] for r in rows) for i in range(10)], [])
    good, issues = SalesValidator(rights, TODAY).validate_block(block)
    expected = [validate(r, ln) for ln, r in zip(lines, rows, strict=True)]
    assert list(good.rows()) == [e for e in expected if isinstance(e, SaleRow)]
    assert issues == [e for e in expected if isinstance(e, RowIssue)]


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_row, min_size=1, max_size=30), st.sampled_from(["Bronze", "Gold", None]))
def test_block_commission_equals_row_by_row(rows: list[list[str]], tier: str | None) -> None:
    tiers = Tiers({("P1", "2026-10"): tier} if tier else {})
    sales = [r for r in (validate(v, i + 2) for i, v in enumerate(rows)) if isinstance(r, SaleRow)]
    blk, issues = Calculator(RULES, tiers, FX).compute_block(SaleBlock.from_rows(sales))
    one = Calculator(RULES, tiers, FX)
    expected = []
    for r in sales:
        try:
            expected.append(one.compute(r))
        except Exception:
            continue
    got = list(blk.accruals())
    assert [(a.row, a.commission, a.net_eur, a.rate, a.tier) for a in got] == [
        (a.row, a.commission, a.net_eur, a.rate, a.tier) for a in expected
    ]
    assert len(got) + len(issues) == len(sales)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1", "'+1"),
        ("-12.50", "-12.50"),
        ("-x", "'-x"),
        ("ok", "ok"),
    ],
)
def test_csv_cells_are_formula_safe(value: str, safe: str) -> None:
    assert safe_cell(value) == safe


def test_a_return_dated_before_its_sale_is_rejected() -> None:
    calc = Calculator(RULES, Tiers({}), FX)
    r = validate(row(sale_id="R1", quantity="-1", sold_at="2026-10-01", original_sale_id="S1"))
    assert isinstance(r, SaleRow)
    orig = OriginalRate(Decimal("0.02"), "Bronze", "2026.1", "2026-10", "2026-10-05")
    blk, issues = calc.compute_block(SaleBlock.from_rows([r]), {("P1", "S1"): orig})
    assert (
        len(blk) == 0
        and issues[0].column == "sold_at"
        and "dated before the sale it returns (S1, sold 2026-10-05)" in issues[0].reason
    )


# -- the whole columnar path over several blocks, with every kind of problem ------------------------
def _version(**kw: object) -> RuleVersion:
    base = RULES.versions[0].model_dump()
    base.update(kw)
    return RuleVersion.model_validate(base)


BASE = RULES.versions[0]
HARD_RULES = RuleBook(
    [
        BASE,
        # a new version from 15 October: every row of October needs its day's version
        _version(
            version="2026.2", effective_from=dt.date(2026, 10, 15), category_bonus_pct={"services": "1.5"}
        ),
        # a pilot for cohort "c1" from 20 October
        _version(version="pilot", effective_from=dt.date(2026, 10, 20), scope={"cohort": "c1"}),
    ]
)
PARTNERS = {"P1": PartnerContext("c1", "dealer"), "P2": PartnerContext(None, "reseller")}
hard_row = st.fixed_dictionaries(
    {
        "sale_id": st.sampled_from(["S1", "S2", "S3", "S4", "R1", "R2"]),
        "partner_id": st.sampled_from(["P1", "P2"]),
        "sold_at": st.sampled_from(
            ["2025-12-31", "2026-09-30", "2026-10-01", "2026-10-15T10:00:00Z", "2026-10-20", "2026-10-28"]
        ),
        "sku": st.sampled_from(["A", "B-1"]),
        "quantity": st.sampled_from(["1", "-2", "7", "-1"]),
        "unit_price": st.sampled_from(["0.99", "10,50", "1234.5678", "3", "99999999.999999"]),
        "currency": st.sampled_from(["EUR", "USD", "GBP"]),
        "category": st.sampled_from(["", "services", "hardware"]),
        "customer_id": st.sampled_from(["", "C1"]),
        "original_sale_id": st.sampled_from(["", "", "S1", "S2", "S9"]),
    }
).map(lambda d: [d[c] for c in COLUMNS])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(hard_row, min_size=1, max_size=12), min_size=1, max_size=4),
    st.sampled_from(["Bronze", "Gold", "Diamond", None]),
)
def test_blocks_through_one_calculator_equal_row_by_row(
    blocks: list[list[list[str]]], tier: str | None
) -> None:
    """Per-block caches (tokens, rate keys, FX, quantities, two-decimal prices) never change an
    answer: every accrual and every row's first problem match `compute` row by row."""
    tiers = Tiers({("P2", "2026-10"): tier} if tier else {})
    originals = {
        ("P1", "S1"): OriginalRate(Decimal("0.07"), "Gold", "2026.1", "2026-10", "2026-10-15"),
        ("P2", "S2"): OriginalRate(Decimal("0.025"), "Silver", "2026.1", "2026-09", "2026-09-30"),
    }
    block_calc, row_calc = Calculator(HARD_RULES, tiers, FX), Calculator(HARD_RULES, tiers, FX)
    validator = SalesValidator(rights, TODAY)
    line = 2
    for rows in blocks:
        lines = list(range(line, line + len(rows)))
        line += len(rows)
        good, _ = validator.validate_block(
            RawBlock(lines, [tuple(r[i] for r in rows) for i in range(10)], [])
        )
        got, issues = block_calc.compute_block(good, originals, PARTNERS)
        expected: list[Accrual | RowIssue] = []
        for r in good.rows():
            orig = originals.get((r.partner_id, r.original_sale_id)) if r.quantity < 0 else None
            try:
                expected.append(row_calc.compute(r, orig, PARTNERS[r.partner_id]))
            except AccrualError as exc:
                expected.append(RowIssue(r.line, exc.column, "", exc.reason))
        assert [_facts(a) for a in got.accruals()] == [_facts(a) for a in expected if isinstance(a, Accrual)]
        assert [(i.line, i.column, i.reason) for i in issues] == [
            (i.line, i.column, i.reason) for i in expected if isinstance(i, RowIssue)
        ]
        assert len(got.tier) == len(got.rate) == len(got.fx_rate) == len(got) == len(good) - len(issues)


def _facts(a: Accrual) -> tuple[object, ...]:
    return (
        a.row,
        a.net,
        a.fx_rate,
        a.fx_date,
        a.net_eur,
        a.tier,
        a.rate,
        a.rule_version,
        a.rate_basis,
        a.commission,
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**10),  # price in cents, up to the 100 000 000 limit
            st.integers(min_value=-1000, max_value=1000).filter(bool),
            st.sampled_from(["", "services", "hardware"]),
            st.sampled_from(["P1", "P2"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_block_amounts_round_half_even_like_compute(cases: list[tuple[int, int, str, str]]) -> None:
    """Block amounts equal `compute`'s for any two-decimal price and quantity, half-cent ties
    included (0.25 EUR at 2 % is half a cent: 0.00; 0.75 EUR is 1.5 cents: 0.02)."""
    cases = [(25, 1, "", "P2"), (75, 1, "", "P2"), (75, -1, "", "P2"), (25, -1, "", "P2"), *cases]
    tiers = Tiers({("P1", "2026-10"): "Gold"})
    sales = [
        SaleRow(
            i + 2, f"S{i}", pid, "2026-10-02T00:00:00Z", "A", q, Decimal(c).scaleb(-2), "EUR", cat, "", ""
        )
        for i, (c, q, cat, pid) in enumerate(cases)
    ]
    got, issues = Calculator(RULES, tiers, FX).compute_block(SaleBlock.from_rows(sales))
    one = Calculator(RULES, tiers, FX)
    assert not issues
    assert [(a.commission, a.net_eur, a.net) for a in got.accruals()] == [
        (e.commission, e.net_eur, e.net) for e in map(one.compute, sales)
    ]
    assert [a.commission for a in got.accruals()][:4] == [Decimal(0), Decimal("0.02"), Decimal("-0.02"), 0]


# -- the rate table's pure parts -------------------------------------------------------------------
def test_resolve_rate_tier_scope_and_problems() -> None:
    tiers = {("P1", "2026-09"): "Gold", ("P1", "2026-10"): "Gold", ("P3", "2026-10"): "Diamond"}.get

    def tier_of(partner_id: str, month: str) -> str:
        return tiers((partner_id, month)) or ""

    def resolve(
        partner: str, token: str, category: str, ctx: PartnerContext | None = None
    ) -> RateEntry | RateProblem:
        return resolve_rate(HARD_RULES, tier_of, partner, token, category, ctx)

    # a month token reads the version of the 1st; the partner's tier of that month, else the entry tier
    assert resolve("P1", "2026-09", "services") == RateEntry("Gold", Decimal("0.05"), "2026.1", "month")
    assert resolve("P2", "2026-09", "") == RateEntry("Bronze", Decimal("0.02"), "2026.1", "month")
    # a day token reads that day's version: the category bonus of 2026.2, the pilot for its cohort
    assert resolve("P1", "2026-10-16", "services") == RateEntry("Gold", Decimal("0.055"), "2026.2", "month")
    pilot, general = resolve("P2", "2026-10-21", "", PartnerContext("c1")), resolve("P2", "2026-10-21", "")
    assert isinstance(pilot, RateEntry) and pilot.rule_version == "pilot"
    assert isinstance(general, RateEntry) and general.rule_version == "2026.2"
    before = resolve("P1", "2025-12-31", "")
    assert before == RateProblem("sold_at", "no program rules in effect on 2025-12-31", 1)
    unknown = resolve("P3", "2026-10-02", "")
    assert unknown == RateProblem("partner_id", "tier 'Diamond' is not defined in rules 2026.1", 4)


def test_rate_table_interns_entries_and_problems_once() -> None:
    table = RateTable()
    gold = RateEntry("Gold", Decimal("0.04"), "2026.1", "month")
    problem = RateProblem("sold_at", "no program rules in effect on 2025-12-31", 1)
    assert [table.intern(gold), table.intern(problem), table.intern(gold), table.intern(problem)] == [
        0,
        1,
        0,
        1,
    ]
    assert table.rates == [Decimal("0.04"), Decimal(0)]
    assert table.entries[0] == gold and table.entries[1].tier == "" and table.problems == {1: problem}


def test_period_tokens_are_months_unless_a_version_starts_within_the_month() -> None:
    tokens = PeriodTokens(HARD_RULES)
    sold = ["2026-09-30T23:00:00Z", "2026-10-01T00:00:00Z", "2026-10-28T10:00:00Z", "2025-12-31T00:00:00Z"]
    assert tokens.of(sold) == ["2026-09", "2026-10-01", "2026-10-28", "2025-12-31"]
    assert tokens.of(sold[:1]) == ["2026-09"]  # the second call is answered from the cache
