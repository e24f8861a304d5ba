"""The pure rules of finance's decision: who may approve (maker-checker on the bound person), what
an approval must name (the run and the proposal digest finance was shown), how many different
approvers a payout total needs (the quorum), when a request repeats a recorded decision, and what
Pay verifies before it commits anything (`verify_for_payment`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalty.close.header import AuditEntry, CloseMeta, Decision
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.kernel.clock import parse_seconds
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller, same_person
from loyalty.kernel.ids import PARTNER_ID_RE

APPROVED_ACTION = "approved"  # the audit action of every finance approval (one per approver)
# the state machine's backstop on AwaitApproval (TimeoutSeconds 345 600): no approval is valid later
APPROVAL_MAX_AGE = dt.timedelta(seconds=345_600)
PAYABLE = frozenset({CloseStatus.APPROVED, CloseStatus.PAYING, CloseStatus.PAID})


def require_finance(caller: Caller) -> None:
    if FINANCE not in caller.roles:
        raise CloseError(f"{caller.user} does not hold the finance role", 403)


def require_reader(caller: Caller) -> None:
    if not caller.roles & {FINANCE, OPERATOR}:
        raise CloseError(f"{caller.user} holds neither the finance nor the operator role", 403)


def require_operator(caller: Caller) -> None:
    """Only the operator role starts closes (finance checks them: it never makes one)."""
    if OPERATOR not in caller.roles:
        raise CloseError(f"{caller.user} may not start a close (needs the operator role)", 403)


def check_approver(caller: Caller, meta: CloseMeta, exclude: Sequence[str]) -> None:
    """Maker-checker on the bound person: who started a run may not approve it, whatever role or
    spelling of the name they use; exclusions must be partner ids."""
    if same_person(caller.user, meta.started_by):
        raise CloseError(f"{caller.user} started this run and may not approve it (maker-checker)", 403)
    bad = [p for p in exclude if not PARTNER_ID_RE.match(p)]
    if bad:
        raise CloseError(f"not partner ids: {', '.join(bad)}", 400)


def check_shown(meta: CloseMeta, run: str, digest: str) -> None:
    """The approval names what finance was shown: the run and the proposal digest. Anything else
    is a decision about another proposal: nothing is decided."""
    if run != meta.run:
        raise CloseError(
            f"you were shown run {run or '(none)'}, but the close of {meta.period} is run {meta.run}:"
            f" look at it again (loyalty approvals show {meta.period}); nothing was decided",
            409,
        )
    if digest != meta.proposal_digest:
        raise CloseError(
            f"the proposal of {meta.run} is {meta.proposal_digest or '(no digest)'}, not the"
            f" {digest or '(no digest)'} you were shown: look at it again; nothing was decided",
            409,
        )


def payout_total(meta: CloseMeta) -> Decimal:
    raw = (meta.summary.totals if meta.summary else {}).get("payout", "0")
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise CloseError(f"the proposal of {meta.run} has no readable payout total ({raw!r})") from None


def approvals_required(meta: CloseMeta, dual_above_eur: Decimal) -> int:
    """Two different finance approvers above the configured payout total, otherwise one."""
    return 2 if payout_total(meta) > dual_above_eur else 1


@dataclass(frozen=True)
class Approval:
    """One finance person's approval of a run (the quorum may need two)."""

    by: str
    at: str
    run: str
    digest: str
    comment: str
    exclude: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "at": self.at,
            "run": self.run,
            "digest": self.digest,
            "comment": self.comment,
            "exclude": list(self.exclude),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Approval:
        return cls(
            str(d.get("by") or ""),
            str(d.get("at") or ""),
            str(d.get("run") or ""),
            str(d.get("digest") or ""),
            str(d.get("comment") or ""),
            tuple(sorted(d.get("exclude") or ())),
        )

    def same_decision(self, other: Approval) -> bool:
        """A repeat of this approval (an API retry): same person, run, proposal and exclusions."""
        return same_person(self.by, other.by) and (self.run, self.digest, self.exclude) == (
            other.run,
            other.digest,
            other.exclude,
        )


