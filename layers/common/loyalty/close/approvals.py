"""Finance's side of the close: list, inspect, approve or reject; the hourly sweep."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from enum import Enum

from loyalty.close.header import CloseMeta, Decision
from loyalty.close.notices import approval_reminder
from loyalty.close.ports import ApprovalStore, CallbackGone, Workflow
from loyalty.close.results import Approved, CloseView, Rejected, Sweep
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.kernel.clock import iso_seconds, parse_seconds
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
from loyalty.kernel.ids import PARTNER_ID_RE
from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore, Notifier

AWAITING = CloseStatus.AWAITING_APPROVAL
DECIDED = frozenset({CloseStatus.APPROVED, CloseStatus.REJECTED, CloseStatus.TIMED_OUT})


class Due(Enum):
    """What the hourly sweep owes a run that awaits finance."""

    TIMEOUT = "timeout"  # no decision in time: reject it
    REMIND = "remind"  # heartbeat and remind finance (once)
    HEARTBEAT = "heartbeat"  # keep the callback alive


def require_finance(caller: Caller) -> None:
    if FINANCE not in caller.roles:
        raise CloseError(f"{caller.user} does not hold the finance role", 403)


def require_reader(caller: Caller) -> None:
    if not caller.roles & {FINANCE, OPERATOR}:
        raise CloseError(f"{caller.user} holds neither the finance nor the operator role", 403)


def check_approver(caller: Caller, meta: CloseMeta, exclude: Sequence[str]) -> None:
    """Maker-checker: who started a run may not approve it; exclusions must be partner ids."""
    if caller.user == meta.started_by:
        raise CloseError(f"{caller.user} started this run and may not approve it (maker-checker)", 403)
    bad = [p for p in exclude if not PARTNER_ID_RE.match(p)]
    if bad:
        raise CloseError(f"not partner ids: {', '.join(bad)}", 400)


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
    ) -> None:
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

    def _awaiting(self, period: str) -> tuple[CloseMeta, str]:
        meta = self.store.close_meta(check_period(period))
        if meta is None:
            raise CloseError(f"no close for {period}", 404)
        if meta.status != AWAITING:
            raise CloseError(f"the close of {period} is {meta.status}, not awaiting approval", 409)
        token = self.store.close_token(period)
        if not token:
            raise CloseError(f"the close of {period} has no pending approval", 409)
        return meta, token

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
        self, caller: Caller, period: str, comment: str, exclude: Sequence[str], now: dt.datetime
    ) -> Approved:
        require_finance(caller)
        meta, token = self._awaiting(period)
        check_approver(caller, meta, exclude)
        unknown = sorted(p for p in set(exclude) if self.store.get_partner(p) is None)
        if unknown:  # a typo would pay the partner finance meant to hold back
            raise CloseError(f"unknown partners, nothing was approved: {', '.join(unknown)}", 400)
        decision = Decision(caller.user, iso_seconds(now), comment, tuple(sorted(set(exclude))))
        meta.approved_by, meta.approved_at = decision.approved_by, decision.approved_at
        meta.comment, meta.exclude = comment, list(decision.exclude)
        self._decide(meta, CloseStatus.APPROVED)
        self.store.audit(
            period,
            caller.user,
            "approved",
            {"run": meta.run, "comment": comment, "exclude": list(decision.exclude)},
        )
        self._deliver(meta, token)
        return Approved(period, meta.run, decision)

    def reject(self, caller: Caller, period: str, comment: str) -> Rejected:
        require_finance(caller)
        if not comment.strip():
            raise CloseError("a rejection needs a comment saying why", 400)
        meta, token = self._awaiting(period)
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
