"""The oracle's reference calculator against small programs computed by hand (one rule per test).

Every expected number below is worked out in the comment next to it, not by the calculator.
"""

from __future__ import annotations

import copy
import pathlib
from decimal import Decimal

import pytest

from tests.oracle.generate import generate
from tests.oracle.handmade import BASE, PERIODS, column, partner, rules, write
from tests.oracle.inputs import Program, month_of, parse_month
from tests.oracle.reference import Closes, reference

# --- FX and line rounding ---------------------------------------------------------------------


def test_fx_rounds_each_line_once_from_the_unrounded_eur_amount(tmp_path: pathlib.Path) -> None:
    rates = ["2026-01-02,USD,1.0850", "2026-01-05,USD,1.2000"]
    sales = [
        # Sunday Jan 4 has no rate: Jan 2's 1.0850. 2.35 / 1.085 = 2.16589861… → net 2.17;
        # services at Bronze = 2 + 1 = 3 %: 2.16589861… x 0.03 = 0.06497… → 0.06
        # (rounding the EUR amount first would give 2.17 x 0.03 = 0.0651 → 0.07).
        ["S1", "A", "2026-01-04", "1", "2.35", "USD", "services"],
        # 3 x 33.33 = 99.99 USD / 1.085 = 92.15668202… → 92.16; x 0.02 = 1.84313… → 1.84
        ["S2", "A", "2026-01-04", "3", "33.33", "USD"],
        # Jan 5 has its own rate: 120 / 1.2 = 100.00 → 2.00
        ["S3", "A", "2026-01-05", "1", "120.00", "USD"],
        # EUR, three decimals: 10.125 → 10.12 (half-even); 10.125 x 0.02 = 0.2025 → 0.20
        ["S4", "A", "2026-01-06", "1", "10.125"],
        # before the first rate: held, counted nowhere
        ["S5", "A", "2026-01-01", "1", "1000.00", "USD"],
    ]
    result = reference(write(tmp_path, [partner("A")], sales, rates=rates), ["2026-01"])
    january = result["A"]["2026-01"]
    assert january["net_sales"] == "204.45"  # 2.17 + 92.16 + 100.00 + 10.12
    assert january["commission"] == "4.10"  # 0.06 + 1.84 + 2.00 + 0.20


# --- returns, holding, minimum payout, clawback -----------------------------------------------

HOLD_30 = [rules(holding_days=30, minimum_payout_eur="50")]  # both return-maturity tests


def test_return_reverses_at_the_rate_of_its_original_sale(tmp_path: pathlib.Path) -> None:
    sales = [
        # Silver from the registry, services: 3 + 1 = 4 % of 1 000 = 40.00
        ["S1", "A", "2026-01-05", "10", "100.00", "EUR", "services"],
        # after two reviews below Silver (Jan, Feb: trailing 1 000) A is Bronze for March,
        # yet the return of 4 units reverses at 4 %: -400 x 0.04 = -16.00 (not -12.00 at 3 %)
        ["R1", "A", "2026-03-10", "-4", "100.00", "EUR", "services", "", "S1"],
    ]
    tmp = write(tmp_path, [partner("A", starting_tier="Silver")], sales)
    result = reference(tmp, PERIODS[:3])
    assert column(result, "A", "tier_for_sales") == ["Silver", "Silver", "Bronze"]
    assert column(result, "A", "commission") == ["40.00", "0.00", "-16.00"]
    assert column(result, "A", "net_sales") == ["1000.00", "0.00", "-400.00"]


def test_holding_matures_on_the_edge_day_and_late_january_two_closes_later(
    tmp_path: pathlib.Path,
) -> None:
    sales = [
        ["S1", "A", "2026-01-01", "1", "50.00"],  # Jan 1 + 30 = Jan 31 = cut-off: Jan close, 1.00
        ["S2", "A", "2026-01-29", "1", "100.00"],  # Jan 29 + 30 = Feb 28 = cut-off: Feb, 2.00
        ["S3", "A", "2026-01-30", "1", "200.00"],  # Jan 30 + 30 = Mar 1: March close, 4.00
    ]
    tmp = write(tmp_path, [partner("A")], sales, versions=[rules(holding_days=30)])
    result = reference(tmp, PERIODS[:3])
    assert column(result, "A", "commission") == ["7.00", "0.00", "0.00"]
    assert column(result, "A", "matured_now") == ["1.00", "2.00", "4.00"]
    assert column(result, "A", "payout") == ["1.00", "2.00", "4.00"]


