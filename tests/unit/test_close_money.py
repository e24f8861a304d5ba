"""Money integrity of the close (issue 9): closes strictly in order, the per-partner payout
invariant before any commit, and bank files that are immutable and never re-issued by a re-run
(points 1 and 3), on the in-memory adapters."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from loyalty.close.bankfiles import end_to_end_id
from loyalty.close.header import Decision
from loyalty.close.ledger import Ledger
from loyalty.close.review import CloseLine, ledger_entries
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.program.rules import RuleVersion

from tests.unit.test_close_service import FRANK, OLGA, PARTNERS, RULES, World, meta, shown, world

D = Decimal
S = CloseStatus
LATER = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
NS = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"


def run_close(w: World, period: str, upto: str = "", rerun: bool = False, crash: bool = True) -> str:
    """A whole close run through its steps, stopping after the step `upto` (a crash: the run
    fails, unless `crash` is False: the run is left where it stands)."""
    run = w.close.start(w.workflow, period, OLGA, rerun, LATER).run
    steps: list[tuple[str, Callable[[], object]]] = []
    plan: dict[str, str] = {}

    def add(name: str, fn: Callable[[], object]) -> None:
        steps.append((name, fn))

    add("freeze", lambda: w.close.freeze(period, run))
    add("plan", lambda: plan.update(manifest=w.close.plan(period, run).manifest))
    add("review", lambda: [w.close.review(period, run, b) for b in w.batches(plan["manifest"])])
    add("propose", lambda: w.close.propose(period, run, plan["manifest"]))
    add("request", lambda: w.close.request_approval(period, run, f"token-{run}", LATER))
    add("approve", lambda: w.approvals.approve(FRANK, period, "ok", (), LATER, **shown(w, period)))
    add("pay-1", lambda: _pay(w, period, run, plan["manifest"], 0))
    add("pay", lambda: [_pay(w, period, run, plan["manifest"], i) for i in range(1, 99)])
    add("bank", lambda: w.bank.bank_files(period, run, plan["manifest"], LATER))
    add("recognize", lambda: w.close.recognize(period, run, plan["manifest"]))
    add("statements", lambda: [w.close.statements(period, run, b) for b in w.batches(plan["manifest"])])
    add("finish", lambda: w.close.finish(period, run, LATER))
    for name, fn in steps:
        fn()
        if name == upto:
            if crash:
                w.close.outcome(period, run, "States.TaskFailed", f"crashed after {name}")
            break
    return run


def _pay(w: World, period: str, run: str, manifest: str, index: int) -> None:
    batches = w.batches(manifest)
    if index < len(batches):
        w.close.pay(period, run, batches[index], Decision.from_json(w.workflow.succeeded[-1][1]))


def bank_payments(w: World, period: str) -> Counter[tuple[str, str]]:
    """(EndToEndId, amount) of every transfer in every pain.001 file of the period."""
    out: Counter[tuple[str, str]] = Counter()
    for key in w.blobs.keys(f"payouts/{period}/"):
        if key.endswith("pain001.xml"):
            for tx in ET.fromstring(w.blobs.get(key)).iter(f"{NS}CdtTrfTxInf"):
                out[
                    (
                        tx.findtext(f"{NS}PmtId/{NS}EndToEndId") or "",
                        tx.findtext(f"{NS}Amt/{NS}InstdAmt") or "",
                    )
                ] += 1
    return out


def with_payouts(version: str = RULES.version, **settings: object) -> RuleVersion:
    payouts = RULES.payouts.model_copy(update=settings)
    return RULES.model_copy(update={"payouts": payouts, "version": version})


# -- point 1: closes strictly in order ----------------------------------------------------------
def test_an_earlier_period_after_a_later_close_is_refused_and_pays_nothing_again() -> None:
    w = world()
    run_close(w, "2026-10")
    assert w.store.payout("P00001", "2026-10") == D("602.00")
    with pytest.raises(CloseError, match="latest committed close 2026-10") as refused:
        w.close.start(w.workflow, "2026-09", OLGA, False, LATER)
    assert refused.value.status == 409
    assert w.store.close_meta("2026-09") is None and w.store.payout("P00001", "2026-09") is None
    assert Ledger(w.store.ledger_entries(partner_id="P00001")).balances()["asset:bank"] == -D("602.00")


def test_a_later_close_under_way_or_failed_after_approval_blocks_earlier_periods() -> None:
    w = world()
    run_close(w, "2026-10", upto="pay-1")  # approved, one batch committed, then failed
    assert meta(w, "2026-10").status == S.FAILED
    with pytest.raises(CloseError, match="latest committed close 2026-10"):
        w.close.start(w.workflow, "2026-09", OLGA, False, LATER)
    run_close(w, "2026-10", rerun=True)  # its re-run counts as committed too
    with pytest.raises(CloseError, match="latest committed close 2026-10"):
        w.close.start(w.workflow, "2026-08", OLGA, False, LATER)


def test_closes_start_at_the_configured_first_period_and_run_in_order() -> None:
    w = world()
    w.store.rules.clear()
    w.store.put_rule_version(with_payouts(first_close_period="2026-08"), "rules/p.yaml")
    with pytest.raises(CloseError, match="before the first close period 2026-08"):
        w.close.start(w.workflow, "2026-07", OLGA, False, LATER)
    with pytest.raises(CloseError, match="close 2026-08 first"):
        w.close.start(w.workflow, "2026-09", OLGA, False, LATER)
    run_close(w, "2026-08")
    with pytest.raises(CloseError, match="close 2026-09 first"):
        w.close.start(w.workflow, "2026-10", OLGA, False, LATER)
    run_close(w, "2026-09")
    assert meta(w, "2026-09").status == S.PAID


def _commit_behind_the_order(w: World, period: str, payout: str) -> None:
    """A close line committed for a later period without any header (as data from before the
    order was enforced would be): the order check cannot see it, the books can."""
    line = CloseLine("P00001", period, f"close-{period}", name="Acme Systems", matured_total=D(payout))
    line.matured_now, line.payout, line.state = D(payout), D(payout), "paid"
    assert w.store.commit_close(line, ledger_entries(line), None)


def test_the_invariant_fails_the_run_before_any_commit_whatever_the_order() -> None:
    w = world()
    _commit_behind_the_order(w, "2026-10", "600.00")
    run = w.close.start(w.workflow, "2026-08", OLGA, False, LATER).run
    w.close.freeze("2026-08", run)
    manifest = w.close.plan("2026-08", run).manifest
    with pytest.raises(CloseError, match="payout invariant broken for P00001") as broken:
        w.close.review("2026-08", run, w.batches(manifest)[0])
    assert "exceeds the total matured 600.00" in str(broken.value)
    w.close.outcome("2026-08", run, "CloseError", str(broken.value))
    assert meta(w).status == S.FAILED
    [alert] = w.finance.of_type("close_failed")
    assert alert.message["period"] == "2026-08" and "invariant" in alert.message["reason"]
    assert w.store.close_lines("2026-08", PARTNERS) == {}


def test_pay_checks_the_books_again_and_commits_nothing_of_a_batch_that_breaks_them() -> None:
    w = world()
    run_close(w, "2026-08", upto="approve", crash=False)
    [first, second] = w.batches(meta(w).manifest or "")
    _commit_behind_the_order(w, "2026-09", "600.00")  # after approval, before Pay
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    with pytest.raises(CloseError, match="payout invariant broken for P00001"):
        w.close.pay("2026-08", meta(w).run, first, decision)
    assert w.store.close_lines("2026-08", PARTNERS) == {}  # P00002 of the same batch neither
    assert w.close.pay("2026-08", meta(w).run, second, decision).committed == 1


# -- point 3: bank files are immutable; a re-run pays only what no bank file holds --------------
STEPS = ["freeze", "plan", "review", "propose", "request", "approve", "pay-1", "pay", "bank", "statements"]


@pytest.mark.parametrize("upto", STEPS)
def test_a_crash_after_any_step_and_a_re_run_pay_every_partner_exactly_once(upto: str) -> None:
    w = world()
    writes: Counter[str] = Counter()
    put = w.blobs.put

    def spy(key: str, body: bytes, content_type: str) -> None:
        writes[key] += 1
        put(key, body, content_type)

    w.blobs.put = spy  # type: ignore[method-assign]
    run_close(w, "2026-08", upto=upto)
    committed_before = w.store.close_lines("2026-08", PARTNERS)
    rerun = run_close(w, "2026-08", rerun=True)
    assert meta(w).status == S.PAID and meta(w).run == rerun == "close-2026-08-r2"
    lines = w.store.close_lines("2026-08", PARTNERS)
    owed = Counter(
        (end_to_end_id("2026-08", p), f"{ln.payout:.2f}") for p, ln in lines.items() if ln.payout > 0
    )
    assert bank_payments(w, "2026-08") == owed  # each payee in exactly one bank file, once
    assert sum((D(a) for _, a in owed), D(0)) == D("660.00")
    bank = Ledger(w.store.ledger_entries(period="2026-08")).balances()["asset:bank"]
    assert bank == -D("660.00")
    assert all(n == 1 for k, n in writes.items() if k.startswith("payouts/")), writes
    proposal = json.loads(w.blobs.get(meta(w).proposal or ""))
    shown = proposal["already_committed"]
    assert shown["partners"] == len(committed_before)
    assert D(shown["payout"]) == sum((ln.payout for ln in committed_before.values()), D(0))
    assert D(proposal["totals"]["payout"]) + D(shown["payout"]) == D("660.00")


def test_a_re_run_after_the_bank_file_writes_no_new_file_and_a_retry_keeps_the_first() -> None:
    w = world()
    run_close(w, "2026-08", upto="bank")
    first = w.blobs.get("payouts/2026-08/close-2026-08/pain001.xml")
    manifest = meta(w).manifest or ""
    run_close(w, "2026-08", rerun=True)
    assert [k for k in w.blobs.keys("payouts/") if k.endswith(".xml")] == [
        "payouts/2026-08/close-2026-08/pain001.xml"
    ]
    assert meta(w).bank_files == [] and meta(w).paid_total == "0"
    assert w.blobs.get("payouts/2026-08/close-2026-08/pain001.xml") == first
    assert manifest  # the first run's files stay where they were written


def test_a_retried_bank_files_step_never_re_dates_or_rewrites_its_file() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)
    m = meta(w)
    w.bank.bank_files("2026-08", m.run, m.manifest or "", LATER)
    key = "payouts/2026-08/close-2026-08/pain001.xml"
    written = w.blobs.get(key)
    again = w.bank.bank_files("2026-08", m.run, m.manifest or "", LATER + dt.timedelta(days=3))
    assert w.blobs.get(key) == written and (again.payments, again.total) == (2, D("660.00"))
    assert f"<MsgId>{m.run}</MsgId>" in written.decode()
