"""The redemption service (an online operation: the CLI now, the portal's API later).

Each call reads the partner's head, lots, the reward and the stored redemption, plans with
`loyalty.points.redeem`, and commits the plan as one `PointsTx` on the head revision it read. A
failed commit means something changed in between (another redemption of the same partner, a
close, the last unit taken by another partner): the call reads again and plans again, so a
refusal is always decided on fresh state. Request ids make every call idempotent: the same id
again returns the stored redemption (`replayed`), whatever happened to it since.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loyalty.kernel.clock import iso_seconds
from loyalty.kernel.ports import Notifier
from loyalty.points.model import PointsHead, PointsTx, Posting, Redemption
from loyalty.points.ports import PointsStore
from loyalty.points.redeem import (
    UNKNOWN_REQUEST,
    Refusal,
    plan_cancel,
    plan_fulfil,
    plan_redeem,
    redeem_entry_id,
    replay,
)
from loyalty.program.ports import PartnerLookup, RuleSource, TierLookup
from loyalty.program.rules import RuleBook, RuleVersion

MAX_ATTEMPTS = 30
REQUEST_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


class Contention(RuntimeError):
    """Every attempt lost a race (the caller may retry with the same request id: idempotent)."""


@dataclass(frozen=True)
class RedeemResult:
    redemption: Redemption | None
    refusal: Refusal | None
    replayed: bool = False
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.redemption is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "replayed": self.replayed,
            "attempts": self.attempts,
            "redemption": self.redemption.to_json() if self.redemption else None,
            "refusal": self.refusal.to_json() if self.refusal else None,
        }


class Redemptions:
    def __init__(
        self,
        store: PointsStore,
        tier_of: Callable[[str], str],
        rules_of: Callable[[str], RuleVersion],
        clock: Callable[[], dt.datetime],
        notifier: Notifier | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        self.tier_of = tier_of
        self.rules_of = rules_of
        self.clock = clock
        self.notifier = notifier
        self.max_attempts = max_attempts

    # -- the three operations ---------------------------------------------------------------
    def redeem(self, partner_id: str, reward_id: str, request_id: str) -> RedeemResult:
        if not REQUEST_RE.match(request_id):
            raise ValueError("a request id is 1 to 128 printable characters")
        for attempt in range(1, self.max_attempts + 1):
            stored = self.store.redemption(partner_id, request_id)
            if stored is not None:
                return _replayed(replay(stored, partner_id, reward_id), attempt)
            at = iso_seconds(self.clock())
            rules = self.rules_of(partner_id)
            tier_rank = {t.name: i for i, t in enumerate(rules.tiers)}
            plan = plan_redeem(
                partner_id,
                self.store.reward(reward_id),
                request_id,
                self.store.points_head(partner_id),
                self.store.lots(partner_id),
                self.tier_of(partner_id),
                tier_rank,
                self.store.limit_used(partner_id, reward_id, at[:7]),
                at,
                rules.points.liability_eur_per_point,
                reward_id=reward_id,
            )
            if isinstance(plan, Refusal):
                return RedeemResult(None, plan, False, attempt)
            if self.store.commit_points(plan):
                assert plan.redemption is not None
                self._notify(plan.redemption, plan.head)
                return RedeemResult(plan.redemption, None, False, attempt)
            _backoff(attempt)
        raise Contention(f"redemption {request_id} of {partner_id}: {self.max_attempts} attempts lost a race")

    def cancel(self, partner_id: str, request_id: str, actor: str, reason: str) -> RedeemResult:
        """Cancel a pending redemption (re-credits its lots); cancelling it again is a replay."""
        if not reason.strip():
            raise ValueError("a reason is required to cancel a redemption")
        return self._change(
            partner_id,
            request_id,
            "cancelled",
            lambda stored, head, posting, at: plan_cancel(
                stored, head, self.store.lots(partner_id), posting, at, actor, reason
            ),
        )

    def fulfil(self, partner_id: str, request_id: str, actor: str) -> RedeemResult:
        """Mark a pending redemption delivered; fulfilling it again is a replay."""
        return self._change(
            partner_id,
            request_id,
            "fulfilled",
            lambda stored, head, posting, at: plan_fulfil(stored, head, posting, at, actor),
        )

    def fulfilment_rows(self, period: str) -> list[Redemption]:
        """Every redemption requested in the period (any state): what operations deliver."""
        return self.store.redemptions(period)

    # -- helpers ----------------------------------------------------------------------------
    def _change(
        self,
        partner_id: str,
        request_id: str,
        done_state: str,
        plan: Callable[[Redemption, PointsHead, Posting | None, str], PointsTx | Refusal],
    ) -> RedeemResult:
        for attempt in range(1, self.max_attempts + 1):
            stored = self.store.redemption(partner_id, request_id)
            if stored is None:
                msg = f"no redemption {request_id!r} of partner {partner_id}"
                return RedeemResult(None, Refusal(UNKNOWN_REQUEST, msg), False, attempt)
            if stored.state == done_state:
                return RedeemResult(stored, None, True, attempt)
            head = self.store.points_head(partner_id) or PointsHead(partner_id)
            tx = plan(stored, head, self._redeem_posting(stored), iso_seconds(self.clock()))
            if isinstance(tx, Refusal):
                return RedeemResult(None, tx, False, attempt)
            if self.store.commit_points(tx):
                return RedeemResult(tx.redemption, None, False, attempt)
            _backoff(attempt)
        raise Contention(f"{request_id} of {partner_id}: {self.max_attempts} attempts lost a race")

    def _redeem_posting(self, stored: Redemption) -> Posting | None:
        eid = redeem_entry_id(stored.partner_id, stored.request_id)
        got = self.store.points_postings(partner_id=stored.partner_id)
        return next((p for p in got if p.entry_id == eid), None)

    def _notify(self, r: Redemption, head: PointsHead) -> None:
        if self.notifier is None:
            return
        self.notifier.publish(
            f"Reward {r.reward_name} redeemed",
            {
                "type": "reward_redeemed",
                "partner_id": r.partner_id,
                "request_id": r.request_id,
                "reward_id": r.reward_id,
                "reward_name": r.reward_name,
                "points": r.points,
                "state": r.state,
                "balance": head.balance,
                "requested_at": r.requested_at,
            },
            {"type": "reward_redeemed", "partner": r.partner_id},
        )


class ProgramView(PartnerLookup, TierLookup, RuleSource, Protocol):
    """What redemption reads of the program: the partner, its tier of the month, the rules."""


def from_program(
    store: PointsStore,
    program: ProgramView,
    clock: Callable[[], dt.datetime],
    notifier: Notifier | None = None,
) -> Redemptions:
    """The service with the partner's tier of the current month (the entry tier before its first
    review) and the rule version in effect for it today (pilots apply)."""

    def rules_of(partner_id: str) -> RuleVersion:
        partner = program.get_partner(partner_id)
        if partner is None:
            raise LookupError(f"unknown partner {partner_id!r}")
        return RuleBook(program.rule_versions()).in_effect(clock().date(), partner.cohort, partner.segment)

    def tier_of(partner_id: str) -> str:
        return program.tier_for(partner_id, clock().date().isoformat()[:7]) or rules_of(partner_id).entry_tier

    return Redemptions(store, tier_of, rules_of, clock, notifier)


def _replayed(got: Redemption | Refusal, attempt: int) -> RedeemResult:
    if isinstance(got, Refusal):
        return RedeemResult(None, got, False, attempt)
    return RedeemResult(got, None, True, attempt)


def _backoff(attempt: int) -> None:
    """A short, jittered pause before planning again (spreads racing callers apart)."""
    time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
