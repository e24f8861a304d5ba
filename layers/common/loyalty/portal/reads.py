"""What the portal reads of the other contexts (one store: `DynamoStore` / `MemoryStore`), and
the program facts every view starts from: the partner, its rules in effect, its tier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from loyalty.close.ports import PositionStore
from loyalty.earning.ports import BalanceStore
from loyalty.points.ports import PointsStore
from loyalty.portal.errors import PortalError
from loyalty.program.ports import TargetSource, TierLookup
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleBook, RuleVersion


class PortalStore(PositionStore, BalanceStore, PointsStore, TargetSource, TierLookup, Protocol):
    """The other contexts' ports the portal reads (and the points it redeems)."""


@dataclass(frozen=True)
class Standing:
    """A partner today: its registry row, the rules in effect for it, its tier this month."""

    partner: Partner
    rules: RuleVersion | None  # None before any rules are loaded
    tier: str
    month: str  # the current month (YYYY-MM)


def standing(store: PortalStore, partner_id: str, today: dt.date) -> Standing:
    partner = store.get_partner(partner_id)
    if partner is None:
        raise PortalError(404, f"no partner {partner_id}")
    book = RuleBook(store.rule_versions())
    rules: RuleVersion | None = None
    if book:
        try:
            rules = book.in_effect(today, partner.cohort or None, partner.segment)
        except LookupError:
            rules = None
    month = today.isoformat()[:7]
    tier = store.tier_for(partner_id, month) or partner.starting_tier or (rules.entry_tier if rules else "")
    return Standing(partner, rules, tier, month)