def test_minimum_payout_carries_small_balances_forward(tmp_path: pathlib.Path) -> None:
    sales = [[f"S{m}", "A", f"2026-0{m}-10", "1", "1000.00"] for m in (1, 2, 3)]  # 20.00 each
    tmp = write(tmp_path, [partner("A")], sales, versions=[rules(minimum_payout_eur="50")])
    result = reference(tmp, PERIODS[:3])
    assert column(result, "A", "matured_now") == ["20.00", "20.00", "20.00"]
    # 20 < 50 carried; 40 < 50 carried; 60 ≥ 50 paid
    assert column(result, "A", "payout") == ["0.00", "0.00", "60.00"]
    assert column(result, "A", "carried_out") == ["20.00", "40.00", "0.00"]


def test_return_after_payout_claws_back_at_its_own_close(tmp_path: pathlib.Path) -> None:
    sales = [
        ["S1", "A", "2026-01-01", "50", "100.00"],  # 5 000 x 2 % = 100.00; Jan 1 + 30 = Jan 31: paid
        # -100.00, holding from S1's Jan 1 (matured already): due at once, at the February close
        # (its own Feb 10 + 30 = Mar 12 would have waited for March)
        ["R1", "A", "2026-02-10", "-50", "100.00", "EUR", "hardware", "", "S1"],
        ["S2", "A", "2026-03-01", "100", "100.00"],  # 10 000 x 2 % = 200.00; Mar 1 + 30 = Mar 31
    ]
    result = reference(write(tmp_path, [partner("A")], sales, HOLD_30), PERIODS[:3])
    assert column(result, "A", "net_sales") == ["5000.00", "-5000.00", "10000.00"]
    assert column(result, "A", "matured_now") == ["100.00", "-100.00", "200.00"]
    assert column(result, "A", "payout") == ["100.00", "0.00", "100.00"]  # -100 + 200 = 100 ≥ 50
    assert column(result, "A", "carried_out") == ["0.00", "-100.00", "0.00"]


@pytest.mark.parametrize("original", ["S1", ""])  # "": S1 is the latest earlier sale of the SKU
def test_return_inside_the_holding_window_nets_out_with_its_sale(
    tmp_path: pathlib.Path, original: str
) -> None:
    sales = [
        ["S1", "A", "2026-01-20", "100", "100.00"],  # 10 000 x 2 % = 200.00; Jan 20 + 30 = Feb 19
        # -3 000 x 2 % = -60.00, net sales in February (its own month), holding from Jan 20 too:
        # both mature at the February close, 200 - 60 = 140 (not 200 in Feb, then -60 in March)
        ["R1", "A", "2026-02-05", "-30", "100.00", "EUR", "hardware", "", original],
    ]
    result = reference(write(tmp_path, [partner("A")], sales, HOLD_30), PERIODS[:3])
    assert column(result, "A", "net_sales") == ["10000.00", "-3000.00", "0.00"]
    assert column(result, "A", "commission") == ["200.00", "-60.00", "0.00"]
    assert column(result, "A", "matured_now") == ["0.00", "140.00", "0.00"]
    assert column(result, "A", "payout") == ["0.00", "140.00", "0.00"]
    assert column(result, "A", "carried_out") == ["0.00", "0.00", "0.00"]


# --- tiers ------------------------------------------------------------------------------------


def test_upgrade_at_once_applies_to_next_month(tmp_path: pathlib.Path) -> None:
    sales = [
        ["S1", "A", "2026-01-10", "300", "100.00"],  # 30 000 ≥ 25 000: Silver from February
        ["S2", "A", "2026-02-10", "10", "100.00"],  # 1 000 x 3 % = 30.00
    ]
    result = reference(write(tmp_path, [partner("A")], sales), PERIODS[:2])
    assert column(result, "A", "tier_after") == ["Silver", "Silver"]
    assert column(result, "A", "tier_for_sales") == ["Bronze", "Silver"]
    assert column(result, "A", "commission") == ["600.00", "30.00"]


