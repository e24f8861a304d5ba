"""What is paid is what finance approved (issue 9, points 2 and 16b): the proposal's digest and
bank snapshot, fail-closed Pay and BankFiles, the cooling-off of changed bank details and the
first-payout anomaly, on the in-memory adapters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from loyalty.close.bankfiles import Debtor, pain001_errors
from loyalty.close.bankrun import BankFileService
from loyalty.close.batches import PaymentRow, part_key
from loyalty.close.header import Decision
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.earning.records import MonthDelta

from tests.unit.test_close_money import LATER, run_close, with_payouts
from tests.unit.test_close_service import FRANK, OLGA, PARTNERS, World, meta, partner, shown, world

D = Decimal
S = CloseStatus
NEW_IBAN = "GB33BUKB20201555555555"


def proposal(w: World, period: str = "2026-08") -> dict[str, object]:
    data: dict[str, object] = json.loads(w.blobs.get(meta(w, period).proposal or ""))
    return data


def anomalies(w: World, period: str = "2026-08") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in proposal(w, period)["anomalies"]:  # type: ignore[attr-defined]
        out.setdefault(a["partner_id"], []).append(a["anomaly"])
    return out


def new_bank_details(w: World, since: str = "") -> None:
    """P00001's IBAN changes in the registry (loaded again), optionally as of `since`."""
    w.store.put_partners([partner("P00001", "Acme Systems", NEW_IBAN, "BUKBGB22")])
    if since:
        item = w.store.partners["P00001"]
        w.store.partners["P00001"] = dataclasses.replace(item, bank_since=since)


def fail_bank_files(w: World, match: str) -> None:
    m = meta(w)
    with pytest.raises(CloseError, match=match):
        w.bank.bank_files("2026-08", m.run, m.manifest or "", LATER)
    w.close.outcome("2026-08", m.run, "CloseError", match)
    assert w.blobs.keys("payouts/") == [] and meta(w).status == S.FAILED
    assert w.finance.of_type("close_failed")[-1].message["run"] == m.run


# -- the proposal's digest and bank snapshot ----------------------------------------------------
def test_the_proposal_carries_its_digest_and_payees_bank_snapshots_masked() -> None:
    w = world()
    run_close(w, "2026-08", upto="request", crash=False)
    digest = meta(w).proposal_digest
    assert len(digest) == 64 and proposal(w)["digest"] == digest
    [first, _] = w.batches(meta(w).manifest or "")
    snaps = json.loads(w.blobs.get(part_key(first, "bank")))
    assert [(s["partner_id"], s["iban_mask"], s["bic"]) for s in snaps] == [
        ("P00001", "DE89 **** 3000", "COBADEFFXXX"),
        ("P00002", "FR14 **** 2606", ""),
    ]
    assert all("DE89370400440532013000" not in json.dumps(s) for s in snaps)  # never the plain IBAN
    assert "DE89370400440532013000" not in json.dumps(proposal(w))


def test_a_registry_change_after_the_proposal_does_not_redirect_the_money() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)
    new_bank_details(w)  # between approval and the bank file
    m = meta(w)
    w.bank.bank_files("2026-08", m.run, m.manifest or "", LATER)
    xml = w.blobs.get(f"payouts/2026-08/{m.run}/pain001.xml").decode()
    assert "DE89370400440532013000" in xml and NEW_IBAN not in xml


def test_a_review_file_changed_after_approval_pays_nothing() -> None:
    w = world()
    run_close(w, "2026-08", upto="approve", crash=False)
    [first, _] = w.batches(meta(w).manifest or "")
    lines = json.loads(w.blobs.get(part_key(first, "review")))
    lines[0]["payout"] = "60000.00"
    w.blobs.put(part_key(first, "review"), json.dumps(lines).encode(), "application/json")
    decision = Decision.from_json(w.workflow.succeeded[-1][1])
    with pytest.raises(CloseError, match="changed after the proposal"):
        w.close.pay("2026-08", meta(w).run, first, decision)
    assert w.store.close_lines("2026-08", PARTNERS) == {}


