"""What the incentive sources read besides the partner's own period (adapters implement these)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol


class RecruitNets(Protocol):
    """Month net sales of other partners (a sponsor's recruits), in one batched read."""

    def month_nets(self, partner_ids: Sequence[str], month: str) -> dict[str, Decimal]:
        """Net EUR of each partner's month aggregate of `month` (YYYY-MM); a partner with no
        aggregate for that month has no entry."""
        ...
