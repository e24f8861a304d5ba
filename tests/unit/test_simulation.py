"""What-if simulation (issue 10) on the in-memory adapters: the live program is built the way
production builds it (uploads, then each month's close with finance's approval), then replayed
through candidate rules in isolated worlds."""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.adapters.memory.simworld import MemorySimWorld
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion, parse_rules
from loyalty.simulation.history import sim_rules, sponsor_batches
from loyalty.simulation.report import Summary
from loyalty.simulation.service import SimulationError, Simulator, Targets

from tests.conftest import RULES
from tests.unit.close_world import close, sale, upload

D = Decimal
REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,enterprise,DE,,2026-01-01,pilot,,Gold,DE02120300000000202051,BYLADEM1001\n"
    b"P00003,Gamma Trade,finance@gamma.example,smb,DE,P00001,2026-01-01,pilot,,,,\n"
)
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
TARGETS = (  # a quarter per segment (awarded at September's close, trued up in October), a month
    b"target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,"
    b"version,effective_from\n"
    b"Q3-SMB,segment,smb,net_sales,,quarter,2026-Q3,20000,,400,80:50|100:100|150:200,interpolated,T1,2026-07-01\n"
    b"OCT-P2,partner,P00002,units,,month,2026-10,2,,150,,flat,T1,2026-07-01\n"
)


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap() -> Iterator[None]:
    """The simulator collects garbage after each batch world (memory bounded by one batch, as on a
    worker that holds one). In this test process the heap also holds every earlier test's
    objects and each collection walks them all; freezing them first makes a collection cost
    what it costs in production."""
    gc.freeze()
    yield
    gc.unfreeze()


def live() -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    c.load("targets/2026.csv", TARGETS)
    return c


def month_rows(m: str) -> list[list[Any]]:
    """A month of sales: a tier-moving month for P00001 in August, services, a return with and
    one without its original, and a late line of the month before."""
    big = "30000.00" if m == "2026-08" else "900.00"
    rows = [
        sale(f"{m}-1", f"{m}-03", price=big),
        sale(f"{m}-2", f"{m}-20", qty=2, price="450.00", category="services"),
        sale(f"{m}-3", f"{m}-05", price="1200.00", partner="P00002"),
        sale(f"{m}-4", f"{m}-06", price="300.00", partner="P00003", sku="SKU-9"),
        sale(f"{m}-R1", f"{m}-25", qty=-1, price="450.00", category="services", original=f"{m}-2"),
    ]
    if m != MONTHS[0]:
        prev = MONTHS[MONTHS.index(m) - 1]
        rows.append(sale(f"{m}-L", f"{prev}-28", price="100.00", partner="P00002"))  # late
        rows.append(sale(f"{m}-R2", f"{m}-10", qty=-1, price="300.00", partner="P00003", sku="SKU-9"))
    return rows


def build(rows: Any = month_rows, rejected: list[int] | None = None) -> MemoryContainer:
    c = live()
    for m in MONTHS:
        got = rows(m)
        for pid in sorted({r[1] for r in got}):
            results = upload(c, [r for r in got if r[1] == pid], pid)
            if rejected is not None:
                rejected.append(sum(r.rejected for r in results))
        close(c, m)
    return c


def candidate(**changes: Any) -> RuleVersion:
    return parse_rules(RULES.decode()).model_copy(update=changes)


def richer() -> RuleVersion:
    base = parse_rules(RULES.decode())
    tiers = [t.model_copy(update={"commission_pct": t.commission_pct + 1}) for t in base.tiers]
    return base.model_copy(update={"version": "2027.1", "tiers": tiers})


def simulate(
    c: MemoryContainer, rules: RuleVersion, start: str, end: str, size: int = 200
) -> tuple[list[Any], Summary]:
    sim = Simulator(c.store, MemorySimWorld, batch_size=size)
    results = list(sim.run(rules, start, end))
    summary = Summary()
    for r in results:
        summary.add(r)
    return results, summary


def snapshot(c: MemoryContainer) -> str:
    """Everything the live store and bucket hold, as bytes."""
    s, b = c.store, c.blobs
    state = {k: v for k, v in vars(s).items() if k not in {"cipher", "token_cipher"}}
    return repr(copy.deepcopy(state)) + repr(sorted(vars(b).items(), key=lambda kv: kv[0]))


@pytest.fixture(scope="module")
def history() -> MemoryContainer:
    return build()


def test_the_rules_in_force_reproduce_every_close_exactly(history: MemoryContainer) -> None:
    results, summary = simulate(history, parse_rules(RULES.decode()), "2026-08", "2026-10")
    assert [r.partner_id for r in results] == ["P00001", "P00002", "P00003"]
    for r in results:
        assert r.periods == [] and not r.changed, r.to_json()
        assert r.actual.cost != 0  # each partner had commission mature in the window
    assert summary.changed == 0 and all(D(v) == 0 for v in summary.to_json()["delta"].values())
    acme = results[0]
    # the figures are the live ones: August's 30 000 moved Acme up, payouts were made
    assert acme.actual.moves == ["2026-08 up Silver"] and acme.actual.payout > 0
    assert acme.actual.commission_accrued == sum(
        (m.commission for m in history.store.month_totals("P00001") if m.month >= "2026-08"), D(0)
    )