def test_grace_recovery_then_downgrade_to_the_qualifying_tier(tmp_path: pathlib.Path) -> None:
    sales = [
        ["S1", "A", "2026-01-10", "500", "100.00"],  # trailing 50 000: below Gold once (grace)
        ["S2", "A", "2026-02-10", "600", "100.00"],  # trailing 110 000: Gold again, count reset
        # March 110 000 (Gold); April 60 000 (below once: grace); May 0 (twice: straight to Bronze)
    ]
    result = reference(write(tmp_path, [partner("A", starting_tier="Gold")], sales), PERIODS[:5])
    assert column(result, "A", "tier_after") == ["Gold", "Gold", "Gold", "Gold", "Bronze"]


def test_platinum_needs_the_certification(tmp_path: pathlib.Path) -> None:
    sales = [
        ["S1", "A", "2026-01-10", "2600", "100.00"],  # 260 000 ≥ 250 000 for both partners
        ["S2", "B", "2026-01-10", "2600", "100.00"],
    ]
    partners = [partner("A", certified="CERT-SALES:1"), partner("B", certified="OTHER:3")]
    result = reference(write(tmp_path, partners, sales), ["2026-01"])
    assert result["A"]["2026-01"]["tier_after"] == "Platinum"
    assert result["B"]["2026-01"]["tier_after"] == "Gold"


# --- targets ----------------------------------------------------------------------------------

LEVELS = [70, 80, 100, 110, 120, 150]  # attainment %, goal 10 000 → sales 100 x attainment
BANDS = "80:50|100:100|120:150"
EXPECTED = {
    # flat: v of the highest band reached
    "flat": ["0.00", "500.00", "1000.00", "1000.00", "1500.00", "1500.00"],
    # step: Σ max(0, min(att, next) - a) x v / 100; 110: 20x.5 + 10x1 = 20 %; 150: 10 + 20 + 45
    "step": ["0.00", "0.00", "100.00", "200.00", "300.00", "750.00"],
    # interpolated: 110 lies halfway between 100 and 150 % pay: 125 %; above 120: 150 %
    "interpolated": ["0.00", "500.00", "1000.00", "1250.00", "1500.00", "1500.00"],
}


def test_target_bands_flat_step_interpolated(tmp_path: pathlib.Path) -> None:
    partners, sales, targets = [], [], []
    for method in EXPECTED:
        targets.append(f"T-{method},segment,{method},net_sales,,month,2026-01,10000,,1000,{BANDS}")
        targets[-1] += f",{method}"
        for level in LEVELS:
            pid = f"{method}-{level}"
            partners.append(partner(pid, segment=method))
            sales.append([f"S-{pid}", pid, "2026-01-10", str(level), "100.00"])
    result = reference(write(tmp_path, partners, sales, targets=targets), ["2026-01"])
    for method, expected in EXPECTED.items():
        got = [result[f"{method}-{level}"]["2026-01"]["bonus"] for level in LEVELS]
        assert got == expected, method


def test_quarter_target_is_awarded_at_the_quarter_close_and_new_customers_count_once(
    tmp_path: pathlib.Path,
) -> None:
    sales = [
        ["S1", "A", "2026-01-10", "10", "100.00", "EUR", "hardware", "C1"],
        ["S2", "A", "2026-01-11", "10", "100.00", "EUR", "hardware", "C2"],
        ["S3", "A", "2026-02-10", "10", "100.00", "EUR", "hardware", "C1"],  # C1 is not new
        ["S4", "A", "2026-02-11", "10", "100.00", "EUR", "hardware", "C3"],
        ["S5", "A", "2026-03-11", "10", "100.00", "EUR", "hardware", "C4"],
    ]
    targets = [
        # Q1 net 5 000 of 5 000 → 100 % → 300.00, at the March close only
        "TQ,partner,A,net_sales,,quarter,2026-Q1,5000,,300,,flat",
        # February: one new customer (C3) of goal 2 → 50 % → below 100:100 → 0
        "TN2,partner,A,new_customers,,month,2026-02,2,,100,,flat",
        # January: C1 and C2 → 100 % → 100.00
        "TN1,partner,A,new_customers,,month,2026-01,2,,100,,flat",
    ]
    result = reference(write(tmp_path, [partner("A")], sales, targets=targets), PERIODS[:3])
    assert column(result, "A", "bonus") == ["100.00", "0.00", "300.00"]


