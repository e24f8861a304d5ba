"""The close's steps on the in-memory adapters: the whole run in milliseconds, step by step."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from loyalty.adapters.memory import MemoryBlobs, MemoryCipher, MemoryNotifier, MemoryStore, MemoryWorkflow
from loyalty.close.approvals import ApprovalService
from loyalty.close.bankfiles import Debtor, end_to_end_id
from loyalty.close.bankrun import BankFileService
from loyalty.close.header import CloseMeta, Decision
from loyalty.close.ledger import Ledger, payable_account
from loyalty.close.review import CloseLine
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.close.steps import CloseService
from loyalty.earning.records import MonthDelta, MonthTotals, SaleRecord
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
from loyalty.program.registry import Partner
from loyalty.program.rules import parse_rules

RULES = parse_rules((Path(__file__).resolve().parents[2] / "rules/default-program.yaml").read_text())
D = Decimal
S = CloseStatus
NOW = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)
OLGA = Caller("olga", frozenset({OPERATOR}))
FRANK = Caller("frank", frozenset({FINANCE}))
FIONA = Caller("fiona", frozenset({FINANCE}))
SCHEDULE = Caller("schedule", frozenset())
PARTNERS = ["P00001", "P00002", "P00003", "P00004"]


def partner(pid: str, name: str, iban: str = "", bic: str = "", tier: str = "") -> Partner:
    return Partner(
        pid, name, f"{pid}@x.example", "smb", "DE", "", dt.date(2026, 1, 1), "", (), tier, (), iban, bic
    )


def sale(pid: str, sid: str, day: str, net: str, commission: str) -> SaleRecord:
    return SaleRecord(
        pid, sid, day, "SKU-1", 1, D(net), "EUR", "hardware", "C1", "", D(net), None, "", D(net),
        "Bronze", D("0.02"), RULES.version, "month", D(commission), "v1", "", "u1:2",
    )  # fmt: skip


def seed_month(store: MemoryStore, t: MonthTotals) -> None:
    """Month totals through the earning's own writer port (one chunk's delta)."""
    delta = MonthDelta(
        t.net_eur, t.commission, t.lines, t.returns, dict(t.by_day), {f"C{i}" for i in range(t.new_customers)}
    )
    store.apply_month_delta(t.partner_id, t.month, f"seed-{t.month}", delta)


@dataclass
class World:
    store: MemoryStore = field(default_factory=lambda: MemoryStore(MemoryCipher()))
    blobs: MemoryBlobs = field(default_factory=MemoryBlobs)
    events: MemoryNotifier = field(default_factory=MemoryNotifier)
    finance: MemoryNotifier = field(default_factory=MemoryNotifier)
    workflow: MemoryWorkflow = field(default_factory=MemoryWorkflow)

    @property
    def close(self) -> CloseService:
        return CloseService(self.store, self.blobs, self.events, self.finance, batch_size=2)

    @property
    def bank(self) -> BankFileService:
        return BankFileService(
            self.store, self.blobs, Debtor("Program", "DE89370400440532013000", "COBADEFFXXX")
        )

    @property
    def approvals(self) -> ApprovalService:
        return ApprovalService(
            self.store,
            self.blobs,
            self.finance,
            self.workflow,
            dt.timedelta(hours=24),
            dt.timedelta(hours=72),
        )

    def batches(self, manifest: str) -> list[str]:
        return self.close.files.batches(manifest)


def world() -> World:
    """Four partners: P00001 earns 600 (and Silver), P00002 60 (no BIC), P00003 100 but has no
    bank details, P00004 nothing at all (dormant)."""
    w = World()
    w.store.put_rule_version(RULES, "rules/default-program.yaml")
    w.store.put_partners(
        [
            partner("P00001", "Acme Systems", "DE89370400440532013000", "COBADEFFXXX"),
            partner("P00002", "Beta IT", "FR1420041010050500013M02606", tier="Silver"),
            partner("P00003", "Gamma Trade"),
            partner("P00004", "Delta Shop", "DE02120300000000202051", "BYLADEM1001"),
        ]
    )
    for pid, net, comm in (
        ("P00001", "30000", "600.00"),
        ("P00002", "2000", "60.00"),
        ("P00003", "5000", "100.00"),
    ):
        seed_month(w.store, MonthTotals(pid, "2026-07", D(net), D(comm), 1, 0, {1: D(comm)}, 1))
    w.store.put_sales([sale("P00001", "A1", "2026-08-03", "100.00", "2.00")])
    seed_month(w.store, MonthTotals("P00001", "2026-08", D("100.00"), D("2.00"), 1, 0, {3: D("2.00")}))
    return w


def to_approval(w: World, period: str = "2026-08", caller: Caller = OLGA) -> tuple[str, str]:
    """Start, freeze, plan, review every batch, propose and ask finance: (run, manifest)."""
    run = w.close.start(w.workflow, period, caller, False, NOW).run
    w.close.freeze(period, run)
    manifest = w.close.plan(period, run).manifest
    for b in w.batches(manifest):
        w.close.review(period, run, b)
    w.close.propose(period, run, manifest)
    w.close.request_approval(period, run, f"token-{run}", NOW)
    return run, manifest


def shown(w: World, period: str = "2026-08") -> dict[str, str]:
    """What finance was shown and names in its approval: the run and the proposal digest."""
    m = w.store.close_meta(period)
    assert m is not None
    return {"run": m.run, "digest": m.proposal_digest}


def pay_out(w: World, run: str, manifest: str, period: str = "2026-08") -> None:
    """What the state machine does once finance approved: pay, bank files, statements, finish."""
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    for b in w.batches(manifest):
        w.close.pay(period, run, b, decision)
    w.bank.bank_files(period, run, manifest, NOW)
    w.close.recognize(period, run, manifest)
    for b in w.batches(manifest):
        w.close.statements(period, run, b)
    w.close.finish(period, run, NOW)


def approved_run(w: World, exclude: tuple[str, ...] = ()) -> tuple[str, str]:
    run, manifest = to_approval(w)
    w.approvals.approve(FRANK, "2026-08", "checked", exclude, NOW, **shown(w))
    pay_out(w, run, manifest)
    return run, manifest


def meta(w: World, period: str = "2026-08") -> CloseMeta:
    m = w.store.close_meta(period)
    assert m is not None
    return m


# -- start -------------------------------------------------------------------------------------
def test_start_records_the_run_and_a_second_start_starts_nothing() -> None:
    w = world()
    first = w.close.start(w.workflow, "2026-08", SCHEDULE, False, NOW)
    assert (first.run, first.status, first.started) == ("close-2026-08", S.STARTED, True)
    assert first.to_json()["execution"].endswith(":close-2026-08")
    assert w.workflow.executions == {"close-2026-08": {"period": "2026-08", "run": "close-2026-08"}}
    w.close.freeze("2026-08", first.run)
    again = w.close.start(w.workflow, "2026-08", OLGA, False, NOW)
    assert again.to_json() == {
        "period": "2026-08",
        "run": "close-2026-08",
        "status": "frozen",
        "started": False,
    }
    assert [e.action for e in w.store.audit_log("2026-08")] == ["close started"]


def test_a_start_recorded_but_not_launched_is_launched_again() -> None:
    w = world()
    w.close.start(w.workflow, "2026-08", OLGA, False, NOW)
    w.workflow.executions.clear()  # the crash came between recording the start and starting it
    again = w.close.start(w.workflow, "2026-08", OLGA, False, NOW)
    assert not again.started and again.execution and "close-2026-08" in w.workflow.executions


def test_start_refuses_other_roles_open_months_and_reruns_without_the_flag() -> None:
    w = world()
    with pytest.raises(CloseError) as no_role:
        w.close.start(w.workflow, "2026-08", Caller("eve", frozenset({"sales-rep"})), False, NOW)
    with pytest.raises(CloseError, match="not over yet") as open_month:
        w.close.start(w.workflow, "2026-09", OLGA, False, NOW)
    assert (no_role.value.status, open_month.value.status) == (403, 400)
    run = w.close.start(w.workflow, "2026-08", OLGA, False, NOW).run
    w.close.outcome("2026-08", run, "States.TaskFailed", "boom")
    with pytest.raises(CloseError, match="--rerun"):
        w.close.start(w.workflow, "2026-08", OLGA, False, NOW)
    rerun = w.close.start(w.workflow, "2026-08", OLGA, True, NOW)
    assert (rerun.run, meta(w).attempt, meta(w).ended) == ("close-2026-08-r2", 2, None)


# -- freeze, plan, review, propose --------------------------------------------------------------
def test_freeze_locks_the_period_and_closes_run_in_order() -> None:
    w = world()
    run = w.close.start(w.workflow, "2026-08", OLGA, False, NOW).run
    assert not w.close.freeze("2026-08", run).already_closed
    assert w.store.frozen_periods() == {"2026-08"} and meta(w).status == S.FROZEN
    with pytest.raises(CloseError, match="not the current run"):
        w.close.freeze("2026-08", "close-2026-08-r7")
    w.store.save_close_meta(CloseMeta("2026-06", S.PAID, "close-2026-06"))
    with pytest.raises(CloseError, match="close 2026-07 first"):
        w.close.freeze("2026-08", run)


def test_plan_writes_sorted_batches_and_a_manifest() -> None:
    w = world()
    run = w.close.start(w.workflow, "2026-08", OLGA, False, NOW).run
    plan = w.close.plan("2026-08", run)
    assert (plan.partners, plan.batches) == (4, 2)
    first = json.loads(w.blobs.get(w.batches(plan.manifest)[0]))
    assert [p["id"] for p in first] == ["P00001", "P00002"]
    assert first[0] == {
        "id": "P00001",
        "name": "Acme Systems",
        "segment": "smb",
        "certified": {},
        "has_bank": True,
        "starting_tier": "",
        "cohort": "",
        "recruits": [],
        "opt_out": False,
        "lang": "en",  # the statement's language, from the registry country (DE)
        "country": "DE",  # analytics: net sales by country
        "joined": "2026-01",  # analytics: the retention cohort
    }


def test_review_and_propose_write_files_and_commit_nothing() -> None:
    w = world()
    run, manifest = to_approval(w)
    reviewed = [w.close.review("2026-08", run, b) for b in w.batches(manifest)]
    assert [(r.partners, r.dormant) for r in reviewed] == [(2, 0), (2, 1)]  # P00004 is dormant
    assert w.store.close_lines("2026-08", PARTNERS) == {} and w.store.ledger_entries(period="2026-08") == []
    proposal = json.loads(w.blobs.get(meta(w).proposal or ""))
    assert proposal["totals"]["payout"] == "660.00" and proposal["payees"] == 2
    assert proposal["anomalies"] == [
        {"partner_id": "P00003", "anomaly": "no bank details on file: payout held and carried forward"}
    ]
    assert meta(w).summary is not None and meta(w).summary_json()["tier_moves"] == {
        "grace": 1,
        "hold": 2,
        "up": 1,
    }


def test_request_approval_keeps_the_token_and_tells_finance_without_it() -> None:
    w = world()
    run, _ = to_approval(w)
    assert meta(w).status == S.AWAITING_APPROVAL and w.store.close_token("2026-08") == f"token-{run}"
    [asked] = w.finance.of_type("approval_requested")
    assert asked.message["summary"]["totals"]["payout"] == "660.00" and asked.message["started_by"] == "olga"
    assert "token" not in json.dumps(asked.message)
    w.store.save_close_meta(CloseMeta("2026-08", S.APPROVED, run))
    with pytest.raises(CloseError, match="not waiting"):
        w.close.request_approval("2026-08", run, "other", NOW)


# -- pay, bank files, statements, finish --------------------------------------------------------
def test_an_approved_run_pays_once_and_the_books_balance() -> None:
    w = world()
    approved_run(w)
    lines = w.store.close_lines("2026-08", PARTNERS)
    assert sorted(lines) == ["P00001", "P00002", "P00003"]  # the dormant partner gets no record
    assert [(lines[p].payout, lines[p].carried_out) for p in ("P00001", "P00002", "P00003")] == [
        (D("600.00"), D("0.00")),
        (D("60.00"), D("0.00")),
        (D("0"), D("100.00")),
    ]
    assert w.store.tier_for("P00001", "2026-09") == "Silver"
    ledger = Ledger(w.store.ledger_entries(period="2026-08"))
    assert ledger.trial_balance() == 0 and ledger.balances()["asset:bank"] == -D("660.00")
    assert ledger.balances()[payable_account("P00003")] == -D("100.00")
    bank = w.blobs.get("payouts/2026-08/close-2026-08/payouts.csv").decode().splitlines()
    e2e = {p: end_to_end_id("2026-08", p) for p in ("P00001", "P00002")}
    assert bank[1:] == [
        f"P00001,Acme Systems,600.00,EUR,DE89370400440532013000,COBADEFFXXX,{e2e['P00001']}",
        f"P00002,Beta IT,60.00,EUR,FR1420041010050500013M02606,,{e2e['P00002']}",
    ]
    assert "<CtrlSum>660.00</CtrlSum>" in w.blobs.get("payouts/2026-08/close-2026-08/pain001.xml").decode()
    assert (meta(w).status, meta(w).paid_total, meta(w).payees) == (S.PAID, "660.00", 2)


def test_statements_and_partner_notices_for_committed_lines_only() -> None:
    w = world()
    approved_run(w)
    assert w.blobs.keys("statements/") == [
        f"statements/{p}/2026-08.{ext}" for p in ("P00001", "P00002", "P00003") for ext in ("csv", "html")
    ]
    rows = list(csv.reader(io.StringIO(w.blobs.get("statements/P00001/2026-08.csv").decode())))
    assert rows[1][0] == "A1" and rows[2][0] == "TOTAL" and rows[2][13] == "2.00"
    assert sorted(n.message["partner_id"] for n in w.events.of_type("payout_sent")) == ["P00001", "P00002"]
    [tier] = w.events.of_type("tier_changed")
    assert (tier.message["partner_id"], tier.message["to"], tier.message["applies_from"]) == (
        "P00001",
        "Silver",
        "2026-09",
    )
    [done] = w.finance.of_type("close_finished")
    assert done.message["paid_total"] == "660.00" and len(done.message["files"]) == 2


def test_re_running_the_steps_changes_nothing() -> None:
    w = world()
    run, manifest = approved_run(w)
    before = (dict(w.store.lines), dict(w.store.entries), dict(w.store.payouts))
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    again = [w.close.pay("2026-08", run, b, decision) for b in w.batches(manifest)]
    assert [(p.committed, p.already, p.payments) for p in again] == [(0, 2, 2), (0, 1, 0)]
    assert (dict(w.store.lines), dict(w.store.entries), dict(w.store.payouts)) == before
    assert w.close.finish("2026-08", run, NOW).status == S.PAID
    assert w.close.freeze("2026-08", run).already_closed
    assert len(w.finance.of_type("close_finished")) == 1
    assert [e.action for e in w.store.audit_log("2026-08")].count("close finished") == 1


def test_a_commit_an_earlier_attempt_made_is_found_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    run, manifest = to_approval(w)
    w.approvals.approve(FRANK, "2026-08", "ok", (), NOW, **shown(w))
    first_batch = w.batches(manifest)[0]
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    assert w.close.pay("2026-08", run, first_batch, decision).committed == 2
    entries = dict(w.store.entries)
    # a retry whose first read comes before the earlier attempt's commits are visible
    real, stale = w.store.close_lines, [True]

    def close_lines(period: str, ids: Sequence[str]) -> dict[str, CloseLine]:
        if stale.pop() if stale else False:
            return {}
        return real(period, ids)

    monkeypatch.setattr(w.store, "close_lines", close_lines)
    paid = w.close.pay("2026-08", run, first_batch, decision)
    assert (paid.committed, paid.already, paid.payments) == (0, 2, 2)
    assert w.store.entries == entries


def test_finance_exclusions_carry_the_balance_forward() -> None:
    w = world()
    approved_run(w, exclude=("P00001",))
    acme = w.store.close_lines("2026-08", ["P00001"])["P00001"]
    assert (acme.state, acme.payout, acme.carried_out) == ("excluded", D("0"), D("600.00"))
    assert acme.payout_reason == "excluded by finance (frank); carried forward"
    assert w.store.payout("P00001", "2026-08") is None
    assert (
        w.blobs.get("payouts/2026-08/close-2026-08/payouts.csv").decode().count("\n") == 2
    )  # header + P00002
    assert [n.message["partner_id"] for n in w.events.of_type("payout_sent")] == ["P00002"]


def test_outcome_records_why_a_run_ended_once() -> None:
    w = world()
    run, _ = to_approval(w)
    w.approvals.reject(FIONA, "2026-08", "volumes look wrong")
    assert w.close.outcome("2026-08", run, "Approval.Rejected", "rejected by fiona").status == S.REJECTED
    assert meta(w).ended is None  # already recorded by the rejection
    assert w.close.outcome("2026-08", run, "States.Timeout", "").status == S.TIMED_OUT
    assert meta(w).status == S.REJECTED
    w2 = world()
    run2 = w2.close.start(w2.workflow, "2026-08", OLGA, False, NOW).run
    w2.close.outcome("2026-08", run2, "States.TaskFailed", "x" * 600)
    m = meta(w2)
    assert (m.status, m.ended, len(m.reason or "")) == (S.FAILED, "States.TaskFailed", 500)
    assert w2.store.audit_log("2026-08")[-1].action == "run failed"
