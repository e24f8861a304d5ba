"""Multi-level overrides (issue 10): the downline of every sponsor, and the override accruals a
sponsor earns at a close on its recruits' month net sales (docs/overrides.md)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.earning.records import MonthTotals
from loyalty.incentives.engine import IncentiveResult, Incentives, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual
from loyalty.incentives.overrides import OverrideBonuses, downlines, override_depth, override_levels
from loyalty.kernel.money import to_cents
from loyalty.program.rules import Override, RuleVersion, parse_rules
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
RULES = parse_rules((ROOT / "rules/default-program.yaml").read_text())


# -- downlines -------------------------------------------------------------------------------
def test_downlines_gives_each_sponsor_its_recruits_by_level_then_id() -> None:
    sponsors = {"A": "", "B": "A", "C": "A", "D": "B", "E": "D", "F": "C", "G": "", "H": "B"}
    assert downlines(sponsors, 2) == {
        "A": [("B", 1), ("C", 1), ("D", 2), ("F", 2), ("H", 2)],
        "B": [("D", 1), ("H", 1), ("E", 2)],
        "C": [("F", 1)],
        "D": [("E", 1)],
    }
    assert downlines(sponsors, 1)["A"] == [("B", 1), ("C", 1)]
    assert downlines(sponsors, 3)["A"][-1] == ("E", 3)
    assert downlines(sponsors, 0) == {}


def test_downlines_counts_a_sponsor_missing_from_the_map_and_ignores_a_cycle() -> None:
    # a sponsor that is not itself a key (e.g. a partner of another batch) still has its recruits
    assert downlines({"B": "X"}, 2) == {"X": [("B", 1)]}
    # the registry refuses cycles; should one reach here, nobody becomes its own recruit
    got = downlines({"A": "B", "B": "A", "C": "A"}, 5)
    assert got == {"A": [("B", 1), ("C", 1)], "B": [("A", 1), ("C", 2)]}
    assert downlines({"A": "A"}, 3) == {}


def test_downlines_refuses_a_negative_depth() -> None:
    with pytest.raises(ValueError, match="depth"):
        downlines({"A": ""}, -1)


def test_downlines_of_10000_partners_in_3_levels_is_linear() -> None:
    def tree(n: int) -> dict[str, str]:
        # 10 roots, then every partner recruited by the one with a tenth of its number: 3 levels
        # of recruits under the roots for 10 000 partners
        return {f"P{i:05d}": (f"P{i // 10:05d}" if i >= 10 else "") for i in range(n)}

    def lines_run(sponsors: dict[str, str]) -> int:
        """Python lines executed by `downlines` (and what it calls): a count, not a clock."""
        count = 0

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            nonlocal count
            if event == "line":
                count += 1
            return tracer

        sys.settrace(tracer)
        try:
            downlines(sponsors, 3)
        finally:
            sys.settrace(None)
        return count

    small, big = tree(2_000), tree(10_000)
    got = downlines(big, 3)
    assert sum(len(v) for v in got.values()) == 9_990 + 9_900 + 9_000  # levels 1, 2 and 3
    assert got["P00001"][:3] == [("P00010", 1), ("P00011", 1), ("P00012", 1)]
    assert got["P00001"][-1] == ("P01999", 3)
    assert all(v == sorted(v, key=lambda r: (r[1], r[0])) for v in got.values())
    n_small, n_big = lines_run(small), lines_run(big)
    assert n_big < 6 * n_small  # 5x the partners: ~5x the work, never 25x


# -- rules ------------------------------------------------------------------------------------
def test_override_rules_depth_and_minimum_own_net() -> None:
    o = Override()
    assert (o.max_depth, o.min_own_net_eur) == (2, Decimal(0))
    assert Override(level_pct=[Decimal(1)], max_depth=5).max_depth == 5
    for bad in ({"max_depth": 0}, {"max_depth": 6}, {"min_own_net_eur": "-1"}, {"level_pct": ["-1"]}):
        with pytest.raises(ValidationError):
            Override.model_validate(bad)


def test_levels_honoured_are_the_rates_within_max_depth() -> None:
    three = [Decimal(1), Decimal("0.5"), Decimal("0.25")]
    assert override_levels(RULES) == 2
    assert override_levels(_rules(level_pct=three, max_depth=2)) == 2
    assert override_levels(_rules(level_pct=three, max_depth=4)) == 3
    assert override_levels(_rules(level_pct=[])) == 0
    assert override_depth([RULES, _rules(level_pct=three, max_depth=3)]) == 3
    assert override_depth([]) == 0


# -- override accruals ------------------------------------------------------------------------
class Nets:
    """RecruitNets in memory that records its calls."""

    def __init__(self, nets: Mapping[str, Mapping[str, Decimal]]) -> None:
        self.nets = nets
        self.calls: list[tuple[list[str], str]] = []

    def month_nets(self, partner_ids: Sequence[str], month: str) -> dict[str, Decimal]:
        self.calls.append((list(partner_ids), month))
        return {p: self.nets[p][month] for p in partner_ids if month in self.nets.get(p, {})}


def _rules(**override: Any) -> RuleVersion:
    return RULES.model_copy(
        update={"override": Override.model_validate(RULES.override.model_dump() | override)}
    )


def _month(partner: str, month: str, net: str) -> MonthTotals:
    return MonthTotals(partner, month, Decimal(net), Decimal(0), 1, 0, {})


def _ctx(
    own: str | None, recruits: Sequence[tuple[str, int]], rules: RuleVersion = RULES, period: str = "2026-09"
) -> PartnerPeriod:
    months = [_month("S", "2026-08", "99999")] + ([_month("S", period, own)] if own is not None else [])
    return PartnerPeriod("S", "smb", "", period, rules, months, recruits, {})


def test_a_qualifying_sponsor_earns_each_level_rate_on_its_recruits_month() -> None:
    nets = Nets(
        {
            "P00007": {"2026-09": Decimal("12000.00"), "2026-08": Decimal("5")},
            "P00008": {"2026-09": Decimal("0.50")},  # 1 % = 0.005 -> 0.00 (half-even): no line
            "P00009": {"2026-09": Decimal("1234.50")},
            "P00010": {"2026-08": Decimal("700")},  # nothing this month: no entry, no line
            "P00011": {"2026-09": Decimal("0")},
        }
    )
    recruits = [("P00007", 1), ("P00008", 1), ("P00011", 1), ("P00009", 2), ("P00010", 2)]
    r = OverrideBonuses(nets).evaluate(_ctx("0.01", recruits))
    assert nets.calls == [(["P00007", "P00008", "P00011", "P00009", "P00010"], "2026-09")]
    assert (r.progress, r.awards) == ([], {})
    assert r.accruals == [
        ProgramAccrual(
            line_id="override:L1:P00007:2026-09",
            kind="override",
            period="2026-09",
            earned_on=dt.date(2026, 9, 30),
            amount=Decimal("120.00"),
            rule_version=RULES.version,
            description="override L1 on P00007's 2026-09 net sales EUR 12 000.00 at 1 %",
            trace={
                "source": "P00007",
                "level": "1",
                "month": "2026-09",
                "source_net": "12000.00",
                "rate_pct": "1",
                "sponsor_net": "0.01",
            },
        ),
        ProgramAccrual(
            line_id="override:L2:P00009:2026-09",
            kind="override",
            period="2026-09",
            earned_on=dt.date(2026, 9, 30),
            amount=Decimal("6.17"),  # 1234.50 x 0.5 % = 6.1725
            rule_version=RULES.version,
            description="override L2 on P00009's 2026-09 net sales EUR 1 234.50 at 0.5 %",
            trace={
                "source": "P00009",
                "level": "2",
                "month": "2026-09",
                "source_net": "1234.50",
                "rate_pct": "0.5",
                "sponsor_net": "0.01",
            },
        ),
    ]


def test_a_negative_source_month_claws_back_and_earned_on_is_the_months_last_day() -> None:
    nets = Nets({"R": {"2026-02": Decimal("-850.25")}})
    [line] = OverrideBonuses(nets).evaluate(_ctx("10", [("R", 1)], period="2026-02")).accruals
    assert line.amount == Decimal("-8.50")  # -8.5025 -> -8.50
    assert line.earned_on == dt.date(2026, 2, 28) and line.line_id == "override:L1:R:2026-02"
    assert "EUR -850.25" in line.description


@pytest.mark.parametrize("own", [None, "0", "-5.00"])
def test_a_sponsor_without_positive_own_sales_earns_nothing_not_even_a_clawback(own: str | None) -> None:
    nets = Nets({"R": {"2026-09": Decimal("1000")}, "Q": {"2026-09": Decimal("-1000")}})
    r = OverrideBonuses(nets).evaluate(_ctx(own, [("R", 1), ("Q", 1)]))
    assert r == IncentiveResult([], [], {})
    assert nets.calls == []  # not qualifying: the recruits are not even read


def test_the_minimum_own_net_is_exclusive_and_can_be_switched_off() -> None:
    nets = Nets({"R": {"2026-09": Decimal("1000")}})
    at_min = _rules(min_own_net_eur=Decimal(500))
    assert OverrideBonuses(nets).evaluate(_ctx("500.00", [("R", 1)], at_min)).accruals == []
    assert len(OverrideBonuses(nets).evaluate(_ctx("500.01", [("R", 1)], at_min)).accruals) == 1
    always = _rules(requires_positive_own_sales=False, min_own_net_eur=Decimal(500))
    [line] = OverrideBonuses(nets).evaluate(_ctx(None, [("R", 1)], always)).accruals
    assert line.amount == Decimal("10.00") and line.trace["sponsor_net"] == "0"


def test_levels_beyond_the_rates_or_max_depth_earn_nothing() -> None:
    nets = Nets(
        {"A": {"2026-09": Decimal(100)}, "B": {"2026-09": Decimal(100)}, "C": {"2026-09": Decimal(100)}}
    )
    recruits = [("A", 1), ("B", 2), ("C", 3)]
    three = [Decimal(3), Decimal(2), Decimal(1)]
    depth1 = OverrideBonuses(nets).evaluate(_ctx("1", recruits, _rules(level_pct=three, max_depth=1)))
    assert [a.line_id for a in depth1.accruals] == ["override:L1:A:2026-09"]
    depth5 = OverrideBonuses(nets).evaluate(_ctx("1", recruits, _rules(level_pct=three, max_depth=5)))
    assert [a.amount for a in depth5.accruals] == [Decimal("3.00"), Decimal("2.00"), Decimal("1.00")]
    default = OverrideBonuses(nets).evaluate(_ctx("1", recruits))  # 1 % / 0.5 %: two levels
    assert [a.trace["level"] for a in default.accruals] == ["1", "2"]
    nets.calls.clear()
    assert OverrideBonuses(nets).evaluate(_ctx("1", recruits, _rules(level_pct=[]))).accruals == []
    assert nets.calls == []  # no rates: no read


def test_the_sponsors_own_rule_version_sets_the_rates_and_names_the_lines() -> None:
    pilot = _rules(level_pct=[Decimal(2)]).model_copy(update={"version": "pilot-a"})
    [line] = (
        OverrideBonuses(Nets({"R": {"2026-09": Decimal(50)}})).evaluate(_ctx("1", [("R", 1)], pilot)).accruals
    )
    assert (line.amount, line.rule_version, line.trace["rate_pct"]) == (Decimal("1.00"), "pilot-a", "2")


def test_overrides_compose_with_other_sources_through_incentives() -> None:
    nets = Nets({"R": {"2026-09": Decimal(100)}})
    r = Incentives([OverrideBonuses(nets)]).evaluate(_ctx("1", [("R", 1)]))
    assert [a.line_id for a in r.accruals] == ["override:L1:R:2026-09"]


_ids = st.sampled_from([f"P{i:03d}" for i in range(40)])
_net = st.decimals(min_value=-100_000, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    recruits=st.dictionaries(_ids, st.integers(min_value=1, max_value=5), max_size=30),
    nets=st.dictionaries(_ids, _net, max_size=30),
    own=_net,
    rates=st.lists(st.decimals(min_value=0, max_value=10, places=3), max_size=5),
    depth=st.integers(min_value=1, max_value=5),
)
def test_overrides_are_deterministic_and_sum_to_the_rate_times_each_net(
    recruits: dict[str, int], nets: dict[str, Decimal], own: Decimal, rates: list[Decimal], depth: int
) -> None:
    rules = _rules(level_pct=rates, max_depth=depth)
    store = Nets({p: {"2026-09": n} for p, n in nets.items()})
    pairs = sorted(recruits.items(), key=lambda kv: (kv[1], kv[0]))
    ctx = _ctx(str(own), pairs, rules)
    first = OverrideBonuses(store).evaluate(ctx)
    again = OverrideBonuses(store).evaluate(ctx)
    assert first == again
    ids = [a.line_id for a in first.accruals]
    assert len(set(ids)) == len(ids)
    levels = min(len(rates), depth)
    expected = {
        f"override:L{n}:{p}:2026-09": to_cents(nets[p] * rates[n - 1] / 100)
        for p, n in pairs
        if own > 0 and n <= levels and p in nets
    }
    expected = {k: v for k, v in expected.items() if v != 0}
    assert {a.line_id: a.amount for a in first.accruals} == expected
    assert sum((a.amount for a in first.accruals), Decimal(0)) == sum(expected.values(), Decimal(0))
    for a in first.accruals:
        assert a.amount == a.amount.quantize(Decimal("0.01"))
        assert (a.amount > 0) == (Decimal(a.trace["source_net"]) > 0)
