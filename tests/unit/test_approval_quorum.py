"""Issue 9, points 4, 5 and 6: two different approvers above the configured payout total; the
approval names the run and proposal digest finance was shown; a retried decision is idempotent;
Pay verifies the approval record before it commits anything."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from loyalty.close.approval_rules import verify_for_payment
from loyalty.close.approvals import ApprovalService
from loyalty.close.header import Decision
from loyalty.close.runs import CloseError, CloseStatus

from tests.unit.test_close_service import (
    FIONA,
    FRANK,
    NOW,
    World,
    meta,
    pay_out,
    shown,
    to_approval,
    world,
)

S = CloseStatus


def dual(w: World, above: str = "100") -> ApprovalService:
    """The approvals with a low dual-approval threshold (the proposal pays EUR 660)."""
    a = w.approvals
    return ApprovalService(a.store, a.blobs, a.finance, a.workflow, a.reminder, a.timeout, Decimal(above))


def test_above_the_threshold_two_different_approvers_are_needed() -> None:
    w = world()
    run, manifest = to_approval(w)
    first = dual(w).approve(FIONA, "2026-08", "looks right", ["P00003"], NOW, **shown(w))
    assert first.to_json() == {
        "period": "2026-08",
        "run": run,
        "status": "pending_second",
        "approved_by": "fiona",
        "approvals": 1,
        "required": 2,
    }
    assert meta(w).status == S.AWAITING_APPROVAL and w.workflow.succeeded == []
    assert (
        dual(w).approve(FIONA, "2026-08", "again", ["P00003"], NOW, **shown(w)).to_json() == first.to_json()
    )
    with pytest.raises(CloseError, match="a second, different finance approver") as changed:
        dual(w).approve(FIONA, "2026-08", "", [], NOW, **shown(w))
    with pytest.raises(CloseError, match=r"fiona approved excluding \['P00003'\]") as other:
        dual(w).approve(FRANK, "2026-08", "", [], NOW, **shown(w))
    assert (changed.value.status, other.value.status) == (409, 409) and w.workflow.succeeded == []
    second = dual(w).approve(FRANK, "2026-08", "agreed", ["P00003"], NOW, **shown(w))
    assert second.to_json()["status"] == "approved" and second.decision.approved_by == "fiona, frank"
    assert [t for t, _ in w.workflow.succeeded] == [f"token-{run}"]
    audit = [(e.actor, e.detail["approval"]) for e in w.store.audit_log("2026-08") if e.action == "approved"]
    assert audit == [("fiona", "1 of 2"), ("frank", "2 of 2")]
    pay_out(w, run, manifest)
    assert meta(w).status == S.PAID


def test_at_or_below_the_threshold_one_approver_is_enough_and_a_reject_by_either_rejects() -> None:
    w = world()
    to_approval(w)
    assert (
        dual(w, "660.00").approve(FRANK, "2026-08", "", [], NOW, **shown(w)).to_json()["status"] == "approved"
    )
    w2 = world()
    run, _ = to_approval(w2)
    dual(w2).approve(FIONA, "2026-08", "fine by me", [], NOW, **shown(w2))
    dual(w2).reject(FRANK, "2026-08", "not by me")
    assert meta(w2).status == S.REJECTED and w2.workflow.succeeded == []
    assert w2.workflow.failed == [(f"token-{run}", "Approval.Rejected", "rejected by frank: not by me")]


def test_the_approval_names_the_run_and_the_proposal_it_was_shown() -> None:
    w = world()
    run, _ = to_approval(w)
    with pytest.raises(CloseError, match="you were shown run close-2026-08-r7") as stale_run:
        w.approvals.approve(
            FRANK, "2026-08", "", [], NOW, run="close-2026-08-r7", digest=meta(w).proposal_digest
        )
    with pytest.raises(CloseError, match="not the sha256:0bad you were shown") as stale_digest:
        w.approvals.approve(FRANK, "2026-08", "", [], NOW, run=run, digest="sha256:0bad")
    assert (stale_run.value.status, stale_digest.value.status) == (409, 409)
    assert meta(w).status == S.AWAITING_APPROVAL and w.workflow.succeeded == []
    assert not [e for e in w.store.audit_log("2026-08") if e.action == "approved"]


def test_a_retried_decision_is_idempotent_and_another_one_is_refused() -> None:
    w = world()
    to_approval(w)
    first = w.approvals.approve(FRANK, "2026-08", "checked", ["P00001"], NOW, **shown(w))
    retry = w.approvals.approve(
        FRANK, "2026-08", "checked", ["P00001"], NOW + dt.timedelta(seconds=5), **shown(w)
    )
    assert retry.to_json() == first.to_json() and len(w.workflow.succeeded) == 1
    with pytest.raises(CloseError, match="is approved by frank") as other_person:
        w.approvals.approve(FIONA, "2026-08", "checked", ["P00001"], NOW, **shown(w))
    with pytest.raises(CloseError, match="is approved by frank") as other_decision:
        w.approvals.reject(FRANK, "2026-08", "changed my mind")
    assert (other_person.value.status, other_decision.value.status) == (409, 409)
    assert len(w.workflow.succeeded) == 1 and w.workflow.failed == []
    w2 = world()
    to_approval(w2)
    rejected = w2.approvals.reject(FIONA, "2026-08", "volumes look wrong")
    assert w2.approvals.reject(FIONA, "2026-08", "volumes look wrong").to_json() == rejected.to_json()
    with pytest.raises(CloseError, match="is rejected by fiona"):
        w2.approvals.reject(FRANK, "2026-08", "me too")
    assert len(w2.workflow.failed) == 1


def test_a_retry_delivers_the_callback_only_while_the_token_is_held() -> None:
    w = world()
    run, _ = to_approval(w)
    w.workflow.broken = 1
    with pytest.raises(ConnectionError):
        w.approvals.approve(FRANK, "2026-08", "checked", [], NOW, **shown(w))
    assert w.store.close_token("2026-08") == f"token-{run}" and w.workflow.succeeded == []
    w.approvals.approve(FRANK, "2026-08", "checked", [], NOW, **shown(w))  # the API retry
    assert len(w.workflow.succeeded) == 1 and w.store.close_token("2026-08") is None
    w.approvals.approve(FRANK, "2026-08", "checked", [], NOW, **shown(w))
    assert len(w.workflow.succeeded) == 1


def test_a_crash_before_the_audit_entry_is_repaired_by_the_approvers_retry() -> None:
    """The decision was recorded but its audit entry (what Pay verifies) was not written: Pay
    refuses, and the approver's retry writes the entry; then Pay accepts."""
    w = world()
    run, manifest = to_approval(w)
    w.workflow.broken = 1
    with pytest.raises(ConnectionError):
        w.approvals.approve(FRANK, "2026-08", "checked", [], NOW, **shown(w))
    w.store.audits["2026-08"] = [e for e in w.store.audits["2026-08"] if '"approved"' not in e]
    with pytest.raises(CloseError, match="no finance approval is recorded"):
        verify_for_payment(meta(w), w.store.audit_log("2026-08"), NOW)
    w.approvals.approve(FRANK, "2026-08", "checked", [], NOW, **shown(w))
    [entry] = [e for e in w.store.audit_log("2026-08") if e.action == "approved"]
    assert (entry.actor, entry.detail["run"], entry.detail["approval"]) == ("frank", run, "1 of 1")
    pay_out(w, run, manifest)
    assert meta(w).status == S.PAID


