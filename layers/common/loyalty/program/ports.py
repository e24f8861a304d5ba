"""Ports of the program context: partners, tiers of a month, rule versions, FX rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion
from loyalty.program.targets import TargetSet


class PartnerLookup(Protocol):
    def get_partner(self, partner_id: str) -> Partner | None: ...


class PartnerDirectory(PartnerLookup, Protocol):
    def put_partners(self, partners: Sequence[Partner]) -> None: ...
    def list_partners(self) -> Iterator[Partner]: ...


class TierLookup(Protocol):
    def tier_for(self, partner_id: str, month: str) -> str | None: ...


class TierBook(TierLookup, Protocol):
    def put_tier(self, partner_id: str, month: str, tier: str, reason: str) -> None: ...


class RuleSource(Protocol):
    def rule_versions(self) -> list[RuleVersion]: ...


class RuleStore(RuleSource, Protocol):
    def put_rule_version(self, rules: RuleVersion, source: str) -> bool: ...


class FxSource(Protocol):
    def fx_rates(self) -> Iterable[tuple[dt.date, str, Decimal]]: ...


class FxStore(FxSource, Protocol):
    def put_fx_rates(self, rates: Sequence[tuple[Any, str, Decimal]]) -> None: ...


class ProductLookup(Protocol):
    def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        """sku -> category of the product master, for the SKUs it knows."""
        ...


class ProductStore(ProductLookup, Protocol):
    def put_products(self, products: Mapping[str, str]) -> None: ...


class TargetSource(Protocol):
    def target_sets(self) -> list[TargetSet]:
        """Every stored version of the target book, in (effective_from, version) order."""
        ...


class TargetStore(TargetSource, Protocol):
    def put_target_set(self, ts: TargetSet, source: str) -> bool:
        """Store a version: True if new, False if this very version is stored already; a
        version stored with other content (or another effective date) raises ValueError."""
        ...


class ProgramStore(PartnerDirectory, TierBook, RuleStore, FxStore, ProductStore, TargetStore, Protocol):
    """What configuration loads write."""


class SimulationStarter(Protocol):
    def start(self, job: str, spec: Mapping[str, str]) -> bool:
        """Start the what-if simulation `job` (spec: rules_key, targets_key, start, end; empty
        start and end = the last three closed months). True if started now, False if this job
        was started before (the execution name comes from the job: a second start is a no-op)."""
        ...