def test_a_later_start_takes_tiers_balances_and_months_from_history(history: MemoryContainer) -> None:
    results, _ = simulate(history, parse_rules(RULES.decode()), "2026-10", "2026-10")
    assert all(not r.changed for r in results), [r.to_json() for r in results if r.changed]
    assert results[0].actual.tier == "Silver"


def test_richer_rates_cost_more_by_segment_and_cohort(history: MemoryContainer) -> None:
    results, summary = simulate(history, richer(), "2026-08", "2026-10")
    out = summary.to_json()
    assert D(out["delta"]["commission_accrued"]) > 0 and D(out["delta"]["cost"]) > 0
    acme = results[0]
    # one percentage point more on every line (returns included)
    net = sum((m.net_eur for m in history.store.month_totals("P00001") if m.month >= "2026-08"), D(0))
    assert acme.simulated.commission_accrued - acme.actual.commission_accrued == net / 100
    seg = out["cost_by_segment"]
    assert set(seg) == {"enterprise", "smb"} and seg["smb"]["partners"] == 2
    assert D(seg["smb"]["delta"]) + D(seg["enterprise"]["delta"]) == D(out["delta"]["cost"])
    assert set(out["cost_by_cohort"]) == {"(none)", "pilot"}
    assert results[0].periods and results[0].to_json()["delta"]["cost"] == str(results[0].cost_delta)


def test_the_live_store_and_bucket_are_untouched_and_a_rerun_is_identical(history: MemoryContainer) -> None:
    before = snapshot(history)
    first = [r.to_json() for r in simulate(history, richer(), "2026-08", "2026-10")[0]]
    again = [r.to_json() for r in simulate(history, richer(), "2026-08", "2026-10")[0]]
    small = [r.to_json() for r in simulate(history, richer(), "2026-08", "2026-10", size=1)[0]]
    assert snapshot(history) == before
    assert json.dumps(first) == json.dumps(again)
    # batches of one sponsor tree each: the same figures (in batch order)
    assert sorted(json.dumps(r) for r in small) == sorted(json.dumps(r) for r in first)


def test_only_finished_closes_can_be_compared(history: MemoryContainer) -> None:
    sim = Simulator(history.store, MemorySimWorld)
    with pytest.raises(SimulationError, match="2026-11 not closed"):
        list(sim.run(richer(), "2026-10", "2026-11"))
    with pytest.raises(SimulationError, match="before --from"):
        list(sim.run(richer(), "2026-10", "2026-09"))


def test_the_candidate_is_in_effect_from_the_window_whatever_its_date() -> None:
    live_v = parse_rules(RULES.decode())
    later = richer().model_copy(update={"effective_from": live_v.effective_from.replace(year=2027)})
    book = sim_rules([live_v], later, "2026-09")
    assert [(v.version, v.effective_from.isoformat()) for v in book] == [
        ("2026.1", "2026-01-01"),
        ("2027.1", "2026-09-01"),
    ]
    inside = live_v.model_copy(
        update={"version": "2026.2", "effective_from": live_v.effective_from.replace(month=10)}
    )
    pilot = inside.model_copy(update={"version": "2026.3", "scope": {"cohort": "pilot"}})
    pilot = RuleVersion.model_validate(
        {**inside.model_dump(), "version": "2026.3", "scope": {"cohort": "pilot"}}
    )
    kept = [v.version for v in sim_rules([live_v, inside, pilot], later, "2026-09")]
    assert kept == ["2026.1", "2026.3", "2027.1"]  # a later general version is replaced, a pilot kept


def test_sponsor_trees_stay_in_one_batch() -> None:
    def p(pid: str, sponsor: str = "") -> Partner:
        import datetime as dt

        return Partner(pid, pid, "", "smb", "DE", sponsor, dt.date(2026, 1, 1), "")

    parts = [p("A1"), p("B1"), p("B2", "B1"), p("B3", "B2"), p("C1"), p("A2", "A1")]
    got = [[x.partner_id for x in b] for b in sponsor_batches(parts, 2)]
    assert got == [["A1", "A2"], ["B1", "B2", "B3"], ["C1"]]