def test_rewritten_digests_do_not_match_the_approved_proposal() -> None:
    w = world()
    run_close(w, "2026-08", upto="approve", crash=False)
    key = f"close/2026-08/{meta(w).run}/digests.json"
    w.blobs.put(key, w.blobs.get(key).replace(b'"sha256": "', b'"sha256": "0'), "application/json")
    [first, _] = w.batches(meta(w).manifest or "")
    with pytest.raises(CloseError, match="do not match the approved proposal"):
        w.close.pay("2026-08", meta(w).run, first, Decision.from_json(w.workflow.succeeded[-1][1]))


def test_a_swapped_bank_snapshot_writes_no_file_and_fails_the_run() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)
    [first, _] = w.batches(meta(w).manifest or "")
    snaps = json.loads(w.blobs.get(part_key(first, "bank")))
    snaps[0]["iban_enc"] = snaps[1]["iban_enc"]
    w.blobs.put(part_key(first, "bank"), json.dumps(snaps).encode(), "application/json")
    fail_bank_files(w, "changed after the proposal")


def test_a_payment_not_approved_writes_no_file_and_fails_the_run() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)
    [first, _] = w.batches(meta(w).manifest or "")
    key = part_key(first, "pay")
    rows = json.loads(w.blobs.get(key))
    rows.append(PaymentRow("P00003", "Gamma Trade", D("100.00"), meta(w).run).to_json())
    w.blobs.put(key, json.dumps(rows).encode(), "application/json")
    fail_bank_files(w, "differ from the approved ones")


def test_a_committed_payee_without_an_iban_fails_closed_instead_of_an_empty_iban() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay")  # committed, no bank file, run failed
    w.store.put_partners([partner("P00002", "Beta IT", tier="Silver")])  # IBAN removed
    w.close.start(w.workflow, "2026-08", OLGA, True, LATER)
    m = meta(w)
    run_close_steps_to_bank(w)
    fail_bank_files(w, r"no IBAN for \['P00002'\]")
    assert m.run == "close-2026-08-r2"


def run_close_steps_to_bank(w: World) -> None:
    m = meta(w)
    period, run = "2026-08", m.run
    w.close.freeze(period, run)
    manifest = w.close.plan(period, run).manifest
    for b in w.batches(manifest):
        w.close.review(period, run, b)
    w.close.propose(period, run, manifest)
    w.close.request_approval(period, run, f"token-{run}", LATER)
    w.approvals.approve(FRANK, period, "ok", (), LATER, **shown(w, period))
    for b in w.batches(manifest):
        w.close.pay(period, run, b, Decision.from_json(w.workflow.succeeded[-1][1]))


# -- changed bank details: an anomaly with a cooling-off ---------------------------------------
def _second_month(w: World) -> None:
    """P00001 earns EUR 150 more on Aug 5 (a later upload): it matures by September's close."""
    delta = MonthDelta(D("5000"), D("150.00"), 1, 0, {5: D("150.00")}, set())
    w.store.apply_month_delta("P00001", "2026-08", "late-upload", delta)


def test_changed_bank_details_are_held_through_the_cooling_off_then_paid() -> None:
    w = world()
    w.store.rules.clear()
    w.store.put_rule_version(with_payouts(bank_change_cooling_days=10), "rules/p.yaml")
    run_close(w, "2026-08")
    assert w.store.payout("P00001", "2026-08") == D("600.00")
    _second_month(w)
    new_bank_details(w, since="2026-09-25T10:00:00Z")  # 10 days end on 10-05: after Sep 30
    run_close(w, "2026-09")
    held = w.store.close_lines("2026-09", ["P00001"])["P00001"]
    assert (held.payout, held.carried_out) == (D("0"), D("152.00"))
    assert held.payout_reason == "held: bank details changed on 2026-09-25; cooling-off until 2026-10-05"
    [why] = anomalies(w, "2026-09")["P00001"]
    assert "bank details changed on 2026-09-25 (now GB33 **** 5555)" in why
    run_close(w, "2026-10")  # the cooling-off ended before Oct 31: paid, still shown
    paid = w.store.close_lines("2026-10", ["P00001"])["P00001"]
    assert paid.payout == D("152.00") and paid.carried_in == D("152.00")
    assert "cooling-off passed" in anomalies(w, "2026-10")["P00001"][0]
    xml = w.blobs.get("payouts/2026-10/close-2026-10/pain001.xml").decode()
    assert NEW_IBAN in xml