def approved(w: World) -> tuple[str, str, Decision]:
    run, manifest = to_approval(w)
    w.approvals.approve(FRANK, "2026-08", "checked", ["P00003"], NOW, **shown(w))
    return run, manifest, Decision.from_json(w.workflow.succeeded[-1][1])


def test_pay_verifies_the_approval_record_and_commits_nothing_otherwise() -> None:
    w = world()
    run, manifest, decision = approved(w)
    header, audit = meta(w), w.store.audit_log("2026-08")
    verify_for_payment(header, audit, NOW, decision)  # the real record passes
    no_approval = [e for e in audit if e.action != "approved"]
    maker = [dataclasses.replace(e, actor="Olga") if e.action == "approved" else e for e in audit]
    cases = {
        "no finance approval is recorded": (header, no_approval, decision),
        "approved by the person who started it": (header, maker, decision),
        "needs 2 different approvers, has 1": (
            dataclasses.replace(header, approvals_required=2),
            audit,
            decision,
        ),
        "names another proposal": (
            dataclasses.replace(header, proposal_digest="sha256:other"),
            audit,
            decision,
        ),
        "exclusions handed to Pay are not": (header, audit, Decision("frank", "", "", ())),
        "not within its request": (
            dataclasses.replace(header, requested_at="2026-08-01T00:00:00Z"),
            audit,
            decision,
        ),
        "not approved: nothing is paid": (
            dataclasses.replace(header, status=S.AWAITING_APPROVAL),
            audit,
            decision,
        ),
    }
    for reason, (h, a, d) in cases.items():
        with pytest.raises(CloseError, match=reason):
            verify_for_payment(h, a, NOW, d)
    with pytest.raises(CloseError, match="not within its request"):  # recorded in the future
        verify_for_payment(header, audit, NOW - dt.timedelta(hours=1), decision)
    # Pay itself refuses a decision nobody approved (a SendTaskSuccess from outside the API)
    forged = Decision("frank", "", "", ())
    with pytest.raises(CloseError, match="exclusions handed to Pay"):
        w.close.pay("2026-08", run, w.batches(manifest)[0], forged)
    assert w.store.close_lines("2026-08", ["P00001", "P00002", "P00003"]) == {}


def test_two_first_approvals_at_once_one_is_recorded_and_the_other_told_to_look_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fiona and Frank approve at the same moment, both reading a header with no approval: one is
    recorded, the other gets a 409 (before: the later write silently replaced the first approval
    on the header, and the close waited for an approval it had already had)."""
    w = world()
    to_approval(w)
    before, proposal = meta(w), shown(w)  # what Fiona's request read, before Frank's was saved
    dual(w).approve(FRANK, "2026-08", "checked", [], NOW, **proposal)
    reads = iter([before])
    real = w.store.close_meta
    monkeypatch.setattr(w.store, "close_meta", lambda period: next(reads, None) or real(period))
    with pytest.raises(CloseError, match="concurrently: look at it again") as late:
        dual(w).approve(FIONA, "2026-08", "checked", [], NOW, **proposal)
    assert late.value.status == 409
    header = meta(w)
    assert [a["by"] for a in header.approvals or []] == ["frank"] and w.workflow.succeeded == []
    done = dual(w).approve(FIONA, "2026-08", "checked", [], NOW, **shown(w))  # she looks again
    assert done.to_json()["status"] == "approved" and done.decision.approved_by == "frank, fiona"
    assert len(w.workflow.succeeded) == 1