# --- overrides --------------------------------------------------------------------------------

TREE = [
    partner("A"),
    partner("B", sponsor="A"),
    partner("C", sponsor="B"),
    partner("D", sponsor="C"),
    partner("E", sponsor="A"),
]
TREE_SALES = [
    ["A1", "A", "2026-01-10", "10", "100.00"],  # A: 1 000 in January, nothing in February
    ["B1", "B", "2026-01-10", "100", "100.00"],  # B: 10 000
    ["C1", "C", "2026-01-10", "200", "100.00"],  # C: 20 000
    ["D1", "D", "2026-01-10", "400", "100.00"],  # D: 40 000
    ["E1", "E", "2026-01-10", "50", "100.00"],  # E: 5 000
    ["B2", "B", "2026-02-10", "100", "100.00"],  # B: 10 000 in February (A does not qualify)
    ["A3", "A", "2026-03-10", "10", "100.00"],  # March: A 1 000, E returns 3 000 (-3 000)
    ["E3", "E", "2026-03-10", "-30", "100.00", "EUR", "hardware", "", "E1"],
]


def test_overrides_two_levels_non_qualifying_and_negative_months(tmp_path: pathlib.Path) -> None:
    result = reference(write(tmp_path, TREE, TREE_SALES), PERIODS[:3])
    # A, Jan: L1 B 1 % x 10 000 = 100 + E 1 % x 5 000 = 50; L2 C 0.5 % x 20 000 = 100; D is L3
    # A, Feb: own net 0 → nothing; A, Mar: E -3 000 x 1 % = -30.00
    assert column(result, "A", "override") == ["250.00", "0.00", "-30.00"]
    # B, Jan: C 200 + D 0.5 % x 40 000 = 200; B, Feb: C and D sold nothing
    assert column(result, "B", "override") == ["400.00", "0.00", "0.00"]
    assert column(result, "C", "override") == ["400.00", "0.00", "0.00"]  # D 1 % x 40 000
    assert column(result, "D", "override") == ["0.00", "0.00", "0.00"]


def test_override_depth_is_the_smaller_of_levels_and_max_depth(tmp_path: pathlib.Path) -> None:
    three = {"level_pct": ["1", "0.5", "0.25"], "requires_positive_own_sales": True}
    capped = write(tmp_path / "capped", TREE, TREE_SALES, [rules(override={**three, "max_depth": 2})])
    deep = write(tmp_path / "deep", TREE, TREE_SALES, [rules(override={**three, "max_depth": 3})])
    assert reference(capped, ["2026-01"])["A"]["2026-01"]["override"] == "250.00"
    # level 3 now counts: D 0.25 % x 40 000 = 100 → 350.00
    assert reference(deep, ["2026-01"])["A"]["2026-01"]["override"] == "350.00"


# --- rule versions ----------------------------------------------------------------------------


