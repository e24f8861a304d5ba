"""Every partner with anything to report gets a statement each month (PRODUCT §1; issue 9,
point 12): a line, a carried balance, points, a tier in grace. Only a partner with nothing at
all is skipped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyalty.close.header import Decision
from loyalty.close.review import CloseLine
from loyalty.close.statements import statement_due, statements_due
from loyalty.earning.records import MonthTotals

from tests.unit.test_close_service import FRANK, OLGA, World, partner, seed_month, shown, world

D = Decimal


def line(pid: str = "P1", **kw: object) -> CloseLine:
    tiers = {"tier_before": "Bronze", "tier_after": "Bronze"}
    return CloseLine(pid, "2026-09", "close-2026-09", **{**tiers, **kw})  # type: ignore[arg-type]


# -- the rule -----------------------------------------------------------------------------------
def test_nothing_at_all_is_the_only_reason_to_skip() -> None:
    nothing = statement_due(line())
    assert (nothing.due, nothing.reasons) == (False, ())


def test_each_thing_to_report_makes_a_statement_due() -> None:
    cases = {
        "carried balance EUR 30.00": line(carried_in=D("30.00"), carried_out=D("30.00")),
        "negative balance EUR -12.00 carried": line(carried_in=D("-12.00"), carried_out=D("-12.00")),
        "2 lines this month": line(lines=2),
        "tier in grace (1 review below Silver)": line(
            tier_before="Silver", tier_after="Silver", tier_change="grace", below_reviews=1
        ),
        "tier changed (down to Bronze)": line(tier_before="Silver", tier_change="down"),
        "tier in grace (2 reviews below Gold)": line(tier_after="Gold", below_reviews=2, tier_change="hold"),
        "commission matured EUR 4.00": line(matured_now=D("4.00"), carried_out=D("4.00")),
        "payout EUR 80.00": line(carried_in=D("80.00"), payout=D("80.00")),
    }
    for reason, ln in cases.items():
        got = statement_due(ln)
        assert got.due and reason in got.reasons, (reason, got)
    assert statement_due(line(), points=500).reasons == ("500 points",)


def test_the_committed_line_wins_and_a_partner_with_nothing_new_reports_its_reviewed_line() -> None:
    committed = line("P1", lines=1)
    carried = line("P2", carried_in=D("30.00"), carried_out=D("30.00"), dormant=True)
    nothing = line("P3", dormant=True)
    stale = line("P1", lines=7)  # the review of a committed partner: the commit is the truth
    due = statements_due(["P1", "P2", "P3", "P4"], {"P1": committed}, [stale, carried, nothing])
    assert due == [committed, carried]


# -- the Statements step ------------------------------------------------------------------------
def close_month(w: World, period: str, now: dt.datetime) -> str:
    """A whole close, approved by finance; returns the run."""
    run = w.close.start(w.workflow, period, OLGA, False, now).run
    w.close.freeze(period, run)
    manifest = w.close.plan(period, run).manifest
    for b in w.batches(manifest):
        w.close.review(period, run, b)
    w.close.propose(period, run, manifest)
    w.close.request_approval(period, run, f"token-{run}", now)
    w.approvals.approve(FRANK, period, "ok", (), now, **shown(w, period))
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    for b in w.batches(manifest):
        w.close.pay(period, run, b, decision)
    w.bank.bank_files(period, run, manifest, now)
    w.close.recognize(period, run, manifest)
    for b in w.batches(manifest):
        w.close.statements(period, run, b)
    w.close.finish(period, run, now)
    return run


def with_quiet_partners() -> World:
    """The close-service world plus P00005, whose EUR 30 of July commission stays below the
    minimum (carried), and P00006, a Silver partner without sales (in grace at its first review)."""
    w = world()
    iban = "DE89370400440532013000"
    w.store.put_partners(
        [partner("P00005", "Epsilon", iban, "COBADEFFXXX"), partner("P00006", "Zeta", iban, tier="Silver")]
    )
    seed_month(w.store, MonthTotals("P00005", "2026-07", D(1500), D("30.00"), 1, 0, {2: D("30.00")}))
    return w


def test_a_partner_with_only_a_carried_balance_gets_a_statement_every_month() -> None:
    w = with_quiet_partners()
    close_month(w, "2026-08", dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC))
    aug = w.store.close_lines("2026-08", ["P00005"])["P00005"]
    assert (aug.payout, aug.carried_out) == (D(0), D("30.00"))
    close_month(w, "2026-09", dt.datetime(2026, 10, 1, 2, tzinfo=dt.UTC))
    # nothing happened in September: no new record, but the partner still has EUR 30 to report
    assert w.store.close_lines("2026-09", ["P00005"]) == {}
    csv_text = w.blobs.get("statements/P00005/2026-09.csv").decode()
    assert "carried forward EUR,30.00" in csv_text and "carried in EUR,30.00" in csv_text
    assert "below the EUR 50 minimum" in csv_text
    assert b"Commission statement 2026-09" in w.blobs.get("statements/P00005/2026-09.html")
    ready = [n.message for n in w.events.of_type("statement_ready") if n.message["period"] == "2026-09"]
    assert {m["partner_id"] for m in ready} >= {"P00005"}


def test_a_partner_with_only_a_tier_in_grace_gets_a_statement() -> None:
    w = with_quiet_partners()
    close_month(w, "2026-08", dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC))
    zeta = w.store.close_lines("2026-08", ["P00006"])["P00006"]
    assert (zeta.tier_change, zeta.below_reviews, zeta.lines, zeta.carried_out) == ("grace", 1, 0, D(0))
    text = w.blobs.get("statements/P00006/2026-08.csv").decode()
    assert "tier from next month,Silver (grace: below Silver in 1 of 2 reviews" in text


def test_a_partner_with_nothing_at_all_gets_none() -> None:
    w = with_quiet_partners()
    close_month(w, "2026-08", dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC))
    close_month(w, "2026-09", dt.datetime(2026, 10, 1, 2, tzinfo=dt.UTC))
    assert not [k for k in w.blobs.keys("statements/") if k.startswith("statements/P00004/")]
    assert "P00004" not in {n.message["partner_id"] for n in w.events.of_type("statement_ready")}
