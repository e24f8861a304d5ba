"""In-memory adapter of `loyalty.incentives.ports.RecruitNets` (the overrides' read of recruits'
month nets), held to `adapters.dynamo.recruits` by tests/contract/test_recruit_nets.py."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from loyalty.adapters.memory.earning import MemorySales


class MemoryRecruits(MemorySales):
    def month_nets(self, partner_ids: Sequence[str], month: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for p in dict.fromkeys(partner_ids):
            it = self.months.get(p, {}).get(month)
            if it is not None:
                out[p] = it.net
        return out
