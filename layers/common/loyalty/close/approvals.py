"""Finance's side of the close: list, inspect, approve or reject; the hourly sweep."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum

from loyalty.close.approval_rules import (
    APPROVED_ACTION,
    Approval,
    approvals_required,
    check_approver,
    check_joins_quorum,
    check_shown,
    recorded_approvals,
    require_finance,
    require_operator,
    require_reader,
    verify_for_payment,
)
from loyalty.close.header import CloseMeta, Decision
from loyalty.close.notices import approval_reminder
from loyalty.close.ports import ApprovalStore, CallbackGone, Workflow
from loyalty.close.results import Approved, AwaitingSecond, CloseView, Rejected, Sweep
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.kernel.clock import iso_seconds, parse_seconds
from loyalty.kernel.identity import Caller, same_person
from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore, Notifier

AWAITING = CloseStatus.AWAITING_APPROVAL
DECIDED = frozenset({CloseStatus.APPROVED, CloseStatus.REJECTED, CloseStatus.TIMED_OUT})
# above this payout total (EUR) two different finance people must approve (setting DUAL_APPROVAL_EUR)
DUAL_APPROVAL_EUR = Decimal(100_000)
__all__ = [
    "ApprovalService",
    "Due",
    "check_approver",
    "decision_of",
    "due",
    "require_finance",
    "require_operator",
    "verify_for_payment",
]


class Due(Enum):
    """What the hourly sweep owes a run that awaits finance."""

    TIMEOUT = "timeout"  # no decision in time: reject it
    REMIND = "remind"  # heartbeat and remind finance (once)
    HEARTBEAT = "heartbeat"  # keep the callback alive


def _not_awaiting(meta: CloseMeta) -> CloseError:
    """A request about a close that is not waiting for a decision (or not this one): 409."""
    who = meta.approved_by or meta.rejected_by
    decided = f"{meta.status} by {who}" if who and meta.status not in {AWAITING} else str(meta.status)
    return CloseError(f"the close of {meta.period} is {decided}, not awaiting approval: nothing was changed")


def decision_of(meta: CloseMeta) -> Decision:
    """The approval a header records (what the approval callback hands to the pay batches)."""
    return Decision(
        meta.approved_by or "", meta.approved_at or "", meta.comment or "", tuple(meta.exclude or ())
    )


def due(meta: CloseMeta, now: dt.datetime, reminder: dt.timedelta, timeout: dt.timedelta) -> Due:
    age = now - parse_seconds(meta.requested_at or "")
    if age >= timeout:
        return Due.TIMEOUT
    if age >= reminder and not meta.reminded_at:
        return Due.REMIND
    return Due.HEARTBEAT


class ApprovalService:
    """Finance's side: list, inspect, approve (optionally excluding partners) or reject; and the
    hourly sweep that heartbeats pending callbacks, reminds after 24 h and rejects after 72 h."""

    def __init__(
        self,
        store: ApprovalStore,
        blobs: BlobStore,
        finance: Notifier,
        workflow: Workflow,
        reminder: dt.timedelta,
        timeout: dt.timedelta,
        dual_above_eur: Decimal = DUAL_APPROVAL_EUR,
    ) -> None:
        self.dual_above_eur = dual_above_eur
        self.store = store
        self.blobs = blobs
        self.finance = finance
        self.workflow = workflow
        self.reminder = reminder
        self.timeout = timeout

    def pending(self, caller: Caller) -> list[CloseMeta]:
        require_reader(caller)
        return [m for m in self.store.list_closes() if m.status == AWAITING]

    def closes(self, caller: Caller) -> list[CloseMeta]:
        require_reader(caller)
        return self.store.list_closes()

    def show(self, caller: Caller, period: str) -> CloseView:
        require_reader(caller)
        meta = self.store.close_meta(check_period(period))
        if meta is None:
            raise CloseError(f"no close for {period}", 404)
        proposal = json.loads(self.blobs.get(meta.proposal)) if meta.proposal else None
        return CloseView(meta, proposal, self.store.audit_log(period))

    def _header(self, period: str) -> CloseMeta:
        meta = self.store.close_meta(check_period(period))
        if meta is None:
            raise CloseError(f"no close for {period}", 404)
        return meta

    def _token(self, meta: CloseMeta) -> str:
        token = self.store.close_token(meta.period)
        if not token:
            raise CloseError(f"the close of {meta.period} has no pending approval", 409)
        return token

    def _decide(self, meta: CloseMeta, status: CloseStatus) -> None:
        """Record the decision; the callback token stays until the decision has reached the
        workflow (`_deliver`), so a callback that fails is delivered again by the sweep."""
        meta.status = status
        if not self.store.save_close_meta(meta, expect=(AWAITING,), expect_run=meta.run):
            raise CloseError(f"the close of {meta.period} was decided concurrently", 409)

    def _deliver(self, meta: CloseMeta, token: str) -> None:
        """Hand the recorded decision to the workflow, then drop the token. A token the workflow
        no longer waits for (delivered before, timed out) is simply dropped."""
        try:
            if meta.status == CloseStatus.APPROVED:
                self.workflow.succeed(token, decision_of(meta).to_json())
            elif meta.status == CloseStatus.REJECTED:
                self.workflow.fail(
                    token, "Approval.Rejected", f"rejected by {meta.rejected_by}: {meta.comment}"
                )
            else:
                self.workflow.fail(token, "Approval.TimedOut", f"no finance decision within {self.timeout}")
        except CallbackGone:
            pass
        self.store.save_close_meta(meta, expect=(meta.status,), expect_run=meta.run, clear_token=True)

    def approve(
        self,
        caller: Caller,
        period: str,
        comment: str,
        exclude: Sequence[str],
        now: dt.datetime,
        run: str,
        digest: str,
    ) -> Approved | AwaitingSecond:
        """One finance person's approval of the run and proposal they were shown. Above the
        configured payout total it takes two different people: the first is recorded (pending
        the second), the second completes it; only then is the workflow told. Repeating one's
        own approval (an API retry) answers what is recorded and changes nothing."""
        require_finance(caller)
        meta = self._header(period)
        new = Approval(caller.user, iso_seconds(now), run, digest, comment, tuple(sorted(set(exclude))))
        if meta.status != AWAITING:
            return self._approved_already(meta, new)
        token = self._token(meta)
        check_shown(meta, run, digest)
        check_approver(caller, meta, exclude)
        unknown = sorted(p for p in set(exclude) if self.store.get_partner(p) is None)
        if unknown:  # a typo would pay the partner finance meant to hold back
            raise CloseError(f"unknown partners, nothing was approved: {', '.join(unknown)}", 400)
        recorded = recorded_approvals(meta)
        required = meta.approvals_required or approvals_required(meta, self.dual_above_eur)
        if not check_joins_quorum(new, recorded):
            return AwaitingSecond(period, meta.run, caller.user, len(recorded), required)
        approvals = [*recorded, new]
        meta.approvals, meta.approvals_required = [a.to_json() for a in approvals], required
        if len(approvals) < required:
            # conditional on the approvals it read: two first approvals at once, one is recorded
            # and the other is told to look again (never one silently overwriting the other)
            if not self.store.save_close_meta(
                meta, expect=(AWAITING,), expect_run=meta.run, expect_approvals=len(recorded)
            ):
                raise CloseError(
                    f"the close of {period} was approved or decided concurrently: look at it again", 409
                )
            self._audit_approval(meta, new, len(approvals), required)
            return AwaitingSecond(period, meta.run, caller.user, len(approvals), required)
        decision = Decision(", ".join(a.by for a in approvals), new.at, comment, new.exclude)
        meta.approved_by, meta.approved_at = decision.approved_by, decision.approved_at
        meta.comment, meta.exclude = comment, list(decision.exclude)
        self._decide(meta, CloseStatus.APPROVED)
        self._audit_approval(meta, new, len(approvals), required)
        self._deliver(meta, token)
        return Approved(period, meta.run, decision)

    def _audit_approval(self, meta: CloseMeta, a: Approval, n: int, required: int) -> None:
        """Every approval is its own immutable audit entry: what Pay verifies the run against."""
        detail = {
            "run": meta.run,
            "digest": a.digest,
            "approved_at": a.at,
            "comment": a.comment,
            "exclude": list(a.exclude),
            "approval": f"{n} of {required}",
        }
        self.store.audit(meta.period, a.by, APPROVED_ACTION, detail)

    def _approved_already(self, meta: CloseMeta, new: Approval) -> Approved:
        """A decided close: the same approval again by one of its approvers (an API retry) gets
        the recorded decision (its callback delivered again only if the token is still held);
        anything else is refused, with what was decided."""
        mine = [a for a in recorded_approvals(meta) if a.same_decision(new)]
        if meta.status not in {CloseStatus.APPROVED, CloseStatus.PAYING, CloseStatus.PAID} or not mine:
            raise _not_awaiting(meta)
        self._audited(meta, mine[0])
        if meta.has_token:
            token = self.store.close_token(meta.period)
            if token:
                self._deliver(meta, token)
        return Approved(meta.period, meta.run, decision_of(meta))

    def _audited(self, meta: CloseMeta, mine: Approval) -> None:
        """A crash between recording a decision and auditing it leaves an approval Pay would not
        accept (it verifies against the audit trail): the approver's retry writes the entry."""
        entries = self.store.audit_log(meta.period)
        if any(
            e.action == APPROVED_ACTION and e.detail.get("run") == meta.run and same_person(e.actor, mine.by)
            for e in entries
        ):
            return
        recorded = recorded_approvals(meta)
        n = next(i for i, a in enumerate(recorded, 1) if same_person(a.by, mine.by))
        self._audit_approval(meta, mine, n, meta.approvals_required or len(recorded))

    def reject(self, caller: Caller, period: str, comment: str, run: str | None = None) -> Rejected:
        """Any finance person rejects the run (a reject by either of two approvers rejects it).
        Repeating one's own rejection answers the recorded one and changes nothing."""
        require_finance(caller)
        if not comment.strip():
            raise CloseError("a rejection needs a comment saying why", 400)
        meta = self._header(period)
        if run is not None and run != meta.run:
            raise CloseError(f"you were shown run {run}, but the close of {period} is run {meta.run}", 409)
        if meta.status == CloseStatus.REJECTED and same_person(meta.rejected_by or "", caller.user):
            if meta.has_token and (token := self.store.close_token(period)):
                self._deliver(meta, token)
            return Rejected(period, meta.run, meta.rejected_by or "", meta.comment or "")
        if meta.status != AWAITING:
            raise _not_awaiting(meta)
        token = self._token(meta)
        meta.rejected_by, meta.comment = caller.user, comment
        self._decide(meta, CloseStatus.REJECTED)
        self.store.audit(period, caller.user, "rejected", {"run": meta.run, "comment": comment})
        self._deliver(meta, token)
        return Rejected(period, meta.run, caller.user, comment)

    def sweep(self, now: dt.datetime) -> Sweep:
        reminded: list[str] = []
        expired: list[str] = []
        redelivered: list[str] = []
        beats = 0
        for meta in self.store.list_closes():
            if meta.status in DECIDED and meta.has_token:  # its callback failed: deliver it again
                redelivered += [meta.period] if self._redeliver(meta) else []
                continue
            token = (
                self.store.close_token(meta.period) if meta.status == AWAITING and meta.requested_at else None
            )
            if not token:
                continue
            todo = due(meta, now, self.reminder, self.timeout)
            if todo is Due.TIMEOUT:
                expired += [meta.period] if self._time_out(meta, token) else []
                continue
            self.workflow.heartbeat(token)
            beats += 1
            if todo is Due.REMIND:
                self._remind(meta, now)
                reminded.append(meta.period)
        return Sweep(reminded, expired, beats, redelivered)

    def _redeliver(self, meta: CloseMeta) -> bool:
        """A decision is recorded but its callback never reached the workflow (it failed after
        the decision was saved): deliver it now, so the close does not wait for its time-out."""
        token = self.store.close_token(meta.period)
        if not token:
            return False
        self._deliver(meta, token)
        self.store.audit(meta.period, "system", "decision delivered again", {"run": meta.run})
        return True

    def _time_out(self, meta: CloseMeta, token: str) -> bool:
        meta.rejected_by, meta.comment = "system", f"no decision within {self.timeout}"
        meta.status = CloseStatus.TIMED_OUT
        if not self.store.save_close_meta(meta, expect=(AWAITING,), expect_run=meta.run):
            return False
        self.store.audit(
            meta.period, "system", "approval timed out", {"run": meta.run, "after": str(self.timeout)}
        )
        self._deliver(meta, token)
        return True

    def _remind(self, meta: CloseMeta, now: dt.datetime) -> None:
        meta.reminded_at = iso_seconds(now)
        self.store.save_close_meta(meta, expect=(AWAITING,), expect_run=meta.run)
        self.store.audit(meta.period, "system", "reminder sent", {"run": meta.run})
        approval_reminder(meta, self.timeout).send(self.finance)
