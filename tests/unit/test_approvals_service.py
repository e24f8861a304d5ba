"""Finance's side of the close on the in-memory adapters: roles, maker-checker, decisions and
the hourly sweep."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from loyalty.close.approvals import Due, due
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller

from tests.unit.test_close_service import FRANK, NOW, OLGA, World, meta, shown, to_approval, world

S = CloseStatus
H = dt.timedelta(hours=1)


def awaiting() -> tuple[World, str]:
    w = world()
    run, _ = to_approval(w)
    return w, run


def test_only_finance_decides_and_only_finance_or_operators_read() -> None:
    w, _ = awaiting()
    with pytest.raises(CloseError, match="finance role") as operator:
        w.approvals.approve(OLGA, "2026-08", "", (), NOW, **shown(w))
    with pytest.raises(CloseError, match="neither") as stranger:
        w.approvals.closes(Caller("eve", frozenset({"sales-rep"})))
    assert (operator.value.status, stranger.value.status) == (403, 403)
    assert [m.period for m in w.approvals.pending(OLGA)] == ["2026-08"]


def test_who_started_a_run_may_not_approve_it() -> None:
    w = world()
    alice = Caller("alice", frozenset({OPERATOR}))
    to_approval(w, caller=alice)
    with pytest.raises(CloseError, match="maker-checker") as refused:
        w.approvals.approve(Caller("alice", frozenset({FINANCE})), "2026-08", "mine", (), NOW, **shown(w))
    assert refused.value.status == 403 and meta(w).status == S.AWAITING_APPROVAL
    assert w.workflow.succeeded == []


def test_approve_hands_the_decision_to_the_workflow_once() -> None:
    w, run = awaiting()
    result = w.approvals.approve(FRANK, "2026-08", "checked", ["P00003", "P00001", "P00003"], NOW, **shown(w))
    assert result.to_json() == {
        "period": "2026-08",
        "run": run,
        "status": "approved",
        "approved_by": "frank",
        "approved_at": "2026-09-01T02:00:00Z",
        "comment": "checked",
        "exclude": ["P00001", "P00003"],
    }
    decision = {
        "approved_by": "frank",
        "approved_at": "2026-09-01T02:00:00Z",
        "comment": "checked",
        "exclude": ["P00001", "P00003"],
    }
    assert w.workflow.succeeded == [(f"token-{run}", decision)]
    assert meta(w).status == S.APPROVED and w.store.close_token("2026-08") is None
    [entry] = [e for e in w.store.audit_log("2026-08") if e.action == "approved"]
    assert (entry.actor, entry.detail) == (
        "frank",
        {
            "run": run,
            "digest": meta(w).proposal_digest,
            "approved_at": "2026-09-01T02:00:00Z",
            "comment": "checked",
            "exclude": ["P00001", "P00003"],
            "approval": "1 of 1",
        },
    )
    with pytest.raises(CloseError, match="is approved by frank, not awaiting approval") as other:
        w.approvals.approve(FRANK, "2026-08", "again", (), NOW, **shown(w))  # another decision
    assert other.value.status == 409 and len(w.workflow.succeeded) == 1


def test_exclusions_must_be_partner_ids() -> None:
    w, _ = awaiting()
    with pytest.raises(CloseError, match="not partner ids: bad id!") as bad:
        w.approvals.approve(FRANK, "2026-08", "", ["P00001", "bad id!"], NOW, **shown(w))
    assert bad.value.status == 400 and meta(w).status == S.AWAITING_APPROVAL


def test_exclusions_must_be_partners_of_the_registry() -> None:
    w, _ = awaiting()
    with pytest.raises(CloseError, match="unknown partners, nothing was approved: P0001") as unknown:
        w.approvals.approve(FRANK, "2026-08", "hold Acme", ["P0001"], NOW, **shown(w))  # a typo of P00001
    assert unknown.value.status == 400 and meta(w).status == S.AWAITING_APPROVAL
    assert w.workflow.succeeded == [] and w.store.close_token("2026-08") is not None


def test_reject_needs_a_reason_and_fails_the_callback() -> None:
    w, run = awaiting()
    with pytest.raises(CloseError, match="needs a comment") as empty:
        w.approvals.reject(FRANK, "2026-08", "  ")
    assert empty.value.status == 400
    rejected = w.approvals.reject(FRANK, "2026-08", "volumes look wrong")
    assert rejected.to_json() == {
        "period": "2026-08",
        "run": run,
        "status": "rejected",
        "rejected_by": "frank",
        "comment": "volumes look wrong",
    }
    assert w.workflow.failed == [
        (f"token-{run}", "Approval.Rejected", "rejected by frank: volumes look wrong")
    ]
    assert (meta(w).status, meta(w).rejected_by) == (S.REJECTED, "frank")


def test_show_gives_the_proposal_and_the_audit_but_never_the_token() -> None:
    w, run = awaiting()
    view = w.approvals.show(FRANK, "2026-08").to_json()
    assert view["status"] == "awaiting_approval" and view["proposal"]["totals"]["payout"] == "660.00"
    assert [a["action"] for a in view["audit"]] == ["close started", "approval requested"]
    assert f"token-{run}" not in json.dumps(view) and "has_token" not in view
    with pytest.raises(CloseError, match="no close for 2026-05") as missing:
        w.approvals.show(FRANK, "2026-05")
    assert missing.value.status == 404
    assert [m.to_json()["status"] for m in w.approvals.closes(FRANK)] == ["awaiting_approval"]


def test_the_sweep_rule_times_out_then_reminds_then_heartbeats() -> None:
    w, _ = awaiting()
    header = meta(w)
    assert header.requested_at == "2026-09-01T02:00:00Z"
    rules = (24 * H, 72 * H)
    assert due(header, NOW + H, *rules) is Due.HEARTBEAT
    assert due(header, NOW + 25 * H, *rules) is Due.REMIND
    header.reminded_at = "2026-09-02T03:00:00Z"
    assert due(header, NOW + 26 * H, *rules) is Due.HEARTBEAT
    assert due(header, NOW + 72 * H, *rules) is Due.TIMEOUT


def test_the_sweep_heartbeats_reminds_once_and_times_out() -> None:
    w, run = awaiting()
    token = f"token-{run}"
    assert w.approvals.sweep(NOW + H).to_json() == {
        "reminded": [],
        "timed_out": [],
        "heartbeats": 1,
        "redelivered": [],
    }
    assert w.approvals.sweep(NOW + 25 * H).reminded == ["2026-08"]
    assert w.approvals.sweep(NOW + 26 * H).reminded == []
    [reminder] = w.finance.of_type("approval_reminder")
    assert reminder.message["auto_reject_at"] == "2026-09-04T02:00:00Z"
    assert w.workflow.heartbeats == [token] * 3
    swept = w.approvals.sweep(NOW + 73 * H)
    assert (swept.timed_out, swept.heartbeats) == (["2026-08"], 0)
    assert w.workflow.failed == [(token, "Approval.TimedOut", "no finance decision within 3 days, 0:00:00")]
    assert (meta(w).status, meta(w).rejected_by) == (S.TIMED_OUT, "system")
    assert w.store.audit_log("2026-08")[-1].action == "approval timed out"
    assert w.approvals.sweep(NOW + 74 * H).to_json() == {
        "reminded": [],
        "timed_out": [],
        "heartbeats": 0,
        "redelivered": [],
    }


def test_a_failed_approval_callback_is_recorded_and_the_sweep_delivers_it() -> None:
    w, run = awaiting()
    w.workflow.broken = 1  # the callback does not reach Step Functions
    with pytest.raises(ConnectionError):
        w.approvals.approve(FRANK, "2026-08", "checked", ["P00001"], NOW, **shown(w))
    assert meta(w).status == S.APPROVED and w.store.close_token("2026-08") == f"token-{run}"
    assert w.workflow.succeeded == []
    swept = w.approvals.sweep(NOW + H)
    assert swept.redelivered == ["2026-08"] and swept.heartbeats == 0
    decision = {
        "approved_by": "frank",
        "approved_at": "2026-09-01T02:00:00Z",
        "comment": "checked",
        "exclude": ["P00001"],
    }
    assert w.workflow.succeeded == [(f"token-{run}", decision)]
    assert w.store.close_token("2026-08") is None
    assert w.store.audit_log("2026-08")[-1].action == "decision delivered again"
    assert w.approvals.sweep(NOW + 2 * H).redelivered == []  # once


def test_a_failed_rejection_callback_is_delivered_by_the_sweep() -> None:
    w, run = awaiting()
    w.workflow.broken = 1
    with pytest.raises(ConnectionError):
        w.approvals.reject(FRANK, "2026-08", "numbers look off")
    assert meta(w).status == S.REJECTED and w.workflow.failed == []
    assert w.approvals.sweep(NOW + H).redelivered == ["2026-08"]
    assert w.workflow.failed == [(f"token-{run}", "Approval.Rejected", "rejected by frank: numbers look off")]


def test_a_decision_the_workflow_already_has_only_drops_the_token() -> None:
    w, run = awaiting()
    w.approvals.approve(FRANK, "2026-08", "ok", (), NOW, **shown(w))
    assert w.store.close_token("2026-08") is None and len(w.workflow.succeeded) == 1
    # a crash between the callback and dropping the token: the token is still stored
    m = meta(w)
    w.store.save_close_meta(m, expect=(S.APPROVED,), expect_run=run, token=f"token-{run}")
    assert w.approvals.sweep(NOW + H).redelivered == ["2026-08"]
    assert len(w.workflow.succeeded) == 1 and w.store.close_token("2026-08") is None
