"""Close runs: the status of a close, execution names, errors, and the pure rules that decide
what a start, a re-run or a failed step may do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from loyalty.kernel.identity import OPERATOR, Caller
from loyalty.kernel.periods import previous_period


class CloseStatus(StrEnum):
    """Where the close of a period stands (the `state` attribute of its header item)."""

    STARTED = "started"
    FROZEN = "frozen"
    PROPOSED = "proposed"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    PAYING = "paying"
    PAID = "paid"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


FINISHED = CloseStatus.PAID
RERUNNABLE = frozenset({CloseStatus.REJECTED, CloseStatus.TIMED_OUT, CloseStatus.FAILED})
ACTIVE = frozenset(
    {
        CloseStatus.STARTED,
        CloseStatus.FROZEN,
        CloseStatus.PROPOSED,
        CloseStatus.AWAITING_APPROVAL,
        CloseStatus.APPROVED,
        CloseStatus.PAYING,
    }
)
# Step Functions error names -> how the run ended (anything else is a failure)
_ENDINGS = {
    "Approval.Rejected": CloseStatus.REJECTED,
    "Approval.TimedOut": CloseStatus.TIMED_OUT,
    "States.Timeout": CloseStatus.TIMED_OUT,
}


class CloseError(Exception):
    """A refusal with a reason the caller can act on (HTTP 4xx, CLI message)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def run_name(period: str, attempt: int) -> str:
    """Execution name from the period: a second start of the same attempt is a no-op."""
    return f"close-{period}" if attempt <= 1 else f"close-{period}-r{attempt}"


def _prefix(period: str, run: str) -> str:
    return f"close/{period}/{run}/"


def check_may_start(period: str, caller: Caller, now: dt.datetime) -> None:
    """The schedule or an operator may start the close of a month that is over (finance checks
    closes, it never makes one: maker-checker)."""
    if caller.user != "schedule" and OPERATOR not in caller.roles:
        raise CloseError(f"{caller.user} may not start a close (needs the operator role)", 403)
    if period >= f"{now.year:04d}-{now.month:02d}":
        raise CloseError(
            f"{period} is not over yet; a period can be closed from the 1st of the next month", 400
        )


def starts_new_attempt(period: str, status: CloseStatus | None, rerun: bool) -> bool:
    """False: the close is finished or under way (report it, start nothing). True: start a new
    attempt (no close yet, or a rejected/timed-out/failed one with `rerun`)."""
    if status is not None and (status == FINISHED or status in ACTIVE):
        return False
    if status in RERUNNABLE and not rerun:
        raise CloseError(
            f"the close of {period} ended {status}; start it again with --rerun (a new attempt)", 409
        )
    return True


def unclosed_predecessor(period: str, closes: Mapping[str, CloseStatus]) -> str | None:
    """Closes run in order (balances carry from one to the next): once any earlier period was
    closed, the previous month must be paid before this one. Returns the month to close first."""
    prev = previous_period(period)
    if any(p < period for p in closes) and closes.get(prev) != FINISHED:
        return prev
    return None


@dataclass(frozen=True)
class CloseState:
    """What the order of closes needs to know of an existing close: its status, and whether any
    of its runs may have committed payouts (approved once, even if that run failed later)."""

    status: CloseStatus
    committed: bool


COMMITTING = frozenset({CloseStatus.APPROVED, CloseStatus.PAYING, CloseStatus.PAID})


def out_of_order(period: str, closes: Mapping[str, CloseState], first: str | None) -> CloseError | None:
    """Closes run strictly in order from the first close period: a period before `first`, or at
    or before a later close that committed payouts or is under way, is refused (its commission
    was, or is being, released by that later close: closing it now would pay it again); after the
    first close, each period needs its predecessor paid. None: the period may be closed now."""
    if first and period < first:
        return CloseError(
            f"{period} is before the first close period {first} (rules payouts.first_close_period); "
            "it is never closed",
            409,
        )
    later = sorted(p for p, c in closes.items() if p > period and (c.committed or c.status in ACTIVE))
    if later:
        latest = later[-1]
        return CloseError(
            f"{period} is at or before the latest committed close {latest} "
            f"({closes[latest].status}): closes run strictly in order, so an earlier period can no "
            "longer be closed (its matured commission was released by the later close)",
            409,
        )
    if first and period > first and not any(p < period for p in closes):
        return CloseError(f"close {first} first: closes start at the first close period {first}", 409)
    prev = unclosed_predecessor(period, {p: c.status for p, c in closes.items()})
    if prev is not None:
        return CloseError(f"close {prev} first: closes run in order (balances carry from one to the next)")
    return None


def ending(error: str) -> CloseStatus:
    """How a run that did not pay ended, from the Step Functions error."""
    return _ENDINGS.get(error, CloseStatus.FAILED)