# -- the property: the rules in force reproduce the actual accruals exactly --------------------
line = st.tuples(
    st.sampled_from(["P00001", "P00002", "P00003"]),
    st.integers(1, 28),
    st.integers(-2, 3).filter(lambda q: q != 0),
    st.sampled_from(["40.00", "333.33", "1250.50", "9000.00", "27000.00"]),
    st.sampled_from(["hardware", "services"]),
    st.sampled_from(["SKU-1", "SKU-2"]),
    st.booleans(),  # a return names its original (the partner's latest sale of the SKU), or not
    st.booleans(),  # late: dated in the month before (once that one is closed)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(st.lists(st.lists(line, max_size=6), min_size=4, max_size=4), st.sampled_from(MONTHS[1:]))
def test_property_simulating_the_rules_in_force_reproduces_the_actual_closes(
    plan: list[list[Any]], start: str
) -> None:
    sold: dict[tuple[str, str], str] = {}
    n = iter(range(1, 10**6))

    def rows(m: str) -> list[list[Any]]:
        i = MONTHS.index(m)
        out = []
        for pid, day, qty, price, cat, sku, named, late in plan[i]:
            month = MONTHS[i - 1] if late and i else m
            sid = f"S{next(n)}"
            orig = sold.get((pid, sku), "") if qty < 0 and named else ""
            out.append(sale(sid, f"{month}-{day:02d}", qty, price, pid, sku, orig, cat))
            if qty > 0:
                sold[(pid, sku)] = sid
        return out

    c = build(rows)  # rejected lines included: they were not accrued live and are not replayed
    results, summary = simulate(c, parse_rules(RULES.decode()), start, MONTHS[-1], size=2)
    assert summary.changed == 0, [r.to_json() for r in results if r.changed]
    assert len(results) == 3


def test_a_line_corrected_after_its_month_closed_is_flagged_approximate() -> None:
    c = live()
    upload(c, [sale("X1", "2026-07-03", price="900.00")])
    close(c, "2026-07")
    upload(c, [sale("X1", "2026-07-03", price="1000.00"), sale("X2", "2026-08-04")])  # a correction
    close(c, "2026-08")
    stored = {s.sale_id: s for s in c.store.partner_sales("P00001")}["X1"]
    assert stored.prev_version and stored.period == "2026-08"
    results, summary = simulate(c, parse_rules(RULES.decode()), "2026-07", "2026-08")
    assert results[0].approximate == 1 and summary.to_json()["approximate_lines"] == 1


def test_progress_is_reported_per_batch(history: MemoryContainer) -> None:
    seen: list[tuple[int, int, int, int]] = []
    sim = Simulator(history.store, MemorySimWorld, batch_size=1)
    results = list(
        sim.run(
            richer(),
            "2026-10",
            "2026-10",
            progress=lambda p: seen.append((p.batches_done, p.batches, p.partners_done, p.partners)),
        )
    )
    # P00003 is P00001's recruit: one batch for their tree, one for P00002
    assert seen == [(1, 2, 2, 3), (2, 2, 3, 3)] and len(results) == 3


def test_a_targets_file_is_loaded_in_each_world_and_its_errors_stop_the_simulation(
    history: MemoryContainer,
) -> None:
    sim = Simulator(history.store, MemorySimWorld)
    with pytest.raises(SimulationError, match=r"targets file t\.csv: "):
        list(sim.run(richer(), "2026-10", "2026-10", Targets("t.csv", b"not,a\ntargets,file\n")))


def test_the_cli_streams_json_and_refuses_a_bad_rules_file(
    history: MemoryContainer, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from loyalty_cli.simulate import run

    good, bad = tmp_path / "r.yaml", tmp_path / "bad.yaml"
    good.write_text(richer().model_dump_json())
    bad.write_text("program: x\nversion: 1\n")
    args = argparse.Namespace(
        rules=str(good), targets=None, start="2026-09", end="2026-10", batch_size=2, json=True
    )
    import io

    out = io.StringIO()
    assert run(history.store, args, out) == 0
    report = json.loads(out.getvalue())
    assert report["rules"] == "2027.1" and [p["partner_id"] for p in report["partners"]] == [
        "P00001",
        "P00003",
        "P00002",
    ]
    assert D(report["summary"]["delta"]["cost"]) == sum(D(p["delta"]["cost"]) for p in report["partners"])
    args.rules = str(bad)
    assert run(history.store, args, io.StringIO()) == 2
    assert "cannot simulate: rules file" in capsys.readouterr().err


def test_certifications_from_training_are_replayed_with_the_history() -> None:
    """A partner at Platinum through a training certificate stays Platinum in a replay of the
    rules in force (the worlds are seeded with the partner's completions)."""
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    c.load(
        "training/t.csv",
        b"partner_id,person_id,course,completed_on,certificate_id\nP00001,ivan,CERT-SALES,2026-07-20,CS-1\n",
    )
    for m in ("2026-08", "2026-09", "2026-10"):
        upload(c, [sale(f"s-{m}", f"{m}-10", 1, "100000.00")])
        close(c, m)
    assert c.store.tier_for("P00001", "2026-11") == "Platinum"
    results, summary = simulate(c, parse_rules(RULES.decode()), "2026-08", "2026-10")
    assert summary.changed == 0, [r.to_json() for r in results if r.changed]