def recorded_approvals(meta: CloseMeta) -> list[Approval]:
    """The approvals the header holds for its run (a header written before quorums: its approver)."""
    if meta.approvals:
        return [a for a in map(Approval.from_json, meta.approvals) if a.run == meta.run]
    if meta.approved_by:
        exclude = tuple(sorted(meta.exclude or ()))
        return [
            Approval(meta.approved_by, meta.approved_at or "", meta.run, meta.proposal_digest, "", exclude)
        ]
    return []


def check_joins_quorum(new: Approval, recorded: Sequence[Approval]) -> bool:
    """Whether `new` adds to the recorded approvals (False: it repeats its approver's own, a retry).
    A second approver approves the same thing as the first (the same exclusions)."""
    for a in recorded:
        if same_person(a.by, new.by):
            if a.same_decision(new):
                return False
            raise CloseError(
                f"{new.by} approved this run already (excluding {list(a.exclude)}); a second,"
                " different finance approver is needed: nothing was changed",
                409,
            )
    if recorded and recorded[0].exclude != new.exclude:
        raise CloseError(
            f"{recorded[0].by} approved excluding {list(recorded[0].exclude)}: approve the same"
            " exclusions or reject the run; nothing was changed",
            409,
        )
    return True


def _approvals_of_run(meta: CloseMeta, decisions: Sequence[AuditEntry]) -> list[Approval]:
    out = []
    for e in decisions:
        if e.action == APPROVED_ACTION and e.detail.get("run") == meta.run:
            out.append(Approval.from_json({**e.detail, "by": e.actor, "at": e.detail.get("approved_at")}))
    return out


def _time(text: str | None) -> dt.datetime | None:
    try:
        return parse_seconds(text or "")
    except ValueError:
        return None


def _check_fresh(meta: CloseMeta, approvals: Sequence[Approval], now: dt.datetime | None) -> None:
    """Every approval was given while its request was open (after it, within the backstop) and
    not after `now` (a recorded time from the future is not an approval)."""
    requested = _time(meta.requested_at)
    if requested is None:
        raise CloseError(f"{meta.run} records no approval request: nothing is paid")
    latest = min(requested + APPROVAL_MAX_AGE, now) if now is not None else requested + APPROVAL_MAX_AGE
    for a in approvals:
        at = _time(a.at)
        if at is None or not requested <= at <= latest:
            raise CloseError(
                f"the approval of {meta.run} by {a.by} ({a.at or 'no time'}) is not within its"
                f" request ({meta.requested_at} + {APPROVAL_MAX_AGE}): expired, nothing is paid"
            )


def verify_for_payment(
    meta: CloseMeta,
    decisions: Sequence[AuditEntry],
    now: dt.datetime | None = None,
    decision: Decision | None = None,
) -> None:
    """Before Pay commits anything: the run is approved, by a quorum of different finance people
    none of whom started it, each naming the proposal digest the close holds and the same
    exclusions as the decision Pay was handed, within the approval window. Raises CloseError."""
    if meta.status not in PAYABLE:
        raise CloseError(f"the close of {meta.period} is {meta.status}, not approved: nothing is paid")
    approvals = _approvals_of_run(meta, decisions)
    if not approvals:
        raise CloseError(f"no finance approval is recorded for {meta.run}: nothing is paid")
    people = {a.by.strip().lower() for a in approvals}
    if any(same_person(a.by, meta.started_by) for a in approvals):
        raise CloseError(f"{meta.run} was approved by the person who started it: nothing is paid")
    if len(people) < (meta.approvals_required or 1):
        raise CloseError(
            f"{meta.run} needs {meta.approvals_required} different approvers, has {len(people)}:"
            " nothing is paid"
        )
    if any(a.digest != meta.proposal_digest for a in approvals):
        raise CloseError(f"an approval of {meta.run} names another proposal than it holds: nothing is paid")
    excluded = {a.exclude for a in approvals} | {tuple(sorted(meta.exclude or ()))}
    if decision is not None:
        excluded.add(tuple(sorted(decision.exclude)))
    if len(excluded) != 1:
        raise CloseError(f"the exclusions handed to Pay are not the ones finance approved for {meta.run}")
    _check_fresh(meta, approvals, now)
