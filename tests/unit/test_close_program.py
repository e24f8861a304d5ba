"""Program accruals (bonuses, overrides) through the close (issue 10): held, matured, booked to
their own expense accounts, paid once, listed on the statement, covered by the proposal digest.
The incentive source is a test double that returns fixed lines."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from loyalty.close.bankfiles import end_to_end_id
from loyalty.close.batches import BatchPartner
from loyalty.close.header import Decision
from loyalty.close.invariants import position, problems
from loyalty.close.ledger import Ledger
from loyalty.close.position import PositionService
from loyalty.close.review import CloseLine
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.close.steps import CloseService
from loyalty.incentives.engine import IncentiveResult, Incentives, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.program.registry import Partner

from tests.unit.test_close_money import STEPS, bank_payments, run_close
from tests.unit.test_close_service import PARTNERS, World, meta, world

D = Decimal
S = CloseStatus


def accrual(
    line_id: str, kind: str, period: str, earned_on: str, amount: str, description: str = ""
) -> ProgramAccrual:
    return ProgramAccrual(
        line_id=line_id,
        kind=kind,
        period=period,
        earned_on=dt.date.fromisoformat(earned_on),
        amount=D(amount),
        rule_version="2026.1",
        description=description or f"{kind} {line_id}",
        trace={"target": line_id, "attainment": "1.0500", "formula": "=1+1"},
    )


def progress(target: str, interval: str, actual: str, text: str) -> TargetProgress:
    return TargetProgress(
        target_id=target,
        interval=interval,
        metric="net_sales",
        goal=D("10000"),
        goal_total=D("30000"),
        actual=D(actual),
        attainment=(D(actual) / D("30000")).quantize(D("0.0001")),
        to_go=max(D("30000") - D(actual), D(0)),
        days_left=30,
        projected_bonus=D(0),
        text=text,
    )


@dataclass
class FixedLines:
    """A test-double incentive source: fixed lines and progress per (partner, period)."""

    lines: dict[tuple[str, str], list[ProgramAccrual]] = field(default_factory=dict)
    progress: dict[tuple[str, str], list[TargetProgress]] = field(default_factory=dict)
    awards: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)
    seen: list[PartnerPeriod] = field(default_factory=list)

    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult:
        self.seen.append(ctx)
        key = (ctx.partner_id, ctx.period)
        return IncentiveResult(
            list(self.lines.get(key, [])), list(self.progress.get(key, [])), dict(self.awards.get(key, {}))
        )


@dataclass
class ProgramWorld(World):
    source: FixedLines = field(default_factory=FixedLines)
    downlines: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def close(self) -> CloseService:
        def downline(partners: Sequence[Partner]) -> Mapping[str, Sequence[tuple[str, int]]]:
            return {
                p.partner_id: self.downlines[p.partner_id] for p in partners if p.partner_id in self.downlines
            }

        return CloseService(
            self.store,
            self.blobs,
            self.events,
            self.finance,
            batch_size=2,
            incentives=Incentives([self.source]),
            downline=downline,
        )


def program_world() -> ProgramWorld:
    """`world()`'s four partners (P00001 matures 600 at the close of 2026-08, P00002 60, P00003
    100 without bank details, P00004 nothing) with a test-double incentive source."""
    base = world()
    return ProgramWorld(base.store, base.blobs, base.events, base.finance, base.workflow)


def lines_of(w: World, period: str) -> dict[str, CloseLine]:
    return w.store.close_lines(period, PARTNERS)


def statement(w: World, period: str, partner: str, ext: str = "csv") -> str:
    return w.blobs.get(f"statements/{partner}/{period}.{ext}").decode()


# -- the engine -----------------------------------------------------------------------------------
def test_lines_and_progress_round_trip_through_json() -> None:
    a = accrual("target:T1:2026-Q3", "bonus", "2026-09", "2026-09-30", "-12.34")
    assert ProgramAccrual.from_json(json.loads(json.dumps(a.to_json()))) == a
    p = progress("T1", "2026-Q3", "24375", "EUR 5 625.00 to go")
    assert TargetProgress.from_json(json.loads(json.dumps(p.to_json()))) == p
    with pytest.raises(ValueError, match="kind"):
        accrual("x", "points", "2026-09", "2026-09-30", "1.00")


def test_incentives_concatenate_sources_merge_awards_and_refuse_duplicate_ids() -> None:
    one = FixedLines(
        {("P1", "2026-09"): [accrual("a", "bonus", "2026-09", "2026-09-30", "1.00")]},
        awards={("P1", "2026-09"): {"T1@2026-Q3": D(1)}},
    )
    two = FixedLines(
        {("P1", "2026-09"): [accrual("b", "override", "2026-09", "2026-09-30", "2.00")]},
        awards={("P1", "2026-09"): {"T2@2026-09": D(2)}},
    )
    w = program_world()
    rules = w.store.rule_versions()[0]
    ctx = PartnerPeriod("P1", "smb", "", "2026-09", rules, [], [], {})
    got = Incentives([one, two]).evaluate(ctx)
    assert [a.line_id for a in got.accruals] == ["a", "b"]
    assert got.awards == {"T1@2026-Q3": D(1), "T2@2026-09": D(2)}
    assert Incentives(()).evaluate(ctx) == IncentiveResult([], [], {})
    with pytest.raises(ValueError, match="duplicate line ids: a"):
        Incentives([one, one]).evaluate(ctx)


# -- holding, maturing, clawback, ledger ---------------------------------------------------------
def test_a_bonus_is_held_and_paid_at_the_close_whose_cut_off_passes_its_holding() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [
        accrual("target:T1:2026-08", "bonus", "2026-08", "2026-08-31", "200.00")
    ]
    run_close(w, "2026-08")
    aug = lines_of(w, "2026-08")["P00001"]
    assert (aug.bonus_eur, aug.bonus_matured_now, aug.program_lines) == (D("200.00"), D(0), 1)
    assert aug.program_pending == [["2026-08-31", "bonus", "200.00"]]
    assert (aug.commission_matured_now, aug.matured_now, aug.payout) == (
        D("600.00"),
        D("600.00"),
        D("600.00"),
    )
    run_close(w, "2026-09")  # 2026-08-31 + 30 days = 2026-09-30: the cut-off of 2026-09
    sep = lines_of(w, "2026-09")["P00001"]
    assert (sep.bonus_eur, sep.bonus_matured_now, sep.program_pending) == (D(0), D("200.00"), [])
    assert (sep.commission_matured_now, sep.matured_now) == (D("2.00"), D("202.00"))
    assert sep.payout == D("202.00") and sep.program_matured_total == D("200.00")
    assert sep.matured_total == D("802.00")


def test_a_negative_override_claws_back_on_its_own_expense_account() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [
        accrual("override:L1:P00004:2026-07", "override", "2026-08", "2026-07-31", "-40.00"),
        accrual("target:T1:2026-07", "bonus", "2026-08", "2026-07-31", "100.00"),
    ]
    run_close(w, "2026-08")
    line = lines_of(w, "2026-08")["P00001"]
    assert (line.override_eur, line.override_matured_now) == (D("-40.00"), D("-40.00"))
    assert (line.bonus_matured_now, line.matured_now, line.payout) == (D("100.00"), D("660.00"), D("660.00"))
    books = Ledger(w.store.ledger_entries(partner_id="P00001"))
    assert books.trial_balance() == 0
    bal = books.balances()
    assert (bal["expense:commission"], bal["expense:bonus"], bal["expense:override"]) == (
        D("600.00"),
        D("100.00"),
        D("-40.00"),
    )
    [claw] = [e for e in books.entries if e.credit == "expense:override"]
    assert claw.debit == "liability:partner:P00001" and claw.amount == D("40.00")
    assert "clawed back" in claw.memo


def test_the_ledger_balances_and_the_invariant_holds_across_three_closes() -> None:
    w = program_world()
    src = w.source.lines
    src[("P00001", "2026-08")] = [accrual("t:a", "bonus", "2026-08", "2026-08-31", "150.00")]
    src[("P00002", "2026-08")] = [accrual("o:a", "override", "2026-08", "2026-07-31", "30.00")]
    src[("P00001", "2026-09")] = [accrual("o:b", "override", "2026-09", "2026-09-30", "-20.00")]
    src[("P00004", "2026-10")] = [accrual("t:c", "bonus", "2026-10", "2026-09-30", "80.00")]
    for period in ("2026-08", "2026-09", "2026-10"):
        run_close(w, period)
        assert meta(w, period).status == S.PAID
    books = Ledger(e for per in ("2026-08", "2026-09", "2026-10") for e in w.store.ledger_entries(period=per))
    assert books.trial_balance() == 0
    bal = books.balances()
    assert bal["expense:bonus"] == D("230.00") and bal["expense:override"] == D("10.00")
    for pid in PARTNERS:
        entries = w.store.ledger_entries(partner_id=pid)
        history = w.store.close_history(pid, "2026-11", limit=3)
        for line in history:
            before = [e for e in entries if e.period < line.period]
            assert problems(line, position(pid, before)) == [], (pid, line.period)
        if history:
            assert position(pid, entries).matured == history[0].matured_total
    p4 = lines_of(w, "2026-10")["P00004"]
    assert (p4.bonus_matured_now, p4.payout) == (D("80.00"), D("80.00"))


def test_a_partner_with_only_program_accruals_or_progress_is_not_dormant() -> None:
    w = program_world()
    w.source.progress[("P00004", "2026-08")] = [progress("T1", "2026-Q3", "0", "nothing yet")]
    run_close(w, "2026-08")
    p4 = lines_of(w, "2026-08")["P00004"]
    assert not p4.dormant and p4.targets[0]["target_id"] == "T1"
    w.source.progress[("P00004", "2026-09")] = w.source.progress[("P00004", "2026-08")]
    run_close(w, "2026-09")  # the same progress and nothing else: nothing new to record
    assert "P00004" not in lines_of(w, "2026-09")


# -- crash and re-run, tampering ------------------------------------------------------------------
@pytest.mark.parametrize("upto", STEPS)
def test_a_crash_after_any_step_and_a_re_run_pay_program_accruals_exactly_once(upto: str) -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [accrual("t:1", "bonus", "2026-08", "2026-07-31", "200.00")]
    w.source.lines[("P00004", "2026-08")] = [accrual("o:1", "override", "2026-08", "2026-07-31", "75.00")]
    run_close(w, "2026-08", upto=upto)
    run_close(w, "2026-08", rerun=True)
    assert meta(w).status == S.PAID
    lines = lines_of(w, "2026-08")
    assert lines["P00001"].payout == D("800.00") and lines["P00004"].payout == D("75.00")
    owed = Counter(
        (end_to_end_id("2026-08", p), f"{ln.payout:.2f}") for p, ln in lines.items() if ln.payout > 0
    )
    assert bank_payments(w, "2026-08") == owed
    bal = Ledger(w.store.ledger_entries(period="2026-08")).balances()
    assert (bal["asset:bank"], bal["expense:bonus"], bal["expense:override"]) == (
        -D("935.00"),
        D("200.00"),
        D("75.00"),
    )
    assert "t:1" in statement(w, "2026-08", "P00001") and "o:1" in statement(w, "2026-08", "P00004")


def test_an_edited_program_file_makes_pay_fail() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [accrual("t:1", "bonus", "2026-08", "2026-07-31", "200.00")]
    run_close(w, "2026-08", upto="approve", crash=False)
    m = meta(w)
    first = w.batches(m.manifest or "")[0]
    key = first.replace("/batches/", "/program/")
    items = json.loads(w.blobs.get(key))
    items[0]["amount"] = "2000.00"
    w.blobs.put(key, json.dumps(items).encode(), "application/json")
    with pytest.raises(CloseError, match="changed after the proposal was made"):
        w.close.pay("2026-08", m.run, first, Decision.from_json(w.workflow.succeeded[-1][1]))
    assert lines_of(w, "2026-08") == {}


# -- statements and proposal ------------------------------------------------------------------------
def test_the_statement_lists_bonuses_overrides_and_target_progress_safely() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [
        accrual("target:<b>T1</b>:2026-Q3", "bonus", "2026-08", "2026-08-31", "200.00"),
        accrual("override:L1:P00004:2026-08", "override", "2026-08", "2026-08-31", "12.50", "=1+1"),
    ]
    w.source.progress[("P00001", "2026-08")] = [progress("T1", "2026-Q3", "24375", "EUR 5 625.00 to go")]
    run_close(w, "2026-08")
    csv_text = statement(w, "2026-08", "P00001")
    assert "Bonuses and overrides" in csv_text and "Targets" in csv_text
    assert "override:L1:P00004:2026-08" in csv_text and "EUR 5 625.00 to go" in csv_text
    assert "'=1+1" in csv_text and ",=1+1" not in csv_text  # formula-safe cells
    html_text = statement(w, "2026-08", "P00001", "html")
    assert "&lt;b&gt;T1&lt;/b&gt;" in html_text and "<b>T1</b>" not in html_text
    assert "<h2>Bonuses and overrides</h2>" in html_text and "<h2>Targets</h2>" in html_text
    assert "Rule version 2026.1" in html_text


def test_the_proposal_shows_bonus_and_override_totals_and_figures_per_cohort() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [accrual("t:1", "bonus", "2026-08", "2026-08-31", "200.00")]
    w.source.lines[("P00002", "2026-08")] = [accrual("o:1", "override", "2026-08", "2026-08-31", "5.00")]
    run_close(w, "2026-08", upto="propose", crash=False)
    proposal = json.loads(w.blobs.get(meta(w).proposal or ""))
    assert (proposal["totals"]["bonus"], proposal["totals"]["override"]) == ("200.00", "5.00")
    assert proposal["by_cohort"][""]["bonus"] == "200.00"


def test_the_plan_keeps_each_sponsor_s_recruits_and_the_review_hands_them_on() -> None:
    w = program_world()
    w.downlines["P00001"] = [("P00002", 1), ("P00004", 2)]
    run_close(w, "2026-08", upto="plan", crash=False)
    batch = w.close.files.batch(w.batches(f"close/2026-08/{meta(w).run}/manifest.json")[0])
    assert batch[0].recruits == (("P00002", 1), ("P00004", 2)) and batch[1].recruits == ()
    old = {k: v for k, v in batch[0].to_json().items() if k not in {"cohort", "recruits"}}
    assert BatchPartner.from_json(old).recruits == ()  # a batch file from before still loads
    run_close(w, "2026-08", rerun=True)
    [ctx] = [c for c in w.source.seen if c.partner_id == "P00001"]
    assert list(ctx.recruits) == [("P00002", 1), ("P00004", 2)]
    assert [m.month for m in ctx.months] == ["2026-07", "2026-08"]


def test_awards_are_carried_to_the_next_close() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [accrual("t:1", "bonus", "2026-08", "2026-08-31", "200.00")]
    w.source.awards[("P00001", "2026-08")] = {"T1@2026-08": D("200.00")}
    run_close(w, "2026-08")
    assert lines_of(w, "2026-08")["P00001"].awards == {"T1@2026-08": "200.00"}
    run_close(w, "2026-09")
    [ctx] = [c for c in w.source.seen if c.partner_id == "P00001" and c.period == "2026-09"]
    assert ctx.awarded == {"T1@2026-08": D("200.00")}


def test_a_close_line_from_before_program_accruals_still_loads() -> None:
    old = {
        "partner_id": "P1",
        "period": "2026-07",
        "run": "r",
        "matured_now": "12.00",
        "matured_total": "12.00",
    }
    line = CloseLine.from_json(old)
    assert line.commission_matured_now == D("12.00") and line.program_pending == [] and line.awards == {}
    again = CloseLine.from_json(json.loads(json.dumps(line.to_json())))
    assert again == line


def test_the_position_counts_held_and_matured_bonuses_and_overrides() -> None:
    w = program_world()
    w.source.lines[("P00001", "2026-08")] = [
        accrual("t:1", "bonus", "2026-08", "2026-08-31", "200.00"),
        accrual("o:1", "override", "2026-08", "2026-07-31", "50.00"),
    ]
    run_close(w, "2026-08")  # the override matured and was paid (650); the bonus is held
    svc = PositionService(w.store)
    sep = svc.position("P00001", dt.date(2026, 9, 15))
    assert (sep.held, sep.payable, sep.paid) == (D("200.00"), D("2.00"), D("650.00"))
    assert (sep.program_held, sep.program_matured) == (D("200.00"), D("50.00"))
    assert sep.earned == D("602.00") + D("250.00")
    octo = svc.position("P00001", dt.date(2026, 10, 1))  # Aug 31 + 30 days: payable now
    assert (octo.held, octo.payable, octo.program_matured) == (D(0), D("202.00"), D("250.00"))
    assert octo.to_json()["of_which_bonuses_and_overrides_eur"] == {"held": "0.00", "matured": "250.00"}