def test_pilot_version_selection(tmp_path: pathlib.Path) -> None:
    pilot_tiers = copy.deepcopy(BASE["tiers"])
    pilot_tiers[0]["commission_pct"] = "2.5"
    pilot_tiers[1]["threshold_eur"] = "1500"  # Silver at 1 500 for the pilot
    later_tiers = copy.deepcopy(BASE["tiers"])
    later_tiers[0]["commission_pct"] = "2.2"
    versions = [
        rules(),
        rules(
            version="P1",
            effective_from="2026-02-01",
            scope={"cohort": "pilot-a"},
            tiers=pilot_tiers,
            minimum_payout_eur="100",
        ),
        rules(version="V3", effective_from="2026-03-01", tiers=later_tiers),
    ]
    sales = [[f"{p}{m}", p, f"2026-0{m}-10", "10", "100.00"] for p in "XY" for m in (1, 2, 3)]
    partners = [partner("X", cohort="Pilot-A"), partner("Y")]
    result = reference(write(tmp_path, partners, sales, versions), PERIODS[:3])
    # January V1 for both; February the pilot for X only; March the newer general V3 wins
    assert column(result, "X", "rule_version") == ["V1", "P1", "V3"]
    assert column(result, "Y", "rule_version") == ["V1", "V1", "V3"]
    # X: 2 % · 2.5 % (pilot Bronze) · Silver 3 % (the pilot's Feb review: 2 000 ≥ 1 500)
    assert column(result, "X", "commission") == ["20.00", "25.00", "30.00"]
    assert column(result, "X", "tier_after") == ["Bronze", "Silver", "Silver"]
    assert column(result, "Y", "commission") == ["20.00", "20.00", "22.00"]
    # X's February close uses the pilot's minimum payout (100): 25.00 is carried
    assert column(result, "X", "payout") == ["20.00", "0.00", "55.00"]
    assert column(result, "Y", "payout") == ["20.00", "20.00", "22.00"]


# --- the generated program --------------------------------------------------------------------


def _tree(root: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_is_deterministic(tmp_path: pathlib.Path) -> None:
    assert generate(tmp_path / "a") == PERIODS
    assert generate(tmp_path / "b") == PERIODS
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    generate(tmp_path / "c", seed=11)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_reference_on_the_generated_program_is_deterministic_and_reconciles(
    tmp_path: pathlib.Path,
) -> None:
    periods = generate(tmp_path)
    first, second = reference(tmp_path, periods), reference(tmp_path, periods)
    assert first == second
    program = Program(tmp_path)
    lines = Closes(program, [parse_month(p) for p in periods]).lines
    assert 2000 <= len(lines) <= 5000
    assert len(first) == len(program.partners) == 40
    by_periods = sum(Decimal(first[pid][p]["commission"]) for pid in first for p in periods)
    assert by_periods == sum((ln.commission for ln in lines), Decimal(0))
    net = sum(Decimal(first[pid][p]["net_sales"]) for pid in first for p in periods)
    assert net == sum((ln.net_eur for ln in lines), Decimal(0))
    assert all(month_of(ln.sold) in {parse_month(p) for p in periods} for ln in lines)
    for figures in first.values():  # carried_out(P) = carried_out(P-1) + matured_now - payout
        carried = Decimal(0)
        for period in periods:
            f = figures[period]
            carried += Decimal(f["matured_now"]) - Decimal(f["payout"])
            assert Decimal(f["carried_out"]) == carried


def test_generated_program_exercises_each_rule(tmp_path: pathlib.Path) -> None:
    result = reference(tmp_path, generate(tmp_path))
    assert column(result, "P006", "tier_after") == ["Gold"] * 6  # Apr below once, May recovers
    assert column(result, "P007", "tier_after")[3:] == ["Gold", "Silver", "Silver"]
    assert column(result, "P008", "tier_after")[2] == "Gold"  # Platinum sales, no CERT-SALES
    assert column(result, "P009", "tier_after")[2] == "Platinum"
    # P005: Feb 10.00 (matures in March) - the March return of the paid Jan sale (200.00) at the
    # March close = -190.00 carried through April; May's 15 000 x 2 % = 300.00 → 110.00 paid
    assert column(result, "P005", "carried_out")[2:5] == ["-190.00", "-190.00", "0.00"]
    assert column(result, "P005", "payout")[4] == "110.00"
    assert Decimal(column(result, "P001", "override")[3]) == 0  # idle April: non-qualifying
    assert Decimal(column(result, "P005", "net_sales")[2]) < 0  # a recruit's negative month
    assert column(result, "P015", "rule_version") == ["2026.1"] * 2 + ["2026.1-pilot-a"] * 4
    assert any(Decimal(column(result, p, "carried_out")[0]) > 0 for p in result)  # small carried