def test_unchanged_bank_details_loaded_again_are_no_anomaly() -> None:
    w = world()
    run_close(w, "2026-08")
    _second_month(w)
    w.store.put_partners([partner("P00001", "Acme Systems", "DE89370400440532013000", "COBADEFFXXX")])
    run_close(w, "2026-09")
    assert "P00001" not in anomalies(w, "2026-09")


# -- 16b: a first-ever payout above the threshold -----------------------------------------------
def test_a_first_ever_payout_above_the_threshold_is_an_anomaly() -> None:
    w = world()
    w.store.rules.clear()
    w.store.put_rule_version(with_payouts(first_payout_review_eur=D("500")), "rules/p.yaml")
    run_close(w, "2026-08")
    assert anomalies(w)["P00001"] == ["first-ever payout EUR 600.00 is above the EUR 500 review threshold"]
    assert "P00002" not in anomalies(w)  # EUR 60: below
    _second_month(w)
    w.store.put_rule_version(with_payouts(first_payout_review_eur=D("1"), version="2026.1-b"), "rules/b.yaml")
    run_close(w, "2026-09")
    assert "P00001" not in anomalies(w, "2026-09")  # paid before: not a first payout


# -- 20: the program account and the execution date ---------------------------------------------
def test_an_empty_debtor_iban_writes_no_file_and_says_why() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)
    m = meta(w)
    unset = BankFileService(w.store, w.blobs, Debtor("Program", "", ""))
    with pytest.raises(CloseError, match=r"DEBTOR_IBAN \(empty\)"):
        unset.bank_files("2026-08", m.run, m.manifest or "", LATER)
    assert w.blobs.keys("payouts/") == []


def test_the_requested_execution_date_is_the_day_the_file_is_written() -> None:
    w = world()
    run_close(w, "2026-08", upto="pay", crash=False)  # approved on LATER's day
    m = meta(w)
    written = LATER + dt.timedelta(days=5)
    w.bank.bank_files("2026-08", m.run, m.manifest or "", written)
    xml = w.blobs.get(f"payouts/2026-08/{m.run}/pain001.xml").decode()
    assert f"<ReqdExctnDt><Dt>{written.date()}</Dt></ReqdExctnDt>" in xml
    assert pain001_errors(xml.encode()) == []


def test_a_line_that_does_not_add_up_writes_no_file() -> None:
    """Even with a digest that matches (a review written wrongly before Propose), BankFiles
    re-checks payout = carried in + matured now - carried out for every line."""
    w = world()
    run = run_close(w, "2026-08", upto="review", crash=False)
    manifest = f"close/2026-08/{run}/manifest.json"
    [first, _] = w.batches(manifest)
    lines = json.loads(w.blobs.get(part_key(first, "review")))
    lines[1]["carried_out"] = "10.00"  # P00002: 60 paid and 10 carried out of 60
    w.blobs.put(part_key(first, "review"), json.dumps(lines).encode(), "application/json")
    m = meta(w)
    w.close.propose("2026-08", m.run, manifest)
    w.close.request_approval("2026-08", m.run, "t", LATER)
    w.approvals.approve(FRANK, "2026-08", "ok", (), LATER, **shown(w))
    with pytest.raises(CloseError, match="payout invariant broken for P00002"):
        w.close.pay("2026-08", m.run, first, Decision.from_json(w.workflow.succeeded[-1][1]))
    fail_bank_files(w, "do not add up")
